"""JSON logs: one object per line on stdout, with the request id of the request being served.

Kept apart from the metrics, so gunicorn's master can use the formatter without
loading prometheus_client before gunicorn_conf.py has set PROMETHEUS_MULTIPROC_DIR.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from flask import g, has_request_context

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message"}
# The JSON lines carry neither thread nor process names: skip looking them up per record.
logging.logThreads = False
logging.logProcesses = False
logging.logMultiprocessing = False


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id and extras.

    A record that carries its fields ready-made (`extra={"_fields": {...}}`, as the
    access log does) skips the scan of the record's attributes; the time's seconds
    part is formatted once per second.
    """

    _second = -1
    _prefix = ""

    def _time(self, created: float) -> str:
        second = int(created)
        if second != self._second:
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return f"{self._prefix}.{int((created - second) * 1000):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self._time(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context() and "request_id" in g:
            entry["request_id"] = g.request_id
        fields = record.__dict__.get("_fields")
        if fields is not None:
            entry.update(fields)
        else:
            for key, value in record.__dict__.items():
                if key not in _RESERVED and not key.startswith("_"):
                    entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Alembic reports its context on every readiness probe; keep only its warnings.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
