"""count calculations by day and index rules by creation time

The history's counts (and the total of every history page) add up per-day counts of the days that are over
instead of counting a table that only grows: `price_calculation_days` holds them, filled as counts need them
(modules/pricing/internal/calculation_counts.py), so it starts empty on an existing database too. The rule
list's default order, newest first, reads `ix_pricing_rules_created_at` instead of sorting every rule.

Revision ID: 8e926b9e8cf7
Revises: e34179ae52f4
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8e926b9e8cf7"
down_revision: str | None = "e34179ae52f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "price_calculation_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("calculations", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_price_calculation_days")),
    )
    with op.batch_alter_table("pricing_rules", schema=None) as batch_op:
        batch_op.create_index("ix_pricing_rules_created_at", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pricing_rules", schema=None) as batch_op:
        batch_op.drop_index("ix_pricing_rules_created_at")

    op.drop_table("price_calculation_days")
