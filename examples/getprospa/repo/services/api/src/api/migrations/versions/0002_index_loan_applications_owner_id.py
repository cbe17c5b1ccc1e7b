"""Index loan_applications by owner and id: a customer's own list, in id (creation) order.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_loan_applications_owner_id", "loan_applications", ["owner", "id"])


def downgrade() -> None:
    op.drop_index("ix_loan_applications_owner_id", table_name="loan_applications")
