"""Schema compatibility: which database schemas this build of the code can serve.

Old code cannot know the Alembic revision ids of migrations written after it, so
readiness never compares revisions. Instead:

- every migration revision is numbered (0001, 0002, ...) and its number is the schema
  version it produces; `migrate` records the head's number in the one-row
  `schema_version` table, never lowering it (a build that is older than the schema
  leaves it alone);
- REQUIRED_SCHEMA_VERSION is the oldest schema this code runs on: raise it in the same
  change as code that needs a new migration's column or table;
- a contract migration (one that drops or renames what older code still reads) sets
  `breaks_code_below = <schema version>` in its module; `migrate` records the highest
  such value as `compatible_from`, and code requiring less refuses to become ready.

A pod is compatible when compatible_from <= REQUIRED_SCHEMA_VERSION <= version: the
schema is at or ahead of what the code needs. The expand/contract rule in
docs/runbooks/promotion.md keeps every deploy on the compatible side.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from .db import SCHEMA_VERSION

REQUIRED_SCHEMA_VERSION = 5
"""The oldest schema version (revision number) this code runs on."""


@dataclass(frozen=True)
class Recorded:
    version: int
    compatible_from: int


def read(conn: sa.Connection) -> Recorded | None:
    """The recorded schema version, or None before the migration that records it."""
    try:
        row = conn.execute(
            sa.select(SCHEMA_VERSION.c.version, SCHEMA_VERSION.c.compatible_from)
        ).first()
    except sa.exc.ProgrammingError:  # no such table: migrations have not run yet
        conn.rollback()
        return None
    return None if row is None else Recorded(int(row[0]), int(row[1]))


def problem(
    recorded: Recorded | None, required: int = REQUIRED_SCHEMA_VERSION
) -> tuple[str, str] | None:
    """(status, detail) saying why this code cannot serve the recorded schema, or None."""
    if recorded is None or recorded.version < required:
        have = "none" if recorded is None else recorded.version
        return "migrations pending", f"schema version {have}; this code needs {required}"
    if recorded.compatible_from > required:
        return "schema incompatible", (
            f"schema version {recorded.version} serves code needing "
            f"{recorded.compatible_from} or later; this code needs {required}"
        )
    return None
