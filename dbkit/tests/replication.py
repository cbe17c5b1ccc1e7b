"""Two MariaDB servers on loopback with native replication: the stand-in for DMS CDC.

The source logs row-based binlogs; the target replicates the migrated schema from it. Only
this harness uses replication statements, and they are MariaDB's (CHANGE MASTER TO,
START/STOP SLAVE; MySQL 8.0.23+ spells them CHANGE REPLICATION SOURCE TO, START/STOP
REPLICA). The kit itself never issues them: it sees replication only through the heartbeat.

Account management (the freeze's REVOKE/GRANT) is filtered out on the replica with
replicate_wild_ignore_table=mysql.%, as DMS does not carry grants either: the app user
exists on each server separately, created with sql_log_bin=0.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

import pymysql  # noqa: E402
import pymysql.cursors  # noqa: E402
from support.mariadb import MariaDB  # noqa: E402

DATABASE = "app"
APP_USER = "app"
APP_PASSWORD = "app-test-password"  # a throwaway server on loopback


@dataclass
class Pair:
    source: MariaDB
    target: MariaDB

    def dsn(self, server: MariaDB) -> str:
        return server.dsn(DATABASE)

    @property
    def source_dsn(self) -> str:
        return self.source.dsn(DATABASE)

    @property
    def target_dsn(self) -> str:
        return self.target.dsn(DATABASE)

    def stop_replication(self) -> None:
        self.target.execute("STOP SLAVE")

    def start_replication(self) -> None:
        self.target.execute("START SLAVE")

    def replication_ok(self) -> bool:
        conn = pymysql.connect(host="127.0.0.1", port=self.target.port, user="root", password=self.target.password)
        try:
            with conn.cursor(pymysql.cursors.DictCursor) as cur:
                cur.execute("SHOW SLAVE STATUS")
                status = cur.fetchone() or {}
        finally:
            conn.close()
        return status.get("Slave_SQL_Running") == "Yes" and status.get("Slave_IO_Running") == "Yes"

    def app_grants(self, server: MariaDB) -> str:
        return server.execute(f"SHOW GRANTS FOR '{APP_USER}'@'127.0.0.1'")


def _make_app_user(server: MariaDB) -> None:
    server.execute(
        "SET SESSION sql_log_bin = 0;"
        f"CREATE USER IF NOT EXISTS '{APP_USER}'@'127.0.0.1' IDENTIFIED BY '{APP_PASSWORD}';"
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON `{DATABASE}`.* TO '{APP_USER}'@'127.0.0.1';"
    )


@contextmanager
def replicated_pair(base: Path) -> Iterator[Pair]:
    source = MariaDB.start(
        base / "source",
        extra_args=["--log-bin=binlog", "--server-id=1", "--binlog-format=ROW", "--binlog-row-image=FULL"],
    )
    try:
        target = MariaDB.start(
            base / "target",
            extra_args=["--server-id=2", "--replicate-wild-ignore-table=mysql.%", "--skip-slave-start"],
        )
        try:
            source.execute(f"CREATE DATABASE `{DATABASE}`")
            _make_app_user(source)
            target.execute(f"SET SESSION sql_log_bin = 0; CREATE DATABASE `{DATABASE}`")
            _make_app_user(target)
            pos = source.execute("SHOW MASTER STATUS").split("\t")
            target.execute(
                f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={source.port}, MASTER_USER='root', "
                f"MASTER_PASSWORD='{source.password}', MASTER_LOG_FILE='{pos[0]}', MASTER_LOG_POS={int(pos[1])}, "
                "MASTER_USE_GTID=no; START SLAVE"
            )
            yield Pair(source, target)
        finally:
            target.stop()
    finally:
        source.stop()


ORDERS = (
    "CREATE TABLE orders (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, "
    "token CHAR(32) NOT NULL UNIQUE, amount INT NOT NULL, note VARCHAR(64) NULL) ENGINE=InnoDB"
)


class Load:
    """A write load as the app user: each thread inserts rows and records the acknowledged ones.

    Like a pod, it connects to the host and port named in `secret` (a JSON file the switch
    rewrites) each time it (re)connects; a failed write is retried as a new row, so only
    writes whose commit the server acknowledged are counted.
    """

    def __init__(self, secret: Path, rate: float, threads: int = 2) -> None:
        self.secret, self.rate, self.threads = secret, rate, threads
        self.acked: list[tuple[str, int, int]] = []  # (token, port, id)
        self.errors = 0
        self.max_gap = 0.0
        self._last_ack = 0.0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def __enter__(self) -> Load:
        self._last_ack = time.monotonic()
        for w in self._workers:
            w.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        for w in self._workers:
            w.join(timeout=30)

    def _connect(self) -> tuple[pymysql.connections.Connection, int]:
        where = json.loads(self.secret.read_text())
        conn = pymysql.connect(
            host=where["host"], port=int(where["port"]), user=APP_USER, password=APP_PASSWORD,
            database=DATABASE, autocommit=True, connect_timeout=2, read_timeout=5, write_timeout=5,
        )  # fmt: skip
        return conn, int(where["port"])

    def _run(self) -> None:
        period = self.threads / self.rate
        conn = None
        port = 0
        next_at = time.monotonic()
        while not self._stop.is_set():
            next_at += period
            try:
                if conn is None:
                    conn, port = self._connect()
                token = uuid.uuid4().hex
                with conn.cursor() as cur:
                    cur.execute("INSERT INTO orders (token, amount) VALUES (%s, %s)", (token, len(token)))
                    new_id = cur.lastrowid
                now = time.monotonic()
                with self._lock:
                    self.acked.append((token, port, int(new_id)))
                    self.max_gap = max(self.max_gap, now - self._last_ack)
                    self._last_ack = now
            except (pymysql.err.MySQLError, OSError):
                with self._lock:
                    self.errors += 1
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.close()
                conn = None
                time.sleep(0.02)
            time.sleep(max(next_at - time.monotonic(), 0))
        if conn is not None:
            conn.close()


def write_secret(path: Path, server: MariaDB) -> None:
    path.write_text(json.dumps({"host": "127.0.0.1", "port": server.port, "dbname": DATABASE}))


SWITCH_SCRIPT = """
import json, os, sys
path = sys.argv[1]
value = json.loads(open(path).read())
value.update(host=os.environ["DBKIT_CUTOVER_HOST"], port=int(os.environ["DBKIT_CUTOVER_PORT"]))
tmp = path + ".tmp"
open(tmp, "w").write(json.dumps(value))
os.replace(tmp, path)
"""
