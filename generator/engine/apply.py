"""Apply a set of file changes to a folder all at once, or not at all, even across a kill.

Before anything is touched, the bytes and modes of the files that will be
overwritten or deleted are read, and (in a repository) the journal
`.platformgen-journal` is written with them and the new contents (see
journal.py). Every file is then written to a temporary name beside it, fsynced
and renamed into place, in the plan's order (answers files last).

- An error or Ctrl-C mid-way: everything done so far is rolled back, new files
  and folders included, then the journal is removed and the error re-raised.
- A kill: the journal stays, and the next platformgen command completes it.
"""

from __future__ import annotations

import contextlib
import stat
from dataclasses import dataclass
from pathlib import Path

from .errors import EngineError
from .journal import (
    RESERVED,
    Entry,
    mark_rollback,
    remove_journal,
    roll_back,
    roll_forward,
    write_journal,
)


@dataclass(frozen=True)
class Write:
    path: str
    content: bytes
    executable: bool = False


@dataclass(frozen=True)
class Delete:
    path: str


Operation = Write | Delete


class WriteInterrupted(KeyboardInterrupt):
    """Ctrl-C during the write phase; `state` says what the repository holds now."""

    def __init__(self, state: str) -> None:
        super().__init__(state)
        self.state = state


def _target(root: Path, rel: str) -> Path:
    path = (root / rel).resolve()
    if not path.is_relative_to(root.resolve()):
        raise EngineError(f"refusing to write outside the repository: {rel}")
    if Path(rel).name in RESERVED:
        raise EngineError(f"refusing to write {rel}: the name is platformgen's write journal")
    return root / rel


def _entries(root: Path, operations: list[Operation]) -> tuple[list[Entry], list[str]]:
    """What each operation writes and what it replaces; the folders the write creates."""
    entries: list[Entry] = []
    created: list[str] = []
    for op in operations:
        path = _target(root, op.path)
        if path.is_dir() and not path.is_symlink():
            raise EngineError(
                f"{op.path} is a folder in the repository, but a generated file goes there",
                "move the folder away, then run again",
            )
        original: bytes | None = None
        mode: int | None = None
        if path.exists() or path.is_symlink():
            original, mode = path.read_bytes(), stat.S_IMODE(path.lstat().st_mode)
        if isinstance(op, Write):
            missing = []
            parent = path.parent
            while not parent.exists():
                missing.append(parent.relative_to(root).as_posix())
                parent = parent.parent
            created += [d for d in reversed(missing) if d not in created]
            entries.append(Entry(op.path, op.content, op.executable, original, mode))
        else:
            entries.append(Entry(op.path, None, False, original, mode))
    return entries, created


def apply_operations(root: Path, operations: list[Operation], *, journal: bool = True) -> None:
    """Apply `operations` under `root`: all of them, or (on an error) none.

    With `journal` (a repository), a kill mid-way is completed by the next
    command; without (a staging folder that is discarded on failure), errors
    still roll back.
    """
    entries, created = _entries(root, operations)
    if not entries:
        return
    if journal:
        try:
            write_journal(root, entries, created)  # removes its temporary file if interrupted
        except OSError as exc:
            raise EngineError(
                f"cannot write the journal in {root}: {exc.strerror or exc}; nothing was written",
                "check the permissions and free space of the repository, then run again",
            ) from exc
    try:
        roll_forward(root, entries)
    except BaseException as exc:
        state = _undo(root, entries, created, journal)
        if isinstance(exc, KeyboardInterrupt):
            raise WriteInterrupted(state) from None
        if isinstance(exc, OSError):
            raise EngineError(
                f"cannot write {exc.filename or root}: {exc.strerror or exc}; {state}",
                "check the permissions and free space of the repository, then run again",
            ) from exc
        raise
    if journal:
        remove_journal(root)


def _undo(root: Path, entries: list[Entry], created: list[str], journal: bool) -> str:
    """Roll back in this process; say what state the repository is in."""
    try:
        if journal:
            with contextlib.suppress(OSError):
                mark_rollback(root)
        roll_back(root, entries, created)
        if journal:
            remove_journal(root)
    except BaseException:
        if journal:
            return (
                "the rollback failed or was interrupted; the next platformgen command in "
                f"{root} finishes the write from its journal"
            )
        return "the rollback failed or was interrupted; the folder is incomplete"
    return "every change was rolled back"
