"""Schema migrations with Alembic: the `migrate` command and the readiness check's view of them.

MySQL commits DDL implicitly, so a revision that runs two DDL statements can
fail half-way with no rollback. Every revision here holds exactly one DDL
statement; see README.md for the expand/contract practice.
"""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.dialects import mysql

from . import schema
from .config import Settings
from .db import METADATA, SCHEMA_VERSION, create_engine

log = logging.getLogger(__name__)


def alembic_config(engine: sa.Engine | None = None) -> Config:
    config = Config()
    config.set_main_option(
        "script_location", str(Path(str(resources.files(__package__))) / "migrations")
    )
    config.attributes["metadata"] = METADATA
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def head() -> str:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"migrations must have one head, found {heads}: merge them")
    return heads[0]


def current(conn: sa.Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def upgrade(settings: Settings) -> str:
    """Bring the database to the head revision and record its schema version; return the
    revision the database is at.

    A database a newer build already migrated (a revision this build does not know, and a
    recorded schema version at or above this build's head) is left alone: rolling back
    the code never rolls back the schema (expand/contract, docs/runbooks/promotion.md).
    """
    engine = create_engine(settings.database)
    try:
        scripts = ScriptDirectory.from_config(alembic_config())
        target = head()
        with engine.connect() as conn:
            before = current(conn)
            recorded = schema.read(conn)
        known = {r.revision for r in scripts.walk_revisions()}
        if before is not None and before not in known:
            if recorded is not None and recorded.version >= int(target):
                log.info(
                    "schema ahead of this build: nothing to migrate",
                    extra={"revision": before, "schema_version": recorded.version},
                )
                return before
            raise RuntimeError(
                f"the database is at revision {before}, unknown to this build, and records "
                f"no schema version at or above {target}: deploy the build that wrote it"
            )
        command.upgrade(alembic_config(engine), "head")
        _record(engine, scripts, target)
        log.info("migrated", extra={"from_revision": before, "to_revision": target})
        return target
    finally:
        engine.dispose()


def _record(engine: sa.Engine, scripts: ScriptDirectory, target: str) -> None:
    """Record the head's schema version and the oldest code version it still serves; both
    only ever rise (GREATEST), so an older build's `migrate` never lowers them."""
    compatible_from = max(
        [1, *(getattr(r.module, "breaks_code_below", 1) for r in scripts.walk_revisions())]
    )
    values = {
        "id": 1,
        "version": int(target),
        "compatible_from": compatible_from,
        "updated_at": sa.func.utc_timestamp(6),
    }
    statement = mysql.insert(SCHEMA_VERSION).values(values)
    statement = statement.on_duplicate_key_update(
        version=sa.func.greatest(SCHEMA_VERSION.c.version, statement.inserted.version),
        compatible_from=sa.func.greatest(
            SCHEMA_VERSION.c.compatible_from, statement.inserted.compatible_from
        ),
        updated_at=statement.inserted.updated_at,
    )
    with engine.begin() as conn:
        conn.execute(statement)


def revision(message: str) -> str:
    """Write the next empty, numbered revision (0005, 0006, ...); return its path."""
    script = ScriptDirectory.from_config(alembic_config())
    number = max(int(r.revision) for r in script.walk_revisions()) + 1
    created = command.revision(alembic_config(), message=message, rev_id=f"{number:04d}")
    return str(created.path) if created and not isinstance(created, list) else ""


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 3 or sys.argv[1] != "revision":
        sys.exit('usage: python -m <package>.migrate revision "message"')
    print(revision(sys.argv[2]))
