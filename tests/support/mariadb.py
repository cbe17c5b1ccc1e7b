"""Start real MariaDB servers on loopback ports for tests (the MySQL protocol, no mocks).

Each server gets its own data directory, port and socket, runs as the user
running the tests, and is stopped by PID when the test session ends. MariaDB stands in for
MySQL 8 here (no MySQL 8 server is packaged for Debian 12): keep SQL portable.

    with MariaDB.start(tmp_path / "db", extra_args=["--log-bin", "--server-id=1"]) as db:
        db.execute("CREATE DATABASE app")
        url = db.url("app")   # mysql+pymysql://root:...@127.0.0.1:PORT/app
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT_PASSWORD = "test-root-password"  # a throwaway server on loopback


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _require(tool: str) -> str:
    path = shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/usr/bin")
    if path is None:
        pytest.fail(
            f"{tool} is missing: `make test` installs mariadb-server (scripts/system-packages.txt)",
            pytrace=False,
        )
    return path


# InnoDB's native asynchronous I/O (io_uring or libaio) draws on kernel resources shared by
# every server on the machine, and a busy test run starts many at once (the kit's
# replication pairs, the rehearsal's, the validators'). One mariadb-install-db failed that
# way in a busy run without saying why (its output is now kept): test servers use
# InnoDB's own I/O threads instead, which need nothing shared.
NO_NATIVE_AIO = ("--innodb-use-native-aio=0",)


@dataclass
class MariaDB:
    """A running server. Use `MariaDB.start(...)` as a context manager."""

    base: Path
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    args: list[str] = field(default_factory=list)

    host = "127.0.0.1"
    user = "root"
    password = ROOT_PASSWORD

    @property
    def socket(self) -> Path:
        return self.base / "mysqld.sock"

    @classmethod
    def start(
        cls, base: Path, *, extra_args: list[str] | None = None, port: int | None = None
    ) -> MariaDB:
        mariadbd = _require("mariadbd")
        install_db = _require("mariadb-install-db")
        base.mkdir(parents=True, exist_ok=True)
        datadir = base / "data"
        # Run as whoever runs the tests: pytest's temporary folders are private to that
        # user, so the `mysql` user could not reach the data directory.
        user = pwd.getpwuid(os.getuid()).pw_name
        if not datadir.exists():
            made = subprocess.run(
                [
                    install_db,
                    f"--datadir={datadir}",
                    f"--user={user}",
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                    *NO_NATIVE_AIO,
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if made.returncode != 0:
                raise RuntimeError(
                    f"mariadb-install-db --datadir={datadir} exited {made.returncode}:\n"
                    f"{made.stdout[-3000:]}{made.stderr[-3000:]}"
                )
        log = base / "mariadbd.log"
        args = [
            mariadbd,
            "--no-defaults",
            f"--datadir={datadir}",
            f"--port={port or _free_port()}",
            f"--socket={base / 'mysqld.sock'}",
            f"--pid-file={base / 'mysqld.pid'}",
            f"--log-error={log}",
            "--bind-address=127.0.0.1",
            f"--user={user}",
            "--skip-name-resolve",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci",
            "--innodb-buffer-pool-size=128M",
            *NO_NATIVE_AIO,
            "--innodb-flush-log-at-trx-commit=2",
            *(extra_args or []),
        ]
        chosen_port = int(next(a for a in args if a.startswith("--port=")).split("=")[1])
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server = cls(base=base, port=chosen_port, process=process, log=log, args=args)
        server._wait_ready()
        server._set_root_password()
        return server

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"mariadbd exited early:\n{self._log_tail()}", pytrace=False)
            try:
                with socket.create_connection((self.host, self.port), timeout=1):
                    if self.socket.exists():
                        return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        pytest.fail(
            f"mariadbd did not start within {timeout:.0f} s:\n{self._log_tail()}", pytrace=False
        )

    def _set_root_password(self) -> None:
        sql = (
            f"ALTER USER 'root'@'localhost' IDENTIFIED BY '{ROOT_PASSWORD}';"
            f"CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '{ROOT_PASSWORD}';"
            # mariadb-install-db already made root@127.0.0.1 without a password: set it.
            f"ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '{ROOT_PASSWORD}';"
            "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;"
            "FLUSH PRIVILEGES;"
        )
        # A fresh install lets root in over the socket without a password.
        for password in ("", ROOT_PASSWORD):
            proc = subprocess.run(
                [
                    _require("mariadb"),
                    f"--socket={self.socket}",
                    "-uroot",
                    f"-p{password}" if password else "--skip-password",
                    "-e",
                    sql,
                ],
                capture_output=True,
                text=True,
            )
            if proc.returncode == 0:
                return
        pytest.fail(f"cannot set the root password: {proc.stderr}", pytrace=False)

    def execute(self, sql: str, database: str | None = None) -> str:
        """Run SQL with the mariadb client over the socket; return its tab-separated output."""
        cmd = [
            _require("mariadb"),
            f"--socket={self.socket}",
            "-uroot",
            f"-p{ROOT_PASSWORD}",
            "--batch",
            "--skip-column-names",
            "-e",
            sql,
        ]
        if database:
            cmd.append(database)
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"SQL failed: {proc.stderr.strip()}")
        return proc.stdout

    def url(self, database: str = "", driver: str = "pymysql") -> str:
        return f"mysql+{driver}://{self.user}:{self.password}@{self.host}:{self.port}/{database}"

    def dsn(self, database: str = "") -> str:
        return f"mysql://{self.user}:{self.password}@{self.host}:{self.port}/{database}"

    def stop(self) -> None:
        """Stop this server (and only this one), by its PID."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL, for tests of a server that goes away mid-run."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def restart(self) -> None:
        """Start again on the same port and data directory."""
        self.stop()
        self.process = subprocess.Popen(
            self.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self._wait_ready()

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> MariaDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
