"""The cutover's state journal: JSON lines, appended and fsynced BEFORE each step acts.

A cutover killed at any point (SIGKILL, a lost pod) leaves in the journal what it was doing
and what it changed (the revoked grants, the secret's version before the switch), so
`dbkit cutover --abort` and `--resume` know what to undo or redo. The journal is locked
(flock) while a cutover runs: a second one on the same journal is refused.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import DbkitError


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


class Busy(DbkitError):
    """Another cutover holds the journal."""


@dataclass
class State:
    """What the records of the current run (since its last `begin`) say."""

    run_id: str = ""
    begin: dict[str, Any] = field(default_factory=dict)
    started: dict[int, dict[str, Any]] = field(default_factory=dict)
    done: dict[int, dict[str, Any]] = field(default_factory=dict)
    status: str = "new"  # new | open | finished | aborted
    records: list[dict[str, Any]] = field(default_factory=list)

    def next_step(self) -> int:
        step = 1
        while step in self.done:
            step += 1
        return step


class Journal:
    def __init__(self, path: Path) -> None:
        if path.exists() and path.is_dir():
            raise DbkitError(f"--journal {path} is a directory", "give a file path, e.g. cutover-journal.jsonl")
        self.path = path
        self._fd: int | None = None

    def lock(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        except OSError as exc:
            raise DbkitError(f"cannot open the journal {self.path}: {exc}", "give a writable --journal path") from None
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._fd)
            self._fd = None
            raise Busy(
                f"another cutover is running on {self.path}", "wait for it, or stop it (it aborts on SIGTERM)"
            ) from None

    def unlock(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def append(self, record: dict[str, Any]) -> None:
        assert self._fd is not None, "lock the journal first"
        line = json.dumps({"at": now_iso(), **record}, sort_keys=True, default=str) + "\n"
        os.write(self._fd, line.encode())
        os.fsync(self._fd)

    def load(self) -> State:
        state = State()
        if not self.path.exists():
            return state
        try:
            lines = self.path.read_text().splitlines()
        except OSError as exc:
            raise DbkitError(f"cannot read the journal {self.path}: {exc}", "check the --journal path") from None
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                if number == len(lines):
                    continue  # a torn last line (killed mid-write): the step it began never acted
                raise DbkitError(f"{self.path}:{number}: not a journal record", "restore the journal file") from None
            event = rec.get("event")
            if event == "begin":
                state = State(run_id=rec["run_id"], begin=rec, status="open")
            elif event == "start":
                state.started[int(rec["step"])] = rec
            elif event == "done":
                state.done[int(rec["step"])] = rec
            elif event in ("finished", "aborted"):
                state.status = event
            state.records.append(rec)
        return state
