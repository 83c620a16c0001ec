"""widen the carrier name key and compare it byte for byte

Lower-casing can lengthen a name ("İ" becomes two characters), and MariaDB's default collation treated
"Café" and "Cafe" as the same key. See kernel.db.base.lookup_key.

Revision ID: 5e1c0a7d2b90
Revises: b4d78832502f
Create Date: 2026-12-01 07:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "5e1c0a7d2b90"
down_revision: str | None = "b4d78832502f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length=length).with_variant(
        mysql.VARCHAR(length=length, collation="utf8mb4_bin"), "mysql", "mariadb"
    )


def upgrade() -> None:
    # On SQLite the table is copied: keep AUTOINCREMENT, so ids of deleted carriers are never handed out again.
    with op.batch_alter_table("carriers", schema=None, table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.alter_column("name_key", existing_type=sa.String(length=100), type_=_key(200), existing_nullable=False)


def downgrade() -> None:
    # On SQLite the table is copied: keep AUTOINCREMENT, so ids of deleted carriers are never handed out again.
    with op.batch_alter_table("carriers", schema=None, table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.alter_column("name_key", existing_type=_key(200), type_=sa.String(length=100), existing_nullable=False)
