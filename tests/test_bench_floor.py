"""The render benchmark's jinja2 floor renders exactly what the engine renders.

`make bench` compares the engine with this floor and refuses to run when the two differ
(the ratio would compare different work). This test keeps the floor in step with the
templates, e.g. when a template starts using a copier feature such as `{% yield %}` in a
file name.
"""

from __future__ import annotations

import importlib.util
import sys
from contextlib import ExitStack
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_render", ROOT / "bench" / "render.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_floor_renders_the_same_files_as_the_engine() -> None:
    bench = load_bench()
    with ExitStack() as stack:
        templates = bench.bundled(stack)
        _, units = bench.spec_units(bench.REFERENCE, templates)
        engine = bench.engine_files(templates, units)
        floor = bench.Floor(templates).render(units)
    assert sorted(floor) == sorted(engine)
    different = [path for path in engine if floor[path] != engine[path]]
    assert not different, f"the floor renders these differently: {different[:10]}"
    assert any("/values-prod.yaml" in path for path in engine), "no yield-expanded file"
