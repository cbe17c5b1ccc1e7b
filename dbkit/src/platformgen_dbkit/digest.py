"""The chunk digest: SQL that each server runs over its own rows, so no row crosses the network.

A chunk's digest is (row count, exact sum of a 64-bit slice of each row's salted SHA-256).
A sum of strong per-row hashes cannot cancel the way XOR-folded CRC32s do: two rows whose
values are swapped, or two equal changes, change the sum unless 64-bit hashes collide.
Each row's hash covers every column, the key included, in a canonical text:

| type | how it enters the row text |
|---|---|
| CHAR, VARCHAR, TEXT, ENUM, SET | byte length, then the bytes in utf8mb4 (trailing spaces and case kept) |
| BINARY, VARBINARY, BLOB, BIT | byte length, then the bytes |
| DECIMAL, integers | the server's exact decimal text (declared scale kept) |
| FLOAT | CAST(... AS DOUBLE): the exact binary value (FLOAT text rounds to 6 digits) |
| DOUBLE | the server's shortest round-trip text |
| DATE, TIME, DATETIME | the text as stored |
| TIMESTAMP | the text in UTC: every session runs with time_zone '+00:00' |
| JSON | MySQL 8: its normalised text; MariaDB (LONGTEXT): JSON_NORMALIZE, then SHA-256 |
| spatial | SHA-256 of ST_AsBinary |

NULL never enters as text: a bitmap of ISNULL() flags ends the row, so NULL and '' differ.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .schema import Column, Table, quote

DIGEST_VERSION = 1
_STRINGS = {"char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set"}
_BINARY = {"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"}
_SPATIAL = {
    "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
    "multipolygon", "geometrycollection", "geomcollection",
}  # fmt: skip


def column_expressions(col: Column, flavor: str) -> list[str]:
    """The SQL expressions a column contributes to the row text (NULL when the value is NULL)."""
    c = quote(col.name)
    t = col.data_type
    if col.is_json:
        if flavor == "mariadb":
            return [f"SHA2(JSON_NORMALIZE({c}), 256)"]
        return [f"SHA2(CAST({c} AS CHAR), 256)"]
    if t in _STRINGS:
        if col.charset in (None, "utf8mb4"):
            return [f"LENGTH({c})", c]
        conv = f"CONVERT({c} USING utf8mb4)"
        return [f"LENGTH({conv})", conv]
    if t in _BINARY:
        return [f"LENGTH({c})", c]
    if t == "bit":
        return [f"CAST({c} AS UNSIGNED)"]
    if t == "float":
        return [f"CAST({c} AS DOUBLE)"]
    if t in _SPATIAL:
        return [f"SHA2(ST_AsBinary({c}), 256)"]
    return [c]


def row_text(table: Table, columns: Sequence[str], flavor: str, salt: str) -> str:
    """SQL for the canonical text of one row over `columns`."""
    parts = [f"'{salt}'"]
    for name in columns:
        parts.extend(column_expressions(table.column(name), flavor))
    nullable = [quote(n) for n in columns if table.column(n).nullable]
    if nullable:
        parts.append("CONCAT(" + ", ".join(f"ISNULL({n})" for n in nullable) + ")")
    return "CONCAT_WS('#', " + ", ".join(parts) + ")"


def row_hash(table: Table, columns: Sequence[str], flavor: str, salt: str) -> str:
    return f"SHA2({row_text(table, columns, flavor, salt)}, 256)"


def row_value(table: Table, columns: Sequence[str], flavor: str, salt: str) -> str:
    """The 64-bit unsigned slice of the row hash that the chunk sum adds up."""
    return f"CAST(CONV(LEFT({row_hash(table, columns, flavor, salt)}, 16), 16, 10) AS UNSIGNED)"


def _bound(key: Sequence[str], strict: str, last: str) -> str:
    """(k1,...,kn) <op> (v1,...,vn) expanded so every server uses a range scan on the key."""
    terms = []
    for i in range(len(key)):
        eq = [f"{quote(k)} = %s" for k in key[:i]]
        op = last if i == len(key) - 1 else strict
        terms.append("(" + " AND ".join([*eq, f"{quote(key[i])} {op} %s"]) + ")")
    return "(" + " OR ".join(terms) + ")"


def _bound_args(values: Sequence[Any]) -> list[Any]:
    args: list[Any] = []
    for i in range(len(values)):
        args.extend(values[: i + 1])
    return args


def range_where(key: Sequence[str], lo: Sequence[Any] | None, hi: Sequence[Any] | None) -> tuple[str, list[Any]]:
    """WHERE clause for lo <= key < hi (either end open), with its arguments."""
    clauses, args = [], []
    if lo is not None:
        clauses.append(_bound(key, ">", ">="))
        args.extend(_bound_args(lo))
    if hi is not None:
        clauses.append(_bound(key, "<", "<"))
        args.extend(_bound_args(hi))
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


def force_index(table: Table) -> str:
    return f" FORCE INDEX ({quote(table.key_name)})" if table.key_name else ""


def _range_select(
    table: Table, select: str, lo: Sequence[Any] | None, hi: Sequence[Any] | None, tail: str = ""
) -> tuple[str, list[Any]]:
    """SELECT `select` over the rows lo <= key < hi, along the chunking key's index."""
    where, args = range_where(table.key, lo, hi)
    return f"SELECT {select} FROM {quote(table.name)}{force_index(table)}{where}{tail}", args


