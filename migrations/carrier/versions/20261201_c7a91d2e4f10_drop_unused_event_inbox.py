"""drop the event inbox: the carrier module subscribes to no event

Revision ID: c7a91d2e4f10
Revises: 5e1c0a7d2b90
Create Date: 2026-12-01 11:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kernel.db.base

revision: str = "c7a91d2e4f10"
down_revision: str | None = "5e1c0a7d2b90"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("carrier_event_inbox")


def downgrade() -> None:
    op.create_table(
        "carrier_event_inbox",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("handler", sa.String(length=150), nullable=False),
        sa.Column("processed_at", kernel.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "handler", name=op.f("pk_carrier_event_inbox")),
    )
