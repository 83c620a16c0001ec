"""widen the role name key and compare it byte for byte

Lower-casing can lengthen a name ("İ" becomes two characters), and MariaDB's default collation treated
"Café" and "Cafe" as the same key. See kernel.db.base.lookup_key.

Revision ID: 8a3f6d41c2e7
Revises: 4dc919f3d1aa
Create Date: 2026-12-01 07:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "8a3f6d41c2e7"
down_revision: str | None = "4dc919f3d1aa"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key(length: int) -> sa.types.TypeEngine[str]:
    return sa.String(length=length).with_variant(
        mysql.VARCHAR(length=length, collation="utf8mb4_bin"), "mysql", "mariadb"
    )


def upgrade() -> None:
    # On SQLite the table is copied: keep AUTOINCREMENT, so ids of deleted roles are never handed out again.
    with op.batch_alter_table("roles", schema=None, table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.alter_column("name_key", existing_type=sa.String(length=50), type_=_key(100), existing_nullable=False)


def downgrade() -> None:
    # On SQLite the table is copied: keep AUTOINCREMENT, so ids of deleted roles are never handed out again.
    with op.batch_alter_table("roles", schema=None, table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.alter_column("name_key", existing_type=_key(100), type_=sa.String(length=50), existing_nullable=False)