def chunk_digest_sql(
    table: Table,
    columns: Sequence[str],
    flavor: str,
    salt: str,
    lo: Sequence[Any] | None,
    hi: Sequence[Any] | None,
) -> tuple[str, list[Any]]:
    value = row_value(table, columns, flavor, salt)
    return _range_select(table, f"COUNT(*), COALESCE(SUM({value}), 0)", lo, hi)


def next_boundary_sql(table: Table, lo: Sequence[Any] | None, size: int) -> tuple[str, list[Any]]:
    """The key of the row `size` rows after lo: the exclusive upper end of the chunk."""
    keys = ", ".join(quote(k) for k in table.key)
    return _range_select(table, keys, lo, None, f" ORDER BY {keys} LIMIT 1 OFFSET {int(size)}")


def row_hashes_sql(
    table: Table,
    columns: Sequence[str],
    flavor: str,
    salt: str,
    lo: Sequence[Any] | None,
    hi: Sequence[Any] | None,
) -> tuple[str, list[Any]]:
    """Key and row hash (its first 64 bits) of every row of one chunk, in key order (the drill-down)."""
    keys = ", ".join(quote(k) for k in table.key)
    select = f"{keys}, LEFT({row_hash(table, columns, flavor, salt)}, 16)"
    return _range_select(table, select, lo, hi, f" ORDER BY {keys}")


def column_values_sql(
    table: Table, columns: Sequence[str], flavor: str, keys: Sequence[Sequence[Any]]
) -> tuple[str, list[Any]]:
    """Per-column canonical values of the rows with these keys, to name the columns that differ."""
    exprs = []
    for name in columns:
        col = table.column(name)
        exprs.append(f"SHA2(CONCAT_WS('#', {', '.join(column_expressions(col, flavor))}, ISNULL({quote(name)})), 256)")
    key_cols = ", ".join(quote(k) for k in table.key)
    match = "(" + " AND ".join(f"{quote(k)} = %s" for k in table.key) + ")"
    where = " OR ".join([match] * len(keys))
    args = [v for key in keys for v in key]
    sql = f"SELECT {key_cols}, {', '.join(exprs)} FROM {quote(table.name)} WHERE {where}"
    return sql, args


def multiset_sql(table: Table, columns: Sequence[str], flavor: str, salt: str) -> str:
    """Tables without a usable key: how many times each row hash occurs."""
    h = row_hash(table, columns, flavor, salt)
    return f"SELECT {h} AS h, COUNT(*) FROM {quote(table.name)} GROUP BY h"
