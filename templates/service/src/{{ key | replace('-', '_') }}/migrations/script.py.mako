"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}

One DDL statement per revision: MySQL commits DDL implicitly. Expand first
(add nullable columns, new tables, new indexes), deploy, then contract in a
later release (see README.md).
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401 - remove the noqa once the revision uses it
from alembic import op  # noqa: F401
${imports if imports else ""}
revision = "${up_revision}"
down_revision = ${'"%s"' % down_revision if down_revision else "None"}
branch_labels = None
depends_on = None


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
