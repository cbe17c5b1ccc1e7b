"""The checkpoint: an append-only JSON-lines file, fsynced line by line.

A run killed at any moment (even with kill -9) loses at most the line being written;
a torn last line is ignored. Records:

    {"kind": "header", "fingerprint": ..., "salt": ...}     the run it belongs to
    {"kind": "plan", "table": T, "n": 3, "lo": [...], "hi": [...]}   a chunk's boundaries
    {"kind": "chunk", "table": T, "n": 3, ... digests and differences}   a finished chunk
    {"kind": "table", "table": T, ...}                        a table finished (no-key tables)
    {"kind": "done"}                                          the run finished: the next one starts over

One run at a time: the file is locked (flock) while a run holds it, so a second run on the
same checkpoint is refused instead of interleaving its records. The lock goes with the
process, so a run killed with kill -9 leaves no stale lock behind.

Key values are stored with their type, so a resumed run queries identical boundaries.
"""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import json
import os
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

from .errors import DbkitError


def encode_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return {"float": value.hex()}
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, bytes | bytearray):
        return {"bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"timedelta": [value.days, value.seconds, value.microseconds]}
    raise TypeError(f"cannot store key value of type {type(value).__name__}")


def decode_value(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    ((kind, v),) = value.items()
    if kind == "float":
        return float.fromhex(v)
    if kind == "decimal":
        return Decimal(v)
    if kind == "bytes":
        return base64.b64decode(v)
    if kind == "datetime":
        return dt.datetime.fromisoformat(v)
    if kind == "date":
        return dt.date.fromisoformat(v)
    if kind == "timedelta":
        return dt.timedelta(days=v[0], seconds=v[1], microseconds=v[2])
    raise ValueError(f"unknown stored value kind {kind}")


def encode_key(key: tuple[Any, ...] | None) -> list[Any] | None:
    return None if key is None else [encode_value(v) for v in key]


def decode_key(key: list[Any] | None) -> tuple[Any, ...] | None:
    return None if key is None else tuple(decode_value(v) for v in key)


def display_value(value: Any) -> Any:
    """A key value for reports: JSON-native where possible, readable otherwise."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def lock_checkpoint(path: Path) -> int:
    """Open (creating it empty if need be) and lock the checkpoint; the descriptor holds the lock."""
    fix = "pass another --checkpoint path"
    if path.is_dir():
        raise DbkitError(f"checkpoint {path} is a directory, not a file", fix)
    if path.exists() and not path.is_file():
        raise DbkitError(f"checkpoint {path} is not a regular file", fix)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
    except OSError as exc:
        raise DbkitError(f"cannot write checkpoint {path}: {exc.strerror}", f"{fix} you can write") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise DbkitError(
            f"checkpoint {path} is in use by another dbkit run",
            f"wait for that run to finish (it resumes from the same file if stopped), or {fix}",
        ) from None
    return fd


class Checkpoint:
    """Reads the records of an earlier run and appends new ones durably (holding the file's lock)."""

    def __init__(self, path: Path, fingerprint: str, salt: str, *, restart: bool, fd: int | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self.records: list[dict[str, Any]] = []
        self.salt = salt
        self._fd = lock_checkpoint(path) if fd is None else fd
        try:
            self._load(fingerprint, restart)
        except BaseException:
            self.close()
            raise

    def _load(self, fingerprint: str, restart: bool) -> None:
        path = self.path
        if not restart and os.fstat(self._fd).st_size > 0:
            self.records = self._read()
            header = self.records[0] if self.records else None
            if header is None or header.get("kind") != "header":
                raise DbkitError(
                    f"checkpoint {path} is not a dbkit checkpoint",
                    "pass another --checkpoint path, or --restart to overwrite it",
                )
            finished = self.records[-1].get("kind") == "done"
            if finished:
                # That run finished: a new run checks the servers again from the start.
                self.records = []
            elif header.get("fingerprint") != fingerprint:
                raise DbkitError(
                    f"checkpoint {path} belongs to an unfinished run with other servers, tables or options",
                    "run with the same options to resume it, or pass --restart to start over",
                )
            else:
                self.salt = str(header["salt"])
                self.records = self.records[1:]
        self.resumed = bool(self.records)
        if not self.resumed:
            os.ftruncate(self._fd, 0)
            self.append({"kind": "header", "fingerprint": fingerprint, "salt": self.salt})

    def _read(self) -> list[dict[str, Any]]:
        records = []
        size = os.fstat(self._fd).st_size
        data = os.pread(self._fd, size, 0)
        good = 0  # bytes up to the end of the last whole record
        lines = data.split(b"\n")
        for i, line in enumerate(lines):
            complete = i < len(lines) - 1  # followed by a newline
            try:
                if not complete:
                    raise ValueError("no newline")
                records.append(json.loads(line))
            except ValueError:
                if i >= len(lines) - 2:  # the torn last line of a killed run
                    break
                raise DbkitError(
                    f"checkpoint {self.path} is corrupt at line {i + 1}",
                    "pass --restart to start over",
                ) from None
            good += len(line) + 1
        if good < len(data):
            os.ftruncate(self._fd, good)
        return records

    def finish(self) -> None:
        self.append({"kind": "done"})

    def append(self, record: dict[str, Any]) -> None:
        """One whole line per record, durable before this returns (safe from any thread)."""
        data = (json.dumps(record, separators=(",", ":"), sort_keys=True) + "\n").encode()
        with self._lock:
            os.write(self._fd, data)
            os.fsync(self._fd)

    def close(self) -> None:
        """Close the file, which releases the lock (idempotent)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
