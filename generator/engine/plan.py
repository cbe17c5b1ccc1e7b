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

Nothing is written here: the result is a list of operations for `apply`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
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
        return [c.operation() for c in self.changes]


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
) -> None:
    """Add the changes that bring one unit from `base` to `new` to `plan`."""
    base = base or {}
    for path in sorted(set(base) | set(new)):
        b = base.get(path)
        n = new.get(path)
        c = read_current(root, path)
        if path == answers_file:
            # Machine-written; always the new answers.
            if n is not None and (c is None or c != n):
                plan.changes.append(_write(path, n, c, unit_id))
            continue
        if n is None:
            if c is None:
                continue
            if b is not None and c.content == b.content:
                plan.changes.append(Change(path, "delete", unit_id, before=c.content))
            else:
                plan.notes.append(
                    f"{path}: the new template no longer generates this file, but it holds your "
                    "edits, so it was kept; delete it when it is no longer needed"
                )
            continue
        if c is None:
            if b is not None:
                if b != n:
                    plan.notes.append(
                        f"{path}: you deleted this generated file and the template changed it; "
                        "it stays deleted"
                    )
                continue
            plan.changes.append(_write(path, n, None, unit_id))
            continue
        if c == n:
            continue
        if b is not None and b == n:
            continue  # the template did not change it: the repository's version stays
        if b is not None and c == b:
            plan.changes.append(_write(path, n, c, unit_id))
            continue
        # Both sides changed it (or both added it): merge like copier does.
        base_bytes = b.content if b is not None else b""
        if any(_is_binary(x) for x in (c.content, n.content, base_bytes)):
            plan.notes.append(
                f"{path}: binary file changed both in the repository and in the template; "
                "kept yours"
            )
            continue
        merged, conflicts = merge_file(c.content, base_bytes, n.content)
        kind: ChangeKind = "conflict" if conflicts else "update"
        if merged != c.content or kind == "conflict":
            plan.changes.append(
                Change(
                    path, kind, unit_id, content=merged, executable=n.executable, before=c.content
                )
            )


def _write(path: str, new: FileData, current: FileData | None, unit_id: str) -> Change:
    return Change(
        path,
        "create" if current is None else "update",
        unit_id,
        content=new.content,
        executable=new.executable,
        before=current.content if current else None,
    )
