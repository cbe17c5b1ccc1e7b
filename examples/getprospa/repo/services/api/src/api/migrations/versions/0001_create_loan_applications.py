"""Create the loan_applications table.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "loan_applications",
        sa.Column("id", mysql.CHAR(26, charset="ascii", collation="ascii_bin"), primary_key=True),
        sa.Column("owner", sa.String(255), nullable=False),
        # Statuses: draft, submitted, withdrawn, in_review, approved, declined
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("business_name", sa.String(200), nullable=False),
        sa.Column("abn", sa.String(11), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("term_months", sa.BigInteger(), nullable=False),
        sa.Column("purpose", sa.String(500), nullable=True),
        sa.Column("trading_since", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", mysql.DATETIME(fsp=6), nullable=False),
        sa.Column("updated_at", mysql.DATETIME(fsp=6), nullable=False),
        mysql_engine="InnoDB",
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )


def downgrade() -> None:
    op.drop_table("loan_applications")
