"""Output paths (--checkpoint, --report, --journal): checked before a command does any work.

A path that cannot be written is refused up front with the flag's name and a fix, so a long
run never ends in a traceback that loses its result.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import DbkitError


def check_writable_file(path: Path, flag: str, *, replace: bool) -> None:
    """Raise DbkitError unless `path` is (or can be created as) a regular file this user can write.

    `replace`: the file is written whole, atomically (a temporary file in its folder, then a
    rename), so its folder must be writable; otherwise it is appended to in place. Nothing is
    created: folders are probed with a temporary file that is removed at once, so the check
    holds for whoever runs the command, root included.
    """
    fix = f"pass {flag} a file path in a folder you can write, e.g. {flag} runs/{path.name or 'out'}"
    if path.is_dir():
        raise DbkitError(f"{flag} {path} is a directory, not a file", fix)
    if path.exists() and not path.is_file():
        raise DbkitError(f"{flag} {path} is not a regular file", fix)
    if path.exists() and not replace:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND)  # no truncation: nothing is lost
        except OSError as exc:
            raise DbkitError(f"{flag} {path} cannot be written: {exc.strerror}", fix) from None
        os.close(fd)
        return
    folder = path.absolute().parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise DbkitError(f"{flag} {path}: {folder} is not a directory", fix)
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise DbkitError(f"{flag} {path}: cannot write in {folder}: {exc.strerror}", fix) from None


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` (mode 0600) atomically: a reader sees the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
