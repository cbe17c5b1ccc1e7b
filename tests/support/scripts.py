"""The developer tools in scripts/, loaded as modules so tests and benchmarks call them.

They are plain scripts (run as `python scripts/<name>.py`), outside the `generator`
package, so the wheel does not ship them (tests/test_wheel_contents.py).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"


@cache
def load_script(name: str) -> ModuleType:
    """scripts/<name>.py as a module (once per process)."""
    module_name = f"_platformgen_script_{name}"
    spec = importlib.util.spec_from_file_location(module_name, SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None, f"scripts/{name}.py is missing"
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def run_script(name: str, *args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """`python scripts/<name>.py ARGS` as a developer runs it."""
    return subprocess.run(
        [sys.executable, str(SCRIPTS / f"{name}.py"), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
