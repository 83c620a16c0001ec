"""index calculation history by carrier, customer and time

The history lists filter by carrier or customer and a time window and show the newest first: composite
indexes ending in `created_at` serve those in one index each, and replace the single-column ones they start
with.

Revision ID: ec198f9d2757
Revises: 2cba9bea2cfc
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "ec198f9d2757"
down_revision: str | None = "2cba9bea2cfc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("price_calculations", schema=None) as batch_op:
        batch_op.create_index("ix_price_calculations_carrier_id_created_at", ["carrier_id", "created_at"], unique=False)
        batch_op.create_index(
            "ix_price_calculations_customer_id_created_at", ["customer_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_price_calculations_created_at", ["created_at"], unique=False)
        batch_op.drop_index(batch_op.f("ix_price_calculations_carrier_id"))
        batch_op.drop_index(batch_op.f("ix_price_calculations_customer_id"))


def downgrade() -> None:
    with op.batch_alter_table("price_calculations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_price_calculations_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_price_calculations_carrier_id"), ["carrier_id"], unique=False)
        batch_op.drop_index("ix_price_calculations_created_at")
        batch_op.drop_index("ix_price_calculations_customer_id_created_at")
        batch_op.drop_index("ix_price_calculations_carrier_id_created_at")
