"""Row locks for read-check-write use cases, the same on MySQL/MariaDB and SQLite.

Two requests changing the same row (or guarding the same rule, such as "an active administrator remains") must
not both read the old state and both write. A use case therefore first locks what it is about to change: a
no-op UPDATE of the rows takes their write locks on MySQL/MariaDB (InnoDB row locks) and the database's write
lock on SQLite, held until commit or rollback. A second writer waits, then reads what the first committed:
MySQL engines run READ COMMITTED (`kernel.db.config`), and on SQLite the lock is the transaction's first
statement, so its reads start after the other writer's commit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession


async def lock_rows(session: AsyncSession, entity: Any, *criteria: ColumnElement[bool]) -> int:
    """Lock the rows of `entity`'s table matching `criteria` for the rest of the transaction; return how many
    matched (0: nothing to change, e.g. a concurrent delete won)."""
    table = entity.__table__
    # Set every column that has an ON UPDATE default to itself too, so the lock leaves `updated_at` alone.
    unchanged = {column.name: column for column in table.columns if column.primary_key or column.onupdate}
    result = await session.execute(update(table).where(*criteria).values(unchanged))
    return int(getattr(result, "rowcount", 0) or 0)


def violates_unique(exc: IntegrityError, table: str, column: str) -> bool:
    """Whether `exc` is the unique constraint on `table.column` (named by our naming convention) failing."""
    text = str(exc.orig) if exc.orig is not None else str(exc)
    # MySQL/MariaDB name the key ("Duplicate entry … for key 'uq_users_email'"), SQLite the column.
    return f"uq_{table}_{column}" in text or f"UNIQUE constraint failed: {table}.{column}" in text
