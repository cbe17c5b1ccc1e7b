"""Run the platformgen CLI and SIGKILL it just before its Nth change under a folder.

    KILLPOINT_ROOT=/repo KILLPOINT_AT=7 python tests/support/killpoint.py render /repo

Every call that changes the file system under KILLPOINT_ROOT counts: opening a
file for writing, os.open with a write flag, rename/replace, unlink, mkdir,
rmdir and chmod. Just before the KILLPOINT_AT-th, the process sends itself
SIGKILL: no `finally`, no handler, exactly what the OOM killer or `kill -9`
does. With KILLPOINT_LOG=FILE each counted call is appended to FILE as
`N CALL PATH [TARGET]`, so a first run with KILLPOINT_AT=0 lists every kill
point. The wrapper patches the standard library, not platformgen, so it works
on any version of the engine.
"""

from __future__ import annotations

import builtins
import io
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

_ROOT = os.path.realpath(os.environ["KILLPOINT_ROOT"])
_KILL_AT = int(os.environ.get("KILLPOINT_AT", "0"))
_LOG = os.environ.get("KILLPOINT_LOG")
_count = 0
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _under_root(path: Any) -> str | None:
    if isinstance(path, int):
        return None
    try:
        real = os.path.realpath(os.fspath(path))
    except TypeError:
        return None
    return real if real == _ROOT or real.startswith(_ROOT + os.sep) else None


def _hit(call: str, path: Any, target: Any = None) -> None:
    global _count
    real = _under_root(path)
    if real is None and target is not None:
        real = _under_root(target)
    if real is None:
        return
    _count += 1
    if _LOG:
        with _real_open(_LOG, "a", encoding="utf-8") as fh:
            extra = f" {os.fspath(target)}" if target is not None else ""
            fh.write(f"{_count} {call} {real}{extra}\n")
    if _count == _KILL_AT:
        os.kill(os.getpid(), signal.SIGKILL)


_real_open = io.open


def _open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
    if any(c in mode for c in "wax+"):
        _hit("open", file)
    return _real_open(file, mode, *args, **kwargs)


def _wrap_os(name: str, has_target: bool = False) -> None:
    real: Callable[..., Any] = getattr(os, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if name == "open":
            flags = args[1] if len(args) > 1 else kwargs.get("flags", 0)
            if flags & _WRITE_FLAGS:
                _hit(name, args[0])
        elif has_target:
            _hit(name, args[0], args[1])
        else:
            _hit(name, args[0])
        return real(*args, **kwargs)

    setattr(os, name, wrapper)


def main() -> int:
    io.open = _open  # type: ignore[assignment]
    builtins.open = _open
    for name in ("unlink", "remove", "mkdir", "rmdir", "chmod", "open"):
        _wrap_os(name)
    for name in ("rename", "replace"):
        _wrap_os(name, has_target=True)
    from generator.cli import main as cli_main

    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
