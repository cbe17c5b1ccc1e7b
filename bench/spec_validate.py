"""Validation benchmark: `platformgen validate` on adversarial and on huge valid specs.

For every shape in tests/support/pathological_yaml.py at 40 kB, 200 kB and 1 MB (the
size cap), it times load + validate in process, with libyaml and with PyYAML's
pure-Python fallback. It also times a schema-valid spec of almost 1 MB (200 apps with
many environment variables, every value scanned for secrets), and the whole
`platformgen validate` command (a fresh process) on the slowest 1 MB case of each kind.

Prints JSON and writes bench/results/spec_validate.json. Nothing is asserted: timings on
a shared 2-core machine are noisy.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from support.pathological_yaml import SHAPES, make  # noqa: E402

from generator.spec import load_spec_text  # noqa: E402
from generator.spec.yamlpos import MAX_BYTES, SpecLoadError, load_yaml_text  # noqa: E402

SIZES = (40_000, 200_000, MAX_BYTES)
REFERENCE = ROOT / "examples" / "getprospa" / "platform.yaml"


def huge_valid_spec(limit: int = MAX_BYTES) -> str:
    """The reference spec plus private workers with distinct env values, up to `limit`."""
    spec: dict[str, Any] = yaml.safe_load(REFERENCE.read_text())
    base = yaml.safe_dump(spec, sort_keys=False)
    apps = []
    size = len(base)
    i = 0
    while len(apps) < 190:
        env = {f"SETTING_{j:03d}": f"value-{i}-{j}-of-a-plain-setting" for j in range(100)}
        app = {"name": f"w{i:03d}", "kind": "worker", "env": env}
        piece = len(yaml.safe_dump([app]))
        if size + piece > limit - 200:
            break
        apps.append(app)
        size += piece
        i += 1
    spec["apps"].extend(apps)
    text = yaml.safe_dump(spec, sort_keys=False)
    assert len(text.encode()) <= limit
    return text


def timed(text: str, *, pure: bool) -> tuple[float, str]:
    start = time.perf_counter()
    if pure:
        try:
            load_yaml_text(text, pure=True)
            outcome = "loaded"
        except SpecLoadError as exc:
            outcome = f"{exc.position.line}:{exc.position.column} {exc.message}"
    else:
        result = load_spec_text(text, "bench.yaml")
        first = result.errors[0] if result.errors else None
        outcome = f"{first.line}:{first.column} {first.message}" if first else "valid"
    return time.perf_counter() - start, outcome


def cli(text: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "platform.yaml"
        spec.write_text(text, encoding="utf-8")
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "generator.cli", "validate", str(spec)],
            cwd=ROOT,
            capture_output=True,
            check=False,
        )
        return time.perf_counter() - start


def main() -> None:
    load_spec_text(REFERENCE.read_text())  # warm: schema compiled, detect-secrets imported
    rows = []
    for size in SIZES:
        for shape in SHAPES:
            text = make(shape, size)
            seconds, outcome = timed(text, pure=False)
            pure_seconds, _ = timed(text, pure=True)
            rows.append(
                {
                    "shape": shape,
                    "bytes": len(text.encode()),
                    "validate_s": round(seconds, 4),
                    "pure_python_load_s": round(pure_seconds, 4),
                    "outcome": outcome[:90],
                }
            )
    valid = huge_valid_spec()
    valid_seconds, valid_outcome = timed(valid, pure=False)
    worst = max((r for r in rows if r["bytes"] > SIZES[1]), key=lambda r: r["validate_s"])
    report = {
        "shapes": rows,
        "worst_adversarial_1mb": worst,
        "huge_valid_spec": {
            "bytes": len(valid.encode()),
            "validate_s": round(valid_seconds, 4),
            "outcome": valid_outcome[:90],
        },
        "cli_validate_s": {
            "reference": round(cli(REFERENCE.read_text()), 3),
            f"worst_adversarial_1mb ({worst['shape']})": round(
                cli(make(worst["shape"], MAX_BYTES)), 3
            ),
            "huge_valid_spec": round(cli(valid), 3),
        },
    }
    out = ROOT / "bench" / "results" / "spec_validate.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
