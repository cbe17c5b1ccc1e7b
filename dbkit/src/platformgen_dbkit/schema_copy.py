"""schema copy: the source's tables (columns, indexes, foreign keys) onto an empty target.

Run once, before DMS's full load, so the target has exactly the source's types, charsets,
collations, secondary and prefix indexes, generated columns and foreign keys: DMS's own
table preparation creates only what it needs to load rows, and would leave those out.

- The target database must be empty (no table, view, routine or event): a target that
  already holds objects is refused (exit 2) and left as it was.
- Each table's DDL is the source's `SHOW CREATE TABLE`, minus the AUTO_INCREMENT counter
  (DMS loads explicit ids; `cutover` sets the counters). Foreign key checks are off in the
  copying session, so tables are created in name order whatever their references.
- Views, triggers, stored programs and events are not copied: they belong on the target
  after the full load (a trigger would fire on every loaded row). The report lists them.
- All or nothing: when a CREATE fails, the tables this run created are dropped again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .db import DSN, Connection, session
from .errors import DbkitError
from .names import HEARTBEAT_TABLE
from .schema import list_tables, quote

_COUNTER = re.compile(r" AUTO_INCREMENT=\d+")


class TargetNotEmpty(DbkitError):
    """The target database already holds objects: schema copy refuses (exit 2)."""


@dataclass
class CopyPlan:
    statements: list[tuple[str, str]]  # (table, CREATE TABLE ...)
    not_copied: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def table_ddl(conn: Connection, table: str) -> str:
    """The source's CREATE TABLE for `table`, without its AUTO_INCREMENT counter."""
    row = conn.row(f"SHOW CREATE TABLE {quote(table)}")
    if row is None:
        raise DbkitError(f"{conn.dsn.label}: table {table} disappeared while reading the schema", "run again")
    ddl = str(row[1])
    body_end = ddl.rfind(")")  # table options follow the column list's closing parenthesis
    return ddl[:body_end] + _COUNTER.sub("", ddl[body_end:])


def _objects(conn: Connection) -> list[str]:
    """Every object in the connection's database that a copy could collide with."""
    found = [
        f"{str(kind).lower().replace('base ', '')} {name}"
        for name, kind in conn.rows(
            "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
            "ORDER BY TABLE_NAME"
        )
    ]
    found += [
        f"{str(kind).lower()} {name}"
        for name, kind in conn.rows(
            "SELECT ROUTINE_NAME, ROUTINE_TYPE FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() "
            "ORDER BY ROUTINE_NAME"
        )
    ]
    found += [
        f"event {name}"
        for (name,) in conn.rows(
            "SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE() ORDER BY EVENT_NAME"
        )
    ]
    return found


def _not_copied(conn: Connection) -> list[dict[str, str]]:
    later = "create it on the target after the full load (`dbkit preflight` names it too)"
    out = [
        {"object": f"view {name}", "why": "DMS loads tables only; a view reads the loaded tables", "fix": later}
        for (name,) in conn.rows(
            "SELECT TABLE_NAME FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME"
        )
    ]
    out += [
        {"object": f"trigger {name} (on {table})", "why": "it would fire on every row DMS loads", "fix": later}
        for name, table in conn.rows(
            "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS "
            "WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY TRIGGER_NAME"
        )
    ]
    out += [
        {"object": o, "why": "stored programs and events are not part of the data", "fix": later}
        for o in _objects(conn)
        if o.split(" ", 1)[0] in ("procedure", "function", "event")
    ]
    return out


def plan_copy(src: Connection, tgt: Connection, tables: list[str] | None, exclude: list[str]) -> CopyPlan:
    available = list_tables(src)
    unknown = [t for t in tables or [] if t not in available]
    if unknown:
        raise DbkitError(
            f"{src.dsn.label}: no such table: {', '.join(unknown)}",
            f"the tables there are: {', '.join(available) or '(none)'}",
        )
    wanted = [t for t in (tables or available) if t not in set(exclude)]
    if not wanted:
        raise DbkitError(f"{src.dsn.label}: no table to copy", "check --tables and --exclude")
    plan = CopyPlan([(t, table_ddl(src, t)) for t in sorted(wanted)], _not_copied(src))
    if HEARTBEAT_TABLE not in available:
        plan.notes.append(
            f"the source has no {HEARTBEAT_TABLE} table yet: `dbkit lag` creates it on the source; run it once "
            "before the DMS task starts (and before this copy), so the table is on the target and DMS carries its row"
        )
    charsets = [
        src.row("SELECT @@character_set_database, @@collation_database"),
        tgt.row("SELECT @@character_set_database, @@collation_database"),
    ]
    if charsets[0] != charsets[1]:
        plan.notes.append(
            f"the source database's default is {charsets[0]}, the target's {charsets[1]}: copied tables keep "
            "the source's, tables created later get the target's (ALTER DATABASE on the target to align them)"
        )
    return plan


def _create(tgt: Connection, plan: CopyPlan, sql_mode: str | None) -> list[str]:
    tgt.rows("SET SESSION foreign_key_checks = 0")
    if sql_mode is not None:
        try:  # zero-date defaults and the like are read as the source reads them
            tgt.rows("SET SESSION sql_mode = %s", (sql_mode,))
        except DbkitError:
            plan.notes.append(f"the target does not know the source's sql_mode ({sql_mode}): its own was used")
    created: list[str] = []
    try:
        for name, ddl in plan.statements:
            tgt.rows(ddl)
            created.append(name)
    except DbkitError as exc:
        undone = []
        for name in reversed(created):
            try:
                tgt.rows(f"DROP TABLE {quote(name)}")
                undone.append(name)
            except DbkitError:
                pass
        left = [n for n in created if n not in undone]
        failed = plan.statements[len(created)][0]
        raise DbkitError(
            f"creating table {failed} on the {tgt.dsn.label} failed: {exc.message}; "
            + (
                f"the {len(undone)} tables created before it were dropped again: the target is empty"
                if not left
                else f"these tables could not be dropped again: {', '.join(left)}"
            ),
            exc.fix or "give the target user CREATE, DROP, INDEX, REFERENCES and ALTER on the database, then run again",
        ) from None
    finally:
        tgt.rows("SET SESSION foreign_key_checks = 1")
    return created


def copy_schema(
    source: DSN, target: DSN, *, tables: list[str] | None = None, exclude: list[str] | None = None, dry_run: bool
) -> dict[str, Any]:
    if (source.host, source.port, source.database) == (target.host, target.port, target.database):
        raise DbkitError("source and target are the same database", "point --target at the empty target database")
    with session(source) as src, session(target) as tgt:
        existing = _objects(tgt)
        if existing:
            shown = ", ".join(existing[:10]) + (f" and {len(existing) - 10} more" if len(existing) > 10 else "")
            raise TargetNotEmpty(
                f"the {target.label} is not empty ({shown}): schema copy only creates a schema on an empty database",
                "point --target at a new, empty database (or drop its objects yourself if they are leftovers)",
            )
        plan = plan_copy(src, tgt, tables, exclude or [])
        created: list[str] = []
        if not dry_run:
            created = _create(tgt, plan, str(src.value("SELECT @@GLOBAL.sql_mode")))
        return {
            "tool": "dbkit schema copy",
            "result": "planned" if dry_run else "copied",
            "source": {**source.public(), "server": src.version},
            "target": {**target.public(), "server": tgt.version},
            "tables": [{"table": name, "statement": ddl} for name, ddl in plan.statements],
            "created": created,
            "not_copied": plan.not_copied,
            "notes": plan.notes,
        }
