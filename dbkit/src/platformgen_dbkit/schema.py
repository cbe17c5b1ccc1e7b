"""What a schema holds: tables, columns and the key each table is chunked along."""

from __future__ import annotations

from dataclasses import dataclass, field

from .db import Connection
from .errors import DbkitError


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str  # lower case: int, varchar, json, ...
    column_type: str
    nullable: bool
    charset: str | None
    collation: str | None
    generated: bool
    is_json: bool  # a real JSON column (MySQL 8) or MariaDB's JSON alias (LONGTEXT + json_valid)


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key_name: str | None  # PRIMARY, or a unique index over NOT NULL columns
    key: tuple[str, ...]  # the chunking key's columns, in index order
    engine: str
    rows_estimate: int
    data_bytes: int
    collation: str | None = None
    column_names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "column_names", tuple(c.name for c in self.columns))

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def quote(name: str) -> str:
    """Quote an identifier (names come from the server's catalog, never from the user)."""
    return "`" + name.replace("`", "``") + "`"


def list_tables(conn: Connection) -> list[str]:
    rows = conn.rows(
        "SELECT TABLE_NAME FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME"
    )
    return [str(r[0]) for r in rows]


def _json_columns(conn: Connection, table: str) -> set[str]:
    """MariaDB stores JSON as LONGTEXT with a json_valid() CHECK named after the column."""
    if conn.flavor != "mariadb":
        return set()
    rows = conn.rows(
        "SELECT CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
        "WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = %s",
        (table,),
    )
    return {str(name) for name, clause in rows if str(clause).replace(" ", "").lower().startswith("json_valid(")}


def describe(conn: Connection, table: str) -> Table:
    info = conn.row(
        "SELECT ENGINE, COALESCE(TABLE_ROWS, 0), COALESCE(DATA_LENGTH, 0), TABLE_COLLATION "
        "FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s "
        "AND TABLE_TYPE = 'BASE TABLE'",
        (table,),
    )
    if info is None:
        raise DbkitError(
            f"{conn.dsn.label}: table {table!r} does not exist",
            "check the name (names are case-sensitive on Linux servers) or leave it out of --tables",
        )
    json_cols = _json_columns(conn, table)
    columns = tuple(
        Column(
            name=str(name),
            data_type=str(dtype).lower(),
            column_type=str(ctype).lower(),
            nullable=nullable == "YES",
            charset=charset,
            collation=collation,
            generated=bool(gen),
            is_json=str(dtype).lower() == "json" or str(name) in json_cols,
        )
        for name, dtype, ctype, nullable, charset, collation, gen in conn.rows(
            "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, CHARACTER_SET_NAME, "
            "COLLATION_NAME, COALESCE(GENERATION_EXPRESSION, '') <> '' "
            "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s "
            "ORDER BY ORDINAL_POSITION",
            (table,),
        )
    )
    key_name, key = choose_key(conn, table)
    return Table(
        name=table,
        columns=columns,
        key_name=key_name,
        key=key,
        engine=str(info[0] or ""),
        rows_estimate=int(info[1]),
        data_bytes=int(info[2]),
        collation=info[3],
    )


def unique_keys(conn: Connection, table: str) -> dict[str, list[tuple[str, bool, int | None]]]:
    """Unique indexes: name -> [(column, nullable, prefix length)] in index order."""
    out: dict[str, list[tuple[str, bool, int | None]]] = {}
    for index, column, nullable, sub_part in conn.rows(
        "SELECT INDEX_NAME, COLUMN_NAME, NULLABLE, SUB_PART FROM information_schema.STATISTICS "
        "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND NON_UNIQUE = 0 "
        "ORDER BY INDEX_NAME, SEQ_IN_INDEX",
        (table,),
    ):
        out.setdefault(str(index), []).append(
            (str(column), nullable == "YES", int(sub_part) if sub_part is not None else None)
        )
    return out


def choose_key(conn: Connection, table: str) -> tuple[str | None, tuple[str, ...]]:
    """The primary key, else the first unique index whose columns are all NOT NULL and whole."""
    usable = {
        name: tuple(c for c, _, _ in cols)
        for name, cols in unique_keys(conn, table).items()
        if all(not nullable and sub is None for _, nullable, sub in cols)
    }
    if "PRIMARY" in usable:
        return "PRIMARY", usable["PRIMARY"]
    return next(((name, usable[name]) for name in sorted(usable)), (None, ()))
