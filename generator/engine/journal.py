"""The write journal: a render killed half-way is completed by the next command.

Before the first file of a render or update changes, `.platformgen-journal` is
written at the repository root: every operation with its new bytes, and the
original bytes and mode of every file it touches. It is written under a
temporary name, fsynced and renamed into place, so it exists whole or not at
all. Once every change is on disk it is removed. A killed process (SIGKILL,
OOM, power loss) leaves it behind, and the next platformgen command in the
repository (render, update, diff, check) finishes the write before it does
anything else: forward to the new state, or back to the old one when the
write was being rolled back (`.platformgen-journal-rollback` exists). See
docs/adr/0009-write-journal.md.

A command holds an exclusive `flock` on the repository folder while it reads
or writes it, so a journal is only ever completed by one process, and only
when the process that wrote it is gone (the kernel drops the lock of a dead
process).
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import EngineError

JOURNAL = ".platformgen-journal"
ROLLBACK_MARK = ".platformgen-journal-rollback"
_JOURNAL_TMP = ".platformgen-journal.tmp"
RESERVED = (JOURNAL, ROLLBACK_MARK, _JOURNAL_TMP)
_FORMAT = "platformgen-journal/1"
_TMP_SUFFIX = ".platformgen-tmp"


@dataclass(frozen=True)
class Entry:
    """One operation of a write, with what it replaces."""

    path: str
    content: bytes | None  # None: delete
    executable: bool
    original: bytes | None  # None: the file did not exist
    mode: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "content": _b64(self.content),
            "executable": self.executable,
            "original": _b64(self.original),
            "mode": self.mode,
        }

    @staticmethod
    def from_json(data: dict[str, Any]) -> Entry:
        return Entry(
            path=str(data["path"]),
            content=_unb64(data["content"]),
            executable=bool(data["executable"]),
            original=_unb64(data["original"]),
            mode=None if data["mode"] is None else int(data["mode"]),
        )


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def _unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text.encode("ascii"), validate=True)


def tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}{_TMP_SUFFIX}")


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- the lock ---------------------------------------------------------------------------------


def try_lock(folder: Path) -> int | None:
    """An exclusive flock on `folder`: its fd, or None when another process holds it."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise EngineError(f"cannot open {folder}: {exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


@contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold the repository's lock, or stop: another platformgen command is working in it."""
    fd = try_lock(folder)
    if fd is None:
        raise EngineError(
            f"another platformgen command is working in {folder}",
            "wait for it to finish, then run again",
        )
    try:
        yield
    finally:
        os.close(fd)


# --- writing a journal ------------------------------------------------------------------------


def write_journal(root: Path, entries: list[Entry], dirs: list[str]) -> None:
    """Write the journal whole, then arm it with an atomic rename."""
    payload = {
        "format": _FORMAT,
        "pid": os.getpid(),
        "entries": [e.to_json() for e in entries],
        "dirs": dirs,
    }
    tmp = root / _JOURNAL_TMP
    try:
        with tmp.open("wb") as fh:
            fh.write(json.dumps(payload).encode("ascii"))
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(root / JOURNAL)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(root)


def mark_rollback(root: Path) -> None:
    """From now on, the journal rolls back instead of forward."""
    with (root / ROLLBACK_MARK).open("wb") as fh:
        os.fsync(fh.fileno())
    fsync_dir(root)


def remove_journal(root: Path) -> None:
    (root / JOURNAL).unlink(missing_ok=True)
    fsync_dir(root)
    _remove_if_there(root / ROLLBACK_MARK)


def _remove_if_there(path: Path) -> None:
    if path.is_file() or path.is_symlink():
        path.unlink(missing_ok=True)


# --- applying entries (first run and recovery) ------------------------------------------------


def _state(path: Path) -> tuple[bytes, int] | None:
    if path.is_symlink() or not path.exists():
        return None
    return path.read_bytes(), stat.S_IMODE(path.stat().st_mode)


def _is_new(entry: Entry, state: tuple[bytes, int] | None) -> bool:
    if entry.content is None:
        return state is None
    return (
        state is not None
        and state[0] == entry.content
        and bool(state[1] & 0o100) == entry.executable
    )


def _is_original(entry: Entry, state: tuple[bytes, int] | None) -> bool:
    if entry.original is None:
        return state is None
    return state is not None and state == (entry.original, entry.mode)


def _write_file(path: Path, content: bytes, mode: int) -> None:
    """Write through a temporary file beside `path`, fsynced, then renamed into place."""
    tmp = tmp_name(path)
    with tmp.open("wb") as fh:
        fh.write(content)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.chmod(mode)
    tmp.replace(path)


def _make_parents(root: Path, path: Path) -> None:
    missing = []
    parent = path.parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    for folder in reversed(missing):
        folder.mkdir()


def _prune_empty(folder: Path, root: Path) -> None:
    while folder != root and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent


def roll_forward(root: Path, entries: list[Entry]) -> None:
    """Bring every entry to its new state; entries already there are left alone."""
    for entry in entries:
        path = root / entry.path
        if _is_new(entry, _state(path)):
            continue
        if entry.content is None:
            path.unlink()
            _prune_empty(path.parent, root)
        else:
            _make_parents(root, path)
            _write_file(path, entry.content, 0o755 if entry.executable else 0o644)
    _finish_files(root, entries)


def roll_back(root: Path, entries: list[Entry], dirs: list[str]) -> None:
    """Bring every entry back to its original state, and remove the folders the write made."""
    for entry in reversed(entries):
        path = root / entry.path
        _remove_if_there(tmp_name(path))
        if _is_original(entry, _state(path)):
            continue
        if entry.original is None:
            path.unlink()
        else:
            _make_parents(root, path)
            _write_file(path, entry.original, entry.mode if entry.mode is not None else 0o644)
    for rel in reversed(dirs):
        folder = root / rel
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    _finish_files(root, entries)


def _finish_files(root: Path, entries: list[Entry]) -> None:
    """Remove stray temporary files and make the renames and deletes durable."""
    folders: set[Path] = set()
    for entry in entries:
        path = root / entry.path
        _remove_if_there(tmp_name(path))
        parent = path.parent
        while parent != root and not parent.is_dir():
            parent = parent.parent
        folders.add(parent)
    for folder in sorted(folders):
        fsync_dir(folder)


# --- recovery ---------------------------------------------------------------------------------


def recover(root: Path) -> str | None:
    """Finish a write that a killed process left half done. The caller holds the lock.

    Returns what was done, for the user, or None when there was nothing to do.
    """
    _remove_if_there(root / _JOURNAL_TMP)  # killed before the journal was armed
    journal = root / JOURNAL
    if not journal.exists():
        _remove_if_there(root / ROLLBACK_MARK)
        return None
    try:
        payload = json.loads(journal.read_bytes())
        if payload.get("format") != _FORMAT:
            raise ValueError(f"unknown format {payload.get('format')!r}")
        entries = [Entry.from_json(e) for e in payload["entries"]]
        dirs = [str(d) for d in payload["dirs"]]
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise EngineError(
            f"{JOURNAL} (left by an interrupted platformgen write) is unreadable: {exc}",
            f"check the repository with git status and git diff, then delete {JOURNAL}",
        ) from None
    for entry in entries:
        if not (root / entry.path).resolve().is_relative_to(root.resolve()):
            raise EngineError(f"{JOURNAL} names a path outside the repository: {entry.path}")
    changed = [
        e.path
        for e in entries
        if not _is_new(e, state := _state(root / e.path)) and not _is_original(e, state)
    ]
    if changed:
        shown = ", ".join(changed[:5]) + (
            f" and {len(changed) - 5} more" if len(changed) > 5 else ""
        )
        raise EngineError(
            f"a platformgen write was interrupted here, and {shown} changed since, so it cannot "
            "be completed safely",
            f"restore those files (git checkout -- PATH) and run again; or keep the repository as "
            f"it is and delete {JOURNAL}",
        )
    backward = (root / ROLLBACK_MARK).exists()
    if backward:
        roll_back(root, entries, dirs)
    else:
        roll_forward(root, entries)
    remove_journal(root)
    if backward:
        return (
            f"an interrupted platformgen write was found ({JOURNAL}) and rolled back: "
            f"{len(entries)} file(s) are as they were before it"
        )
    return (
        f"an interrupted platformgen write was found ({JOURNAL}) and completed: "
        f"{len(entries)} file(s) now hold what it planned; review them with git diff"
    )
