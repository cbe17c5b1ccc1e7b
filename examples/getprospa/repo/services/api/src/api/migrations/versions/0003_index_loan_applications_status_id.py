"""Index loan_applications by status and id: staff work queues (for example everything submitted).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_loan_applications_status_id", "loan_applications", ["status", "id"])


def downgrade() -> None:
    op.drop_index("ix_loan_applications_status_id", table_name="loan_applications")
