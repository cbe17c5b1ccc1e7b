"""The MariaDB test harness itself: a real server, stopped by PID, restartable."""

from __future__ import annotations

import subprocess
from pathlib import Path

from support.mariadb import MariaDB


def test_two_servers_on_loopback_and_restart(tmp_path: Path) -> None:
    with (
        MariaDB.start(tmp_path / "a") as a,
        MariaDB.start(
            tmp_path / "b", extra_args=["--log-bin", "--server-id=2", "--binlog-format=ROW"]
        ) as b,
    ):
        assert a.port != b.port
        a.execute("CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY, v VARCHAR(10))")
        a.execute("INSERT INTO app.t VALUES (1, 'x')")
        assert a.execute("SELECT v FROM app.t WHERE id = 1").strip() == "x"
        assert b.execute("SELECT @@binlog_format").strip() == "ROW"
        # url()/dsn() are for TCP clients: root@127.0.0.1 takes the password, and only it.
        tcp = [
            "mariadb",
            "-h",
            a.host,
            "-P",
            str(a.port),
            "-u",
            a.user,
            "--batch",
            "-e",
            "SELECT 1",
        ]
        assert subprocess.run([*tcp, f"-p{a.password}"], capture_output=True).returncode == 0
        assert subprocess.run([*tcp, "--skip-password"], capture_output=True).returncode != 0
        pid = a.process.pid
        a.restart()
        assert a.process.pid != pid
        assert a.execute("SELECT COUNT(*) FROM app.t").strip() == "1"
    assert a.process.poll() is not None and b.process.poll() is not None


def test_root_logs_in_over_tcp_with_the_url_password(tmp_path: Path) -> None:
    """db.url() must work over TCP (mariadb-install-db makes root@127.0.0.1 without a password)."""
    import subprocess

    with MariaDB.start(tmp_path / "tcp") as db:
        proc = subprocess.run(
            [
                "mariadb",
                "-h",
                db.host,
                "-P",
                str(db.port),
                "-uroot",
                f"-p{db.password}",
                "-e",
                "SELECT 1",
            ],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr
