"""Fixtures: a source and a target database on real MySQL servers, named by
DBKIT_TEST_SOURCE_DSN and DBKIT_TEST_TARGET_DSN.

Two databases on one server suffice (the root `make test` starts one server through
compose.yaml and uses dbkit_source and dbkit_target on it); two servers work too
(platformgen's harness starts two). The tests create and drop their own tables in those
databases; the user needs all privileges on them (and CREATE DATABASE, CREATE USER and
SET GLOBAL for the preflight tests).
Without the DSNs the server tests fail with this message; they are never skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

KIT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(KIT / "src"))
sys.path.insert(0, str(KIT / "tests"))

from platformgen_dbkit.db import DSN, Connection, parse_dsn  # noqa: E402


def _dsn(role: str) -> str:
    value = os.environ.get(f"DBKIT_TEST_{role.upper()}_DSN", "")
    if not value:
        pytest.fail(
            f"set DBKIT_TEST_{role.upper()}_DSN to a {role} test database, e.g. "
            f"mysql://root:PASSWORD@127.0.0.1:3306/dbkit_{role} "
            "(or run make test at the repository root: it starts a server with both)",
            pytrace=False,
        )
    return value


@pytest.fixture(scope="session")
def dsns() -> tuple[str, str]:
    return _dsn("source"), _dsn("target")


@pytest.fixture(scope="session")
def parsed(dsns: tuple[str, str]) -> tuple[DSN, DSN]:
    return parse_dsn(dsns[0], "source"), parse_dsn(dsns[1], "target")


@pytest.fixture(scope="session")
def conns(parsed: tuple[DSN, DSN]) -> Iterator[tuple[Connection, Connection]]:
    source, target = Connection(parsed[0]), Connection(parsed[1])
    yield source, target
    source.close()
    target.close()


@pytest.fixture(scope="session")
def loaded(conns: tuple[Connection, Connection]) -> tuple[Connection, Connection]:
    """The dataset with its planted differences, loaded once per session."""
    import dataset

    dataset.load(*conns)
    return conns


def run_dbkit(
    *args: str | Path, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "platformgen_dbkit", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(KIT / "src"), **(env or {})},
    )


def verify_json(dsns: tuple[str, str], checkpoint: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    proc = run_dbkit("verify", "--source", dsns[0], "--target", dsns[1], "--checkpoint", checkpoint, "--json", *args)
    try:
        report = json.loads(proc.stdout) if proc.stdout.strip() else {}
    except ValueError:
        pytest.fail(f"verify printed no JSON: {proc.stdout[:500]} {proc.stderr}")
    return proc.returncode, report, proc.stderr
