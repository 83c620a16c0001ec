"""Row locks for read-check-write use cases, the same on MySQL/MariaDB and SQLite.

Two requests changing the same row (or guarding the same rule, such as "an active administrator remains") must
not both read the old state and both write. A use case therefore first locks what it is about to change: a
no-op UPDATE of the rows takes their write locks on MySQL/MariaDB (InnoDB row locks) and the database's write
lock on SQLite, held until commit or rollback. A second writer waits, then reads what the first committed:
MySQL engines run READ COMMITTED (`kernel.db.config`), and on SQLite the lock is the transaction's first
statement, so its reads start after the other writer's commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


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


async def get_locked(session: AsyncSession, entity: type[T], *criteria: ColumnElement[bool]) -> T | None:
    """The one row of `entity` matching `criteria`, locked until the transaction ends and read as last
    committed (not from the session's identity map); None when there is none."""
    if not await lock_rows(session, entity, *criteria):
        return None
    found: T | None = await session.scalar(select(entity).where(*criteria).execution_options(populate_existing=True))
    return found


async def flush_or_conflict(session: AsyncSession, table: str, column: str, conflict: Callable[[], Exception]) -> None:
    """Flush; a concurrent writer that took the unique `table.column` value between our check and our write
    is still the use case's conflict (409). Any other integrity error is not hidden behind that message."""
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        if violates_unique(exc, table, column):
            raise conflict() from None
        raise
