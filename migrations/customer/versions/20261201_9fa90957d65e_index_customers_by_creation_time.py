"""index customers by creation time

The customer list's default order, newest first, reads the index instead of sorting every customer.

Revision ID: 9fa90957d65e
Revises: c7ce7240bdcb
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "9fa90957d65e"
down_revision: str | None = "c7ce7240bdcb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index("ix_customers_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index("ix_customers_created_at")
