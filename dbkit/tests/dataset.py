"""The test dataset: every hard case for the digest, and a planted difference for each kind.

Both servers get the same rows; then the target gets the differences in PLANTED. Used by
the tests, and runnable to load two servers by hand:

    python tests/dataset.py SOURCE_DSN TARGET_DSN
"""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from platformgen_dbkit.db import Connection, parse_dsn

ROWS = 3000
CHUNK = 100  # with --chunk-size 100, chunk n starts at id 100 * n + 1

HARD_CASES = """
CREATE TABLE hard_cases (
  id INT NOT NULL PRIMARY KEY,
  s VARCHAR(40) NULL,
  pad VARCHAR(40) NOT NULL,
  ci VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL,
  amount DECIMAL(20,6) NOT NULL,
  f FLOAT NULL,
  d DOUBLE NULL,
  local_time DATETIME(6) NOT NULL,
  instant TIMESTAMP(6) NULL DEFAULT NULL,
  doc JSON NULL,
  payload BLOB NULL,
  emoji VARCHAR(40) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci NULL,
  latin VARCHAR(40) CHARACTER SET latin1 NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
"""
COMPOSITE = """
CREATE TABLE composite (
  tenant INT NOT NULL,
  code VARCHAR(16) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL,
  seq INT NOT NULL,
  amount DECIMAL(12,2) NOT NULL,
  note TEXT NULL,
  PRIMARY KEY (tenant, code, seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
"""
NOKEY = "CREATE TABLE nokey (a INT NULL, b VARCHAR(20) NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
SAME = "CREATE TABLE same_rows (id BIGINT NOT NULL PRIMARY KEY, v VARCHAR(20) NOT NULL) ENGINE=InnoDB"
EMPTY = "CREATE TABLE empty_table (id INT NOT NULL PRIMARY KEY, v TEXT) ENGINE=InnoDB"
TABLES = ("hard_cases", "composite", "nokey", "same_rows", "empty_table")

EPOCH = dt.datetime(2024, 2, 29, 23, 59, 59, 999999)

# What verify must report for each table: differing columns per key, and missing/extra keys.
PLANTED = {
    "hard_cases": {
        "missing": {(17,)},
        "extra": {(100000,)},
        "different": {
            (42,): ["amount"],  # a changed value
            (201,): ["s"],  # the first row of chunk 2 (a chunk boundary)
            (300,): ["pad"],  # the last row of chunk 2
            (510,): ["s"],  # 510 and 511 swap their values: XOR-folded CRC32 misses this
            (511,): ["s"],
            (600,): ["pad"],  # a trailing space only
            (700,): ["s"],  # NULL on the source, '' on the target
            (800,): ["ci"],  # case only, in a case-insensitive collation
            (900,): ["f"],  # FLOAT 1.0000001 -> 1.0000002: the same 6-digit text
            (901,): ["d"],  # DOUBLE, one unit in the last place
            (902,): ["instant"],  # TIMESTAMP, one microsecond
            (903,): ["doc"],  # a JSON value
            (904,): ["payload"],  # one byte of a BLOB
            (905,): ["emoji"],  # a character beyond the BMP
            (906,): ["latin"],  # latin1 text
            (907,): ["local_time"],  # DATETIME, one microsecond
        },
    },
    "composite": {
        # Keys are compared exactly: a key that changed case only is a missing and an extra row.
        "missing": {(1, "b", 3), (4, "d", 7)},
        "extra": {(2, "zz", 1), (4, "D", 7)},
        "different": {(3, "c", 5): ["amount"]},
    },
}


def _hard_row(i: int) -> tuple[object, ...]:
    return (
        i,
        None if i % 50 == 0 else f"row-{i:05d}",
        f"pad-{i}" + (" " if i % 7 == 0 else ""),
        f"Name{i}",
        Decimal(i) / Decimal(1000) + Decimal("0.000001"),
        None if i % 11 == 0 else 1.0000001 * i if i != 900 else 1.0000001,
        None if i % 13 == 0 else i / 3.0,
        EPOCH - dt.timedelta(days=i, microseconds=i),
        None if i % 17 == 0 else EPOCH + dt.timedelta(hours=i, microseconds=i),
        None if i % 19 == 0 else f'{{"id": {i}, "tags": ["a", "b"], "nested": {{"x": {i % 5}, "y": null}}}}',
        None if i % 23 == 0 else bytes([i % 256, 0, 255, (i * 7) % 256]) * (1 + i % 5),
        None if i % 29 == 0 else f"smile-{i}-\U0001f600-\u00e9",
        None if i % 31 == 0 else "caf\u00e9" if i == 906 else f"latin-{i}",
    )


def _insert(conn: Connection, sql: str, rows: list[tuple[object, ...]]) -> None:
    raw = conn._conn
    assert raw is not None
    with raw.cursor() as cur:
        for start in range(0, len(rows), 500):
            cur.executemany(sql, rows[start : start + 500])


