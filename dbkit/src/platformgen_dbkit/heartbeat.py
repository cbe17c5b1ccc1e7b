"""The heartbeat: one row written on the source every interval and read on the target.

Whatever carries the changes (DMS CDC, native replication), the row arrives on the target
in the same stream as the application's writes, so its age there is the true end-to-end lag.

Lag is measured on the source's clock only (the two servers' clocks may disagree): each beat
stores the source's `UTC_TIMESTAMP(6)`, and a sample compares the target's row with the
source's clock read right after it. The lag reported is the age of the oldest beat the target
has not applied yet (0 when it has applied the last one), so a caught-up target reads 0 rather
than the time since the last beat; it is exact to one round trip plus the beat interval.

Several writers may beat at once (a `lag` watcher beside a cutover): the sequence number is
taken under the row's lock (`seq = LAST_INSERT_ID(seq + 1)`), so numbers are unique and in
commit order, and a target that holds seq >= N has applied every beat up to N.

Portable SQL (MySQL 8 and MariaDB 10.6+): INSERT IGNORE, UPDATE with LAST_INSERT_ID(expr),
DATETIME(6), UTC_TIMESTAMP(6).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass

from .db import DSN, Connection
from .errors import DbkitError
from .names import HEARTBEAT_TABLE
from .schema import quote

CREATE_SQL = (
    f"CREATE TABLE IF NOT EXISTS {quote(HEARTBEAT_TABLE)} ("
    "id TINYINT UNSIGNED NOT NULL PRIMARY KEY, "
    "seq BIGINT UNSIGNED NOT NULL, "
    "written_at DATETIME(6) NOT NULL"
    ") ENGINE=InnoDB"
)
_INIT_SQL = f"INSERT IGNORE INTO {quote(HEARTBEAT_TABLE)} (id, seq, written_at) VALUES (1, 0, UTC_TIMESTAMP(6))"
# The row lock orders concurrent writers (a `lag` watcher beside a cutover): each beat gets
# the next number, in commit order, so a target holding seq >= N has applied beat N.
_BEAT_SQL = f"UPDATE {quote(HEARTBEAT_TABLE)} SET seq = LAST_INSERT_ID(seq + 1), written_at = %s WHERE id = 1"
_READ_SQL = f"SELECT seq, written_at FROM {quote(HEARTBEAT_TABLE)} WHERE id = 1"
_KEEP = 4096  # beats remembered to date the oldest unapplied one


@dataclass(frozen=True)
class Sample:
    """One lag reading; `at` is the source's clock (UTC, ISO 8601)."""

    at: str
    seq_source: int
    seq_target: int | None
    lag_seconds: float | None  # None: the target has no heartbeat row yet

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def ensure_table(source: Connection) -> None:
    """Create the heartbeat table and its row on the source (replication or DMS carries them)."""
    source.rows(CREATE_SQL)
    source.rows(_INIT_SQL)


def _table_exists(conn: Connection) -> bool:
    return bool(
        conn.value(
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s",
            (HEARTBEAT_TABLE,),
        )
    )


def read(conn: Connection) -> tuple[int, dt.datetime] | None:
    found = conn.row(_READ_SQL)
    return None if found is None else (int(found[0]), found[1])


class Heartbeat:
    """Writes beats on the source and samples lag on the target; safe to share between threads."""

    def __init__(self, source: DSN, target: DSN, *, create: bool = True) -> None:
        self.source = Connection(source, read_timeout=30)
        self.target = Connection(target, read_timeout=30)
        self._lock = threading.Lock()
        if create:
            ensure_table(self.source)
        elif not _table_exists(self.source):
            raise DbkitError(
                f"{source.label}: the heartbeat table {HEARTBEAT_TABLE} does not exist",
                "run `dbkit lag` once (it creates the table), before the migration task starts",
            )
        self.seq = 0  # the last beat this writer wrote
        self._written: OrderedDict[int, dt.datetime] = OrderedDict()

    def now(self) -> dt.datetime:
        return self.source.value("SELECT UTC_TIMESTAMP(6)")

    def beat(self) -> int:
        """Write the next beat on the source; return its sequence number."""
        with self._lock:
            at = self.now()
            self.source.rows(_BEAT_SQL, (at,))
            seq = int(self.source.value("SELECT LAST_INSERT_ID()"))
            if seq == 0:
                raise DbkitError(
                    f"{self.source.dsn.label}: the heartbeat row is missing",
                    "run `dbkit lag` once: it creates the table and its row",
                )
            self.seq = seq
            self._written[seq] = at
            while len(self._written) > _KEEP:
                self._written.popitem(last=False)
            return seq

    def target_seq(self) -> int | None:
        with self._lock:
            found = read(self.target)
        return None if found is None else found[0]

    def sample(self) -> Sample:
        with self._lock:
            try:
                applied = read(self.target)
            except DbkitError as exc:
                if "doesn't exist" in str(exc) or "1146" in str(exc):
                    applied = None  # the table has not reached the target yet
                else:
                    raise
            now = self.now()
            if applied is None:
                return Sample(now.isoformat(), self.seq, None, None)
            seq, written_at = applied
            if seq >= self.seq:
                lag = 0.0
            else:
                # The oldest of this writer's beats the target lacks (other writers' beats
                # interleave); without one, the target's own row dates it (an upper bound).
                oldest = next((at for n, at in self._written.items() if n > seq), None)
                lag = (now - (oldest or written_at)).total_seconds()
            return Sample(now.isoformat(), self.seq, seq, round(max(lag, 0.0), 3))

    def close(self) -> None:
        self.source.close()
        self.target.close()


class Monitor:
    """A background thread that beats and samples every `interval` seconds (used by cutover)."""

    def __init__(self, heartbeat: Heartbeat, interval: float) -> None:
        self.heartbeat = heartbeat
        self.interval = interval
        self.samples: list[Sample] = []
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dbkit-heartbeat", daemon=True)

    def start(self) -> Monitor:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append(self.heartbeat.sample())
                self.heartbeat.beat()
            except BaseException as exc:  # noqa: BLE001  (reported to the main thread)
                self.error = exc
                return
            self._stop.wait(self.interval)

    def latest(self) -> Sample | None:
        return self.samples[-1] if self.samples else None

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def wait_for_seq(self, seq: int, timeout: float) -> float:
        """Wait until the target has applied beat `seq`; return the seconds waited."""
        started = time.monotonic()
        while True:
            if self.error is not None:
                raise DbkitError(f"the heartbeat stopped: {self.error}", "check both servers, then --resume")
            applied = self.heartbeat.target_seq()
            if applied is not None and applied >= seq:
                return time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise DbkitError(
                    f"the target did not apply heartbeat {seq} within {timeout:.0f} s (it has {applied})",
                    "check the replication (DMS task) status and lag, then --resume or --abort",
                )
            time.sleep(0.05)
