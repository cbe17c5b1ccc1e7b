"""Apply a set of file changes to a folder all at once, or not at all.

Every file is written to a temporary name beside it and renamed into place.
Before anything is touched, the bytes and modes of the files that will be
overwritten or deleted are kept; if any step fails, everything done so far is
rolled back, new files and folders included, and the error is re-raised.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from .errors import EngineError


@dataclass(frozen=True)
class Write:
    path: str
    content: bytes
    executable: bool = False


@dataclass(frozen=True)
class Delete:
    path: str


Operation = Write | Delete


def _target(root: Path, rel: str) -> Path:
    path = (root / rel).resolve()
    if not path.is_relative_to(root.resolve()):
        raise EngineError(f"refusing to write outside the repository: {rel}")
    return root / rel


def _write_atomic(path: Path, content: bytes, executable: bool) -> None:
    tmp = path.with_name(f".{path.name}.platformgen-tmp")
    with tmp.open("wb") as fh:
        fh.write(content)
        fh.flush()
        os.fsync(fh.fileno())
    mode = 0o755 if executable else 0o644
    tmp.chmod(mode)
    tmp.replace(path)


def apply_operations(root: Path, operations: list[Operation]) -> None:
    """Apply `operations` under `root` atomically with respect to errors."""
    saved: dict[Path, tuple[bytes, int] | None] = {}
    created_dirs: list[Path] = []
    done: list[Path] = []
    for op in operations:
        path = _target(root, op.path)
        if path.is_dir() and not path.is_symlink():
            raise EngineError(
                f"{op.path} is a folder in the repository, but a generated file goes there",
                "move the folder away, then run again",
            )
        if path.exists() or path.is_symlink():
            saved[path] = (path.read_bytes(), stat.S_IMODE(path.lstat().st_mode))
        else:
            saved[path] = None
    try:
        for op in operations:
            path = _target(root, op.path)
            if isinstance(op, Write):
                missing = []
                parent = path.parent
                while not parent.exists():
                    missing.append(parent)
                    parent = parent.parent
                for folder in reversed(missing):
                    folder.mkdir()
                    created_dirs.append(folder)
                done.append(path)
                _write_atomic(path, op.content, op.executable)
            else:
                done.append(path)
                if path.exists() or path.is_symlink():
                    path.unlink()
                _prune_empty(path.parent, root)
    except OSError as exc:
        _rollback(root, saved, done, created_dirs)
        where = exc.filename or (done[-1] if done else root)
        raise EngineError(
            f"cannot write {where}: {exc.strerror or exc}; every change was rolled back",
            "check the permissions and free space of the repository, then run again",
        ) from exc
    except BaseException:
        _rollback(root, saved, done, created_dirs)
        raise


def _prune_empty(folder: Path, root: Path) -> None:
    while folder != root and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def _rollback(
    root: Path,
    saved: dict[Path, tuple[bytes, int] | None],
    done: list[Path],
    created_dirs: list[Path],
) -> None:
    for path in reversed(done):
        tmp = path.with_name(f".{path.name}.platformgen-tmp")
        if tmp.exists():
            tmp.unlink()
        original = saved.get(path)
        if original is None:
            if path.exists() or path.is_symlink():
                path.unlink()
        else:
            content, mode = original
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
            path.chmod(mode)
    for folder in reversed(created_dirs):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
