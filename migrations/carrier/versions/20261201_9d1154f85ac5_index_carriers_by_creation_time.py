"""index carriers by creation time

The carrier list's default order, newest first, reads the index instead of sorting every carrier.

Revision ID: 9d1154f85ac5
Revises: 5a55ea6f0548
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "9d1154f85ac5"
down_revision: str | None = "5a55ea6f0548"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("carriers", schema=None) as batch_op:
        batch_op.create_index("ix_carriers_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("carriers", schema=None) as batch_op:
        batch_op.drop_index("ix_carriers_created_at")
