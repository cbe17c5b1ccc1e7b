"""lag: end-to-end replication lag from a heartbeat written on the source and read on the target."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from typing import TextIO

from .db import DSN
from .errors import EXIT_OK, EXIT_WARNINGS
from .heartbeat import Heartbeat, Sample


@dataclass(frozen=True)
class LagOptions:
    interval: float = 1.0
    duration: float = 0.0  # 0: until interrupted
    max_lag: float | None = None
    json: bool = False


def _line(sample: Sample, max_lag: float | None) -> str:
    if sample.lag_seconds is None:
        state = "no heartbeat on the target yet (is the table in the task's mappings?)"
    else:
        over = max_lag is not None and sample.lag_seconds > max_lag
        state = f"lag {sample.lag_seconds:8.3f} s" + ("  ABOVE --max-lag" if over else "")
    target = "-" if sample.seq_target is None else str(sample.seq_target)
    return f"{sample.at}  source seq {sample.seq_source:>8}  target seq {target:>8}  {state}"


def run_lag(source: DSN, target: DSN, options: LagOptions, out: TextIO = sys.stdout) -> int:
    """Beat and sample until --duration ends (or Ctrl-C, which the caller turns into exit 130).

    Exit 0, or 1 when --max-lag is given and the last sample is above it (or has no heartbeat).
    """
    hb = Heartbeat(source, target)
    last: Sample | None = None
    started = time.monotonic()
    try:
        while True:
            tick = time.monotonic()
            hb.beat()
            # Sample just before the next beat: a beat the target lacks by then is one
            # interval old, the same resolution as pt-heartbeat.
            time.sleep(max(options.interval - (time.monotonic() - tick) - 0.01, 0.0))
            last = hb.sample()
            if options.json:
                out.write(json.dumps(last.as_dict()) + "\n")
            else:
                out.write(_line(last, options.max_lag) + "\n")
            out.flush()
            if options.duration and time.monotonic() - started >= options.duration:
                break
    finally:
        hb.close()
    if options.max_lag is not None and (last is None or last.lag_seconds is None or last.lag_seconds > options.max_lag):
        return EXIT_WARNINGS
    return EXIT_OK
