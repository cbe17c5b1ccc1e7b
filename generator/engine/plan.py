"""Plan what a render or update changes, file by file, with a 3-way merge.

For every file of a unit there are three versions: the base (what the unit's
recorded answers and template version render), the new render, and what is in
the repository now. The rules are copier's:

- the template did not change a file: the repository's version stays;
- the repository still holds the base: the new render replaces it;
- both changed: `git merge-file` merges them, and overlapping edits become
  inline conflict markers, listed at the end;
- a file the user deleted stays deleted; a file the template dropped is deleted
  only if the user never edited it.

A renamed app's unit (`renamedFrom`, see renames.py) is planned the same way,
with the repository's version of each file read at its old path: the result
is written at the new path and the old file deleted, so edits move with it.

Nothing is written here: the result is a list of operations for `apply`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Literal

from .apply import Delete, Operation, Write
from .errors import EngineError
from .gitutil import merge_file
from .render import FileData, Files

ChangeKind = Literal["create", "update", "delete", "conflict"]


@dataclass(frozen=True)
class Change:
    path: str
    kind: ChangeKind
    unit: str
    content: bytes | None = None
    executable: bool = False
    before: bytes | None = None
    answers: bool = False  # an answers file: written after every other file of the plan

    def operation(self) -> Operation:
        if self.kind == "delete":
            return Delete(self.path)
        assert self.content is not None
        return Write(self.path, self.content, self.executable)


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def conflicts(self) -> list[Change]:
        return [c for c in self.changes if c.kind == "conflict"]

    def operations(self) -> list[Operation]:
        """Every change, answers files last: a unit is recorded as rendered only once its
        files are in place (the journal makes the whole list atomic; the order keeps even a
        write without one from recording a half-written unit as done)."""
        ordered = sorted(self.changes, key=lambda c: c.answers)
        return [c.operation() for c in ordered]


def _is_binary(data: bytes) -> bool:
    return b"\0" in data[:8192]


def read_current(root: Path, rel: str) -> FileData | None:
    path = root / rel
    if path.is_symlink():
        raise EngineError(f"{rel} is a symlink in the repository, where a generated file goes")
    if not path.exists():
        return None
    if path.is_dir():
        raise EngineError(
            f"{rel} is a folder in the repository, but a generated file goes there",
            "move the folder away, then run again",
        )
    return FileData(path.read_bytes(), bool(path.stat().st_mode & 0o100))


def plan_unit(
    plan: Plan,
    root: Path,
    unit_id: str,
    base: Files | None,
    new: Files,
    answers_file: str,
    moves: dict[str, str] | None = None,
) -> None:
    """Add the changes that bring one unit from `base` to `new` to `plan`.

    `moves` (new path -> old path) is a renamed app's: the repository's version
    of each file is read at its old path, the result is written at the new one,
    and the old file is deleted.
    """
    base = base or {}
    moves = moves or {}
    for path in sorted(set(base) | set(new) | set(moves)):
        source = moves.get(path, path)
        moved = source != path
        b, n = base.get(path), new.get(path)
        c = read_current(root, source)
        if path == answers_file:
            # Machine-written; always the new answers.
            if n is not None and (moved or c is None or c != n):
                change = _write(path, n, None if moved else c, unit_id)
                plan.changes.append(replace(change, answers=True))
            continue
        outcome = _merge(plan, path, b, n, c)
        if outcome is None:
            if moved and c is not None:  # the repository's version stays: it moves
                plan.changes.append(_write(path, c, None, unit_id))
        elif not moved:
            plan.changes.append(replace(outcome, unit=unit_id))
        elif outcome.kind != "delete":
            plan.changes.append(
                Change(
                    path,
                    "conflict" if outcome.kind == "conflict" else "create",
                    unit_id,
                    content=outcome.content,
                    executable=outcome.executable,
                )
            )
    for path, source in sorted(moves.items(), key=lambda item: item[1]):
        current = read_current(root, source) if source != path else None
        if current is not None:
            plan.changes.append(
                Change(
                    source,
                    "delete",
                    unit_id,
                    before=current.content,
                    answers=PurePosixPath(source).name.startswith(".copier-answers."),
                )
            )


def _merge(
    plan: Plan, path: str, b: FileData | None, n: FileData | None, c: FileData | None
) -> Change | None:
    """What one file becomes: a change, or None when the repository's version stays."""
    if n is None:
        if c is None:
            return None
        if b is None:
            return None  # the user's own file (it only gets here when it moves with an app)
        if c.content == b.content:
            return Change(path, "delete", "", before=c.content)
        plan.notes.append(
            f"{path}: the new template no longer generates this file, but it holds your "
            "edits, so it was kept; delete it when it is no longer needed"
        )
        return None
    if c is None:
        if b is not None:
            if b != n:
                plan.notes.append(
                    f"{path}: you deleted this generated file and the template changed it; "
                    "it stays deleted"
                )
            return None
        return _write(path, n, None, "")
    if c == n:
        return None
    if b is not None and b == n:
        return None  # the template did not change it: the repository's version stays
    if b is not None and c == b:
        return _write(path, n, c, "")
    # Both sides changed it (or both added it): merge like copier does.
    base_bytes = b.content if b is not None else b""
    if any(_is_binary(x) for x in (c.content, n.content, base_bytes)):
        plan.notes.append(
            f"{path}: binary file changed both in the repository and in the template; kept yours"
        )
        return None
    merged, conflicts = merge_file(c.content, base_bytes, n.content)
    kind: ChangeKind = "conflict" if conflicts else "update"
    if merged == c.content and kind != "conflict":
        return None
    return Change(path, kind, "", content=merged, executable=n.executable, before=c.content)


def _write(path: str, new: FileData, current: FileData | None, unit_id: str) -> Change:
    return Change(
        path,
        "create" if current is None else "update",
        unit_id,
        content=new.content,
        executable=new.executable,
        before=current.content if current else None,
    )
