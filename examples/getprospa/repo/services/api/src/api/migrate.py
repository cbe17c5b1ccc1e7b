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

from .config import Settings
from .db import METADATA, create_engine

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
    """Bring the database to the head revision; return it."""
    engine = create_engine(settings.database)
    try:
        with engine.connect() as conn:
            before = current(conn)
        command.upgrade(alembic_config(engine), "head")
        target = head()
        log.info("migrated", extra={"from_revision": before, "to_revision": target})
        return target
    finally:
        engine.dispose()


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