def load(source: Connection, target: Connection) -> None:
    for conn in (source, target):
        for name in TABLES:
            conn.rows(f"DROP TABLE IF EXISTS {name}")
        for ddl in (HARD_CASES, COMPOSITE, NOKEY, SAME, EMPTY):
            conn.rows(ddl)
    hard = [_hard_row(i) for i in range(1, ROWS + 1)]
    insert = "INSERT INTO hard_cases VALUES (" + ", ".join(["%s"] * 13) + ")"
    _insert(source, insert, hard)
    # The target is loaded in another session time zone, with the TIMESTAMPs given as local
    # times there: the same instants. JSON documents are written with other key order and
    # spacing: the same values.
    target.rows("SET time_zone = '+10:00'")
    shifted = []
    for row in hard:
        r = list(row)
        if r[8] is not None:
            r[8] = r[8] + dt.timedelta(hours=10)
        if r[9] is not None:
            i = row[0]
            r[9] = f'{{"nested":{{"y":null,"x":{i % 5}}},"tags":["a","b"],"id":{i}}}'
        shifted.append(tuple(r))
    _insert(target, insert, shifted)
    target.rows("SET time_zone = '+00:00'")
    comp = [
        (t, code, seq, Decimal(t * 100 + seq) / 4, None if seq % 4 == 0 else f"note {t}/{code}/{seq}")
        for t in range(1, 6)
        for code in ("a", "b", "c", "d", "e")
        for seq in range(1, 41)
    ]
    nokey = [(i % 40, None if i % 9 == 0 else f"v{i % 40}") for i in range(400)]
    same = [(i * 1000, f"same-{i}") for i in range(1, 1201)]
    for conn in (source, target):
        _insert(conn, "INSERT INTO composite VALUES (%s, %s, %s, %s, %s)", comp)
        _insert(conn, "INSERT INTO nokey VALUES (%s, %s)", nokey)
        _insert(conn, "INSERT INTO same_rows VALUES (%s, %s)", same)
    plant(target)


def plant(t: Connection) -> None:
    """The differences of PLANTED, on the target."""
    for sql in (
        "DELETE FROM hard_cases WHERE id = 17",
        "INSERT INTO hard_cases (id, pad, ci, amount, local_time) VALUES (100000, 'x', 'x', 1, '2024-01-01')",
        "UPDATE hard_cases SET amount = amount + 0.000001 WHERE id = 42",
        "UPDATE hard_cases SET s = 'row-0020X' WHERE id = 201",
        "UPDATE hard_cases SET pad = 'pad-30O' WHERE id = 300",
        "UPDATE hard_cases SET s = 'row-00511' WHERE id = 510",
        "UPDATE hard_cases SET s = 'row-00510' WHERE id = 511",
        "UPDATE hard_cases SET pad = CONCAT(pad, ' ') WHERE id = 600",
        "UPDATE hard_cases SET s = '' WHERE id = 700",
        "UPDATE hard_cases SET ci = UPPER(ci) WHERE id = 800",
        "UPDATE hard_cases SET f = 1.0000002 WHERE id = 900",
        "UPDATE hard_cases SET d = 300.33333333333337 WHERE id = 901",
        "UPDATE hard_cases SET instant = instant + INTERVAL 1 MICROSECOND WHERE id = 902",
        """UPDATE hard_cases SET doc = '{"id": 903, "tags": ["a", "c"], "nested": {"x": 3, "y": null}}' WHERE id = 903""",
        "UPDATE hard_cases SET payload = CONCAT(LEFT(payload, 1), 'Z', SUBSTRING(payload, 3)) WHERE id = 904",
        "UPDATE hard_cases SET emoji = REPLACE(emoji, _utf8mb4 0xF09F9880, _utf8mb4 0xF09F9883) WHERE id = 905",
        "UPDATE hard_cases SET latin = 'cafe' WHERE id = 906",
        "UPDATE hard_cases SET local_time = local_time + INTERVAL 1 MICROSECOND WHERE id = 907",
        "DELETE FROM composite WHERE tenant = 1 AND code = 'b' AND seq = 3",
        "INSERT INTO composite VALUES (2, 'zz', 1, 1.00, NULL)",
        "UPDATE composite SET amount = amount + 0.01 WHERE tenant = 3 AND code = 'c' AND seq = 5",
        "UPDATE composite SET code = 'D' WHERE tenant = 4 AND code = 'd' AND seq = 7",
        "UPDATE nokey SET b = 'changed' WHERE a = 5 AND b = 'v5' LIMIT 1",
    ):
        t.rows(sql)


def main(argv: list[str]) -> int:
    source = Connection(parse_dsn(argv[0], "source"))
    target = Connection(parse_dsn(argv[1], "target"))
    load(source, target)
    print("loaded", ", ".join(TABLES))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
