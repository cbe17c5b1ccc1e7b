"""The database kit (dbkit/, platformgen-dbkit) under test: its MariaDB servers and its wheel.

`dbkit_servers` starts the source and target the kit's tests and the database validators
use; `build_wheel` builds the kit's wheel the way `make dbkit-dist` does (the bytes the
rendered `database/requirements.lock` pins), for installing it as a generated repo does.
"""

from __future__ import annotations

import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

from support.mariadb import MariaDB

ROOT = Path(__file__).resolve().parents[2]
KIT = ROOT / "dbkit"
LOCK = ROOT / "templates" / "database" / "database" / "requirements.lock"
TEST_DB = "dbkit_test"
# The source is a binlogging primary in UTC; the target runs in another time zone, so the
# digest's time-zone handling is exercised by every verify of TIMESTAMP columns.
SOURCE_ARGS = ["--log-bin", "--server-id=1", "--binlog-format=ROW", "--binlog-row-image=FULL"]
TARGET_ARGS = ["--default-time-zone=+10:00", "--server-id=2"]


def dbkit_servers(stack: ExitStack, base: Path) -> tuple[MariaDB, MariaDB]:
    """Start a source and a target server (stopped by PID when `stack` closes), each with TEST_DB."""
    source = stack.enter_context(MariaDB.start(base / "source", extra_args=SOURCE_ARGS))
    target = stack.enter_context(MariaDB.start(base / "target", extra_args=TARGET_ARGS))
    for server in (source, target):
        server.execute(f"CREATE DATABASE {TEST_DB}")
    return source, target


def build_wheel(outdir: Path) -> Path:
    """Build the kit's wheel into outdir with scripts/dbkit_dist.py (what `make dbkit-dist` runs)."""
    proc = subprocess.run(
        [sys.executable, ROOT / "scripts" / "dbkit_dist.py", "build", "--outdir", outdir],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (wheel,) = outdir.glob("platformgen_dbkit-*.whl")
    return wheel
