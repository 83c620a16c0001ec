"""drop the event inbox: the user module subscribes to no event

Revision ID: d2b84f6a9c31
Revises: 8a3f6d41c2e7
Create Date: 2026-12-01 11:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kernel.db.base

revision: str = "d2b84f6a9c31"
down_revision: str | None = "8a3f6d41c2e7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("user_event_inbox")


def downgrade() -> None:
    op.create_table(
        "user_event_inbox",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("handler", sa.String(length=150), nullable=False),
        sa.Column("processed_at", kernel.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "handler", name=op.f("pk_user_event_inbox")),
    )
