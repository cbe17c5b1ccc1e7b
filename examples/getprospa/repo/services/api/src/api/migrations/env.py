"""Alembic environment: runs online against the engine and metadata `migrate` passes in."""

from __future__ import annotations

from alembic import context

config = context.config

with config.attributes["engine"].connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=config.attributes["metadata"],
        # MySQL commits DDL implicitly: one revision, one transaction, one DDL statement.
        transaction_per_migration=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
