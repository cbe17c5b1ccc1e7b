"""schema copy on real servers: the source's tables land on an empty target exactly, or not at all."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from platformgen_dbkit.db import DSN, Connection
from platformgen_dbkit.names import HEARTBEAT_TABLE

from conftest import run_dbkit

SOURCE_SCHEMA = [
    # a_child sorts before the table it references: creation order must not matter
    "CREATE TABLE a_child (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, parent_id INT NOT NULL, "
    "note VARCHAR(200) CHARACTER SET latin1 COLLATE latin1_swedish_ci NULL, "
    "KEY ix_note_prefix (note(10)), "
    "CONSTRAINT fk_child_parent FOREIGN KEY (parent_id) REFERENCES z_parent (id) ON DELETE CASCADE"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin AUTO_INCREMENT=5000",
    "CREATE TABLE z_parent (id INT NOT NULL PRIMARY KEY, code VARCHAR(16) NOT NULL, a INT, "
    "twice INT AS (a * 2) VIRTUAL, doc JSON NULL, amount DECIMAL(12,2) NOT NULL DEFAULT 0.00, "
    "UNIQUE KEY uq_code (code), KEY ix_a_code (a, code)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    "CREATE TABLE composite (tenant INT NOT NULL, seq INT NOT NULL, v TEXT, PRIMARY KEY (tenant, seq))",
    f"CREATE TABLE {HEARTBEAT_TABLE} (id TINYINT UNSIGNED PRIMARY KEY, seq BIGINT UNSIGNED NOT NULL, "
    "written_at DATETIME(6) NOT NULL)",
    "CREATE VIEW v_parent AS SELECT id, code FROM z_parent",
    "CREATE TRIGGER trg_parent BEFORE INSERT ON z_parent FOR EACH ROW SET NEW.code = UPPER(NEW.code)",
    "CREATE PROCEDURE proc_noop() SELECT 1",
    "INSERT INTO z_parent (id, code, a) VALUES (1, 'x', 1)",
    "INSERT INTO a_child (parent_id, note) VALUES (1, 'hello')",
]
TABLES = ["a_child", "composite", HEARTBEAT_TABLE, "z_parent"]


def _db(dsn: DSN) -> str:
    return f"{dsn.database}_sc"


def _dsn(dsn: DSN, user: str | None = None, password: str | None = None) -> str:
    pw = password if password is not None else dsn.password
    return f"mysql://{user or dsn.user}:{pw}@{dsn.host}:{dsn.port}/{_db(dsn)}"


@pytest.fixture
def servers(parsed: tuple[DSN, DSN]) -> Iterator[tuple[Connection, Connection]]:
    source, target = Connection(parsed[0]), Connection(parsed[1])
    for conn in (source, target):
        conn.rows(f"DROP DATABASE IF EXISTS `{_db(conn.dsn)}`")
        conn.rows(f"CREATE DATABASE `{_db(conn.dsn)}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        conn.rows(f"USE `{_db(conn.dsn)}`")
    source.rows("SET SESSION foreign_key_checks = 0")  # a_child is created before its parent
    for sql in SOURCE_SCHEMA:
        source.rows(sql)
    source.rows("SET SESSION foreign_key_checks = 1")
    yield source, target
    for conn in (source, target):
        conn.rows(f"DROP DATABASE IF EXISTS `{_db(conn.dsn)}`")
        conn.close()


def _copy(parsed: tuple[DSN, DSN], *args: str, target: str | None = None) -> tuple[int, Any, str]:
    proc = run_dbkit("schema", "copy", "--source", _dsn(parsed[0]), "--target", target or _dsn(parsed[1]), *args)
    out: Any = proc.stdout
    if "--json" in args and proc.returncode == 0:
        out = json.loads(proc.stdout)
    return proc.returncode, out, proc.stderr


def _tables(conn: Connection) -> list[str]:
    return [
        str(r[0])
        for r in conn.rows(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME"
        )
    ]


def _ddl(conn: Connection, table: str) -> str:
    return str(conn.row(f"SHOW CREATE TABLE `{table}`")[1])  # type: ignore[index]


def test_the_tables_land_exactly_and_nothing_else(servers: Any, parsed: tuple[DSN, DSN]) -> None:
    source, target = servers
    code, result, err = _copy(parsed, "--json")
    assert code == 0, err
    assert result["result"] == "copied" and result["created"] == TABLES
    assert _tables(target) == TABLES  # no view: only base tables
    for table in TABLES:
        want = re.sub(r" AUTO_INCREMENT=\d+", "", _ddl(source, table))
        assert _ddl(target, table) == want, table
    assert "AUTO_INCREMENT=" not in _ddl(target, "a_child")  # the counter is cutover's job
    fks = target.rows(
        "SELECT CONSTRAINT_NAME, REFERENCED_TABLE_NAME, DELETE_RULE FROM information_schema.REFERENTIAL_CONSTRAINTS "
        "WHERE CONSTRAINT_SCHEMA = DATABASE()"
    )
    assert [tuple(map(str, r)) for r in fks] == [("fk_child_parent", "z_parent", "CASCADE")]
    assert target.value("SELECT COUNT(*) FROM a_child") == 0  # schema only: DMS loads the rows
    skipped = {item["object"] for item in result["not_copied"]}
    assert skipped == {"view v_parent", "trigger trg_parent (on z_parent)", "procedure proc_noop"}
    assert all(item["why"] and item["fix"] for item in result["not_copied"])
    assert result["notes"] == []  # same defaults, and the heartbeat table is there


def test_a_source_without_the_heartbeat_table_gets_a_note(servers: Any, parsed: tuple[DSN, DSN]) -> None:
    source, _ = servers
    source.rows(f"DROP TABLE {HEARTBEAT_TABLE}")
    code, result, err = _copy(parsed, "--json", "--dry-run")
    assert code == 0, err
    assert [n for n in result["notes"] if f"no {HEARTBEAT_TABLE} table yet" in n and "dbkit lag" in n]


def test_a_target_that_is_not_empty_is_refused_and_left_alone(servers: Any, parsed: tuple[DSN, DSN]) -> None:
    _, target = servers
    target.rows("CREATE TABLE already_here (id INT PRIMARY KEY)")
    code, _, err = _copy(parsed)
    assert code == 2, err
    assert (
        "dbkit schema copy: refused: the target" in err
        and "is not empty (table already_here)" in err
        and "fix: point --target at a new, empty database" in err
    )
    assert _tables(target) == ["already_here"]
    target.rows("DROP TABLE already_here")
    target.rows("CREATE PROCEDURE leftover() SELECT 1")  # not only tables count
    code, _, err = _copy(parsed)
    assert code == 2 and "procedure leftover" in err, err


def test_a_second_copy_is_refused(servers: Any, parsed: tuple[DSN, DSN]) -> None:
    assert _copy(parsed)[0] == 0
    code, _, err = _copy(parsed)
    assert code == 2 and "not empty" in err


def test_dry_run_prints_the_statements_and_creates_nothing(servers: Any, parsed: tuple[DSN, DSN]) -> None:
    _, target = servers
    code, out, err = _copy(parsed, "--dry-run", "--tables", "z_parent,a_child")
    assert code == 0, err
    assert "CREATE TABLE `a_child`" in out and "CREATE TABLE `z_parent`" in out and "composite" not in out
    assert "would create 2 tables" in out
    assert _tables(target) == []


def test_a_failed_create_leaves_the_target_empty(servers: Any, parsed: tuple[DSN, DSN]) -> None:
    """The target user may create a_child but not z_parent: the copy stops and drops a_child again."""
    _, target = servers
    db = _db(parsed[1])
    target.rows("DROP USER IF EXISTS 'dbkit_partial'@'%'")
    target.rows("CREATE USER 'dbkit_partial'@'%' IDENTIFIED BY 'partial-Password-1'")
    target.rows(f"GRANT SELECT ON `{db}`.* TO 'dbkit_partial'@'%'")
    for table in ("a_child", "composite", HEARTBEAT_TABLE):
        target.rows(f"GRANT CREATE, DROP, INDEX, REFERENCES ON `{db}`.`{table}` TO 'dbkit_partial'@'%'")
    partial = _dsn(parsed[1], "dbkit_partial", "partial-Password-1")
    try:
        code, _, err = _copy(parsed, target=partial)
    finally:
        target.rows("DROP USER 'dbkit_partial'@'%'")
    assert code == 3, err
    assert "creating table z_parent" in err and "the 3 tables created before it were dropped again" in err, err
    assert _tables(target) == []


def test_bad_input(servers: Any, parsed: tuple[DSN, DSN]) -> None:
    code, _, err = _copy(parsed, "--tables", "nope")
    assert code == 3 and "no such table: nope" in err
    code, _, err = _copy(parsed, "--target", _dsn(parsed[0]))
    assert code == 3 and "same database" in err
