"""preflight against real servers: each risky object is found, named, and comes with a fix."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from platformgen_dbkit.db import DSN, Connection

from conftest import run_dbkit

SCHEMA = [
    "CREATE TABLE plain (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, note MEDIUMTEXT, code VARCHAR(40)) AUTO_INCREMENT = 1000",
    "CREATE INDEX ix_code_prefix ON plain (code(8))",
    "CREATE TABLE nopk (a INT NULL, b INT NULL)",
    "CREATE TABLE uniq_only (a INT NOT NULL, b INT, UNIQUE KEY uq_a (a))",
    "CREATE TABLE old_engine (id INT NOT NULL PRIMARY KEY) ENGINE=MyISAM",
    "CREATE TABLE gen (id INT NOT NULL PRIMARY KEY, a INT, twice INT AS (a * 2) VIRTUAL)",
    "CREATE TABLE legacy (id INT NOT NULL PRIMARY KEY, name VARCHAR(20) CHARACTER SET latin1)",
    "CREATE TABLE parent (id INT NOT NULL PRIMARY KEY)",
    "CREATE TABLE child (id INT NOT NULL PRIMARY KEY, parent_id INT, "
    "CONSTRAINT fk_child_parent FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE)",
    "CREATE TRIGGER trg_plain BEFORE INSERT ON plain FOR EACH ROW SET NEW.code = LOWER(NEW.code)",
    "CREATE PROCEDURE proc_noop() SELECT 1",
    "CREATE EVENT ev_cleanup ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM nopk",
    "CREATE VIEW v_plain AS SELECT id FROM plain",
    "INSERT INTO plain (note, code) VALUES (REPEAT('x', 70000), 'ABC'), ('short', 'd')",
]


def _schema(dsn: DSN) -> str:
    return f"{dsn.database}_pf"


def _dsn(dsn: DSN, user: str | None = None, password: str | None = None) -> str:
    return f"mysql://{user or dsn.user}:{password if password is not None else dsn.password}@{dsn.host}:{dsn.port}/{_schema(dsn)}"


@pytest.fixture(scope="module")
def schemas(parsed: tuple[DSN, DSN]) -> Iterator[tuple[Connection, Connection]]:
    source, target = Connection(parsed[0]), Connection(parsed[1])
    for conn in (source, target):
        name = _schema(conn.dsn)
        conn.rows(f"DROP DATABASE IF EXISTS `{name}`")
        conn.rows(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        conn.rows(f"USE `{name}`")
    for sql in SCHEMA:
        source.rows(sql)
    target.rows("CREATE TABLE plain (id INT NOT NULL PRIMARY KEY) COLLATE utf8mb4_bin")
    yield source, target
    for conn in (source, target):
        conn.rows(f"DROP DATABASE IF EXISTS `{_schema(conn.dsn)}`")
        conn.close()


def preflight(*args: str) -> tuple[int, list[dict[str, str]]]:
    proc = run_dbkit("preflight", "--json", *args)
    assert proc.returncode in (0, 1, 2), proc.stderr
    data = json.loads(proc.stdout)
    assert data["exit_code"] == proc.returncode
    return proc.returncode, data["findings"]


def find(findings: list[dict[str, str]], check: str, obj: str) -> dict[str, str]:
    hits = [f for f in findings if f["check"] == check and obj in f["object"]]
    assert hits, f"no {check} finding for {obj}: {[(f['check'], f['object']) for f in findings]}"
    return hits[0]


def test_every_table_level_risk_is_named_with_a_fix(schemas: Any, parsed: tuple[DSN, DSN]) -> None:
    source, target = parsed
    code, findings = preflight(
        "--source", _dsn(source), "--target", _dsn(target), "--lob-mode", "limited", "--lob-max-kb", "64"
    )
    db = _schema(source)
    assert code == 2  # the LOB above the limited-mode limit is a blocker
    lob = find(findings, "lob", f"{db}.plain.note")
    assert lob["severity"] == "blocker" and "70,000 bytes" in lob["finding"] and "69" in lob["fix"]
    assert find(findings, "keys", f"{db}.nopk")["severity"] in ("warning", "blocker")
    assert find(findings, "keys", f"{db}.uniq_only")["severity"] == "info"
    assert find(findings, "engine", f"{db}.old_engine")["severity"] == "warning"
    assert find(findings, "generated column", f"{db}.gen.twice")
    assert find(findings, "charset", f"{db}.legacy.name")
    assert find(findings, "charset", f"{db}.plain")["finding"].endswith("utf8mb4_bin on the target")
    assert find(findings, "trigger", f"{db}.trg_plain")
    assert find(findings, "routine", f"{db}.proc_noop")
    assert find(findings, "event", f"{db}.ev_cleanup")
    assert find(findings, "view", f"{db}.v_plain")
    assert find(findings, "definer", "@")
    # MySQL 8 caches AUTO_INCREMENT in information_schema (information_schema_stats_expiry)
    assert "AUTO_INCREMENT counter is" in find(findings, "auto_increment", f"{db}.plain")["finding"]
    assert find(findings, "foreign key", f"{db}.child.fk_child_parent")
    assert find(findings, "prefix index", f"{db}.plain.ix_code_prefix")
    assert find(findings, "size", f"{db}.plain")
    for f in findings:
        assert f["object"] and f["fix"] and f["finding"], f
        assert f["severity"] in ("blocker", "warning", "info")


def test_full_lob_mode_is_no_blocker_for_large_lobs(schemas: Any, parsed: tuple[DSN, DSN]) -> None:
    _, findings = preflight("--source", _dsn(parsed[0]), "--lob-mode", "full", "--lob-max-kb", "64")
    assert find(findings, "lob", "plain.note")["severity"] == "info"


def test_server_settings_match_the_servers(schemas: tuple[Connection, Connection], parsed: tuple[DSN, DSN]) -> None:
    source, target = schemas
    _, findings = preflight("--source", _dsn(parsed[0]), "--target", _dsn(parsed[1]))
    row_format = (source.variable("binlog_format") or "").upper() == "ROW"
    log_bin = (source.variable("log_bin") or "").upper() == "ON"
    assert any(f["object"].endswith("binlog_format") for f in findings) == (not row_format)
    assert any(f["object"].endswith("log_bin") for f in findings) == (not log_bin)
    infile = (target.variable("local_infile") or "").upper() == "ON"
    assert any(f["object"].endswith("local_infile") and f["severity"] == "blocker" for f in findings) == (not infile)
    secure = (target.variable("require_secure_transport") or "").upper() == "ON"
    assert any(f["object"].endswith("require_secure_transport") for f in findings) == (not secure)


def test_missing_replication_grants_are_blockers(
    schemas: tuple[Connection, Connection], parsed: tuple[DSN, DSN]
) -> None:
    source, _ = schemas
    db = _schema(parsed[0])
    source.rows("DROP USER IF EXISTS 'dbkit_reader'@'%'")
    source.rows("CREATE USER 'dbkit_reader'@'%' IDENTIFIED BY 'reader-Password-1'")
    source.rows(f"GRANT SELECT ON `{db}`.* TO 'dbkit_reader'@'%'")
    try:
        code, findings = preflight("--source", _dsn(parsed[0], "dbkit_reader", "reader-Password-1"))
    finally:
        source.rows("DROP USER 'dbkit_reader'@'%'")
    assert code == 2
    grants = {f["finding"].split(":")[0] for f in findings if f["check"] == "grants"}
    assert grants == {"missing REPLICATION CLIENT", "missing REPLICATION SLAVE"}
    assert all(f["object"] == "source user dbkit_reader" for f in findings if f["check"] == "grants")


def test_terminal_table_and_exit_code(schemas: Any, parsed: tuple[DSN, DSN]) -> None:
    proc = run_dbkit("preflight", "--source", _dsn(parsed[0]), "--lob-mode", "limited", "--lob-max-kb", "1")
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout.startswith("severity | object")
    assert "BLOCKER" in proc.stdout and "blockers," in proc.stdout


def test_unreachable_source_is_an_error_not_a_finding() -> None:
    proc = run_dbkit("preflight", "--source", "mysql://root@127.0.0.1:1/x")
    assert proc.returncode == 3 and "cannot connect" in proc.stderr


def test_a_target_that_requires_primary_keys_blocks_key_less_tables(
    schemas: tuple[Connection, Connection], parsed: tuple[DSN, DSN]
) -> None:
    """MySQL 8 has sql_require_primary_key (MariaDB 10.11 has not: then no finding names it)."""
    _, target = schemas
    before = target.variable("sql_require_primary_key")
    if before is not None:
        target.rows("SET GLOBAL sql_require_primary_key = ON")
    try:
        _, findings = preflight("--source", _dsn(parsed[0]), "--target", _dsn(parsed[1]))
    finally:
        if before is not None:
            target.rows(f"SET GLOBAL sql_require_primary_key = {before}")
    nopk = find(findings, "keys", f"{_schema(parsed[0])}.nopk")
    named = [f for f in findings if f["object"].endswith("sql_require_primary_key")]
    if before is None:
        assert nopk["severity"] == "warning" and not named
    else:
        assert nopk["severity"] == "blocker" and "sql_require_primary_key = ON" in nopk["finding"]
        assert any(f["object"].startswith("target") for f in named)
