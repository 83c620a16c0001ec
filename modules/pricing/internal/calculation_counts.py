"""Exact counts of the stored calculations that stay cheap as the history grows.

`COUNT(*)` reads one index entry per row it counts: over a million calculations that is tens of milliseconds
for every history page (each carries its `total`) and every `/pricing/calculations/count`, and it grows with the
history. The contract wants the real total (docs/api.md §2), so this counts differently instead of guessing:

- A calculation never changes (docs/api.md §6.3) and is stored at the moment it is made (`created_at`, UTC), so
  once a UTC day is over its number of calculations never changes again. `price_calculation_days`
  (`models.CalculationDay`) keeps that number for the days that are over, filled on first need by one grouped
  count over the days not kept yet (the whole history once, then one day at a time); days without
  calculations have no row, but the last day counted always has one, which marks how far the table goes.
- A count without a carrier, customer or search adds up the kept days inside the window and counts only the
  rest from the rows through the `created_at` index: the part of a day at either edge of the window, and the
  days not over yet. Its cost grows with the days of the history (a few hundred short rows a year) and the
  calculations of about a day, not with the history's size.
- "Over" means ended more than `SETTLE` ago: a calculation made just before midnight commits a moment later,
  and the clocks of the processes storing calculations may differ a little. A calculation committed more than
  `SETTLE` after the day it is dated ended would not be counted; none is (a request's transaction lasts
  seconds), as long as the clocks of those processes agree within `SETTLE` (NTP).
- A count by carrier or customer reads the history's composite index for it (a carrier's or a customer's
  calculations only); a search reads every row (a substring of the request id has no index to use).

What is kept follows from the calculations alone, so it is safe to delete: the next count refills it. Rows
changed or deleted behind the module's back (a manual `DELETE` of old calculations) must also delete the days
they fall on from `price_calculation_days`, and every process must be restarted (each remembers how far the
table went).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Date, Select, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.dml import Insert

from kernel.db.pages import search_clause
from modules.pricing.internal.models import CalculationDay, PriceCalculation

SETTLE = timedelta(minutes=10)
"""How long after its end a UTC day counts as over: no calculation dated that day is committed later."""


def _start(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _first_whole_day(moment: datetime) -> date:
    """The first day that starts at or after `moment`."""
    day = moment.astimezone(UTC).date()
    return day if _start(day) == moment else day + timedelta(days=1)


def _counted(since: datetime | None, until: datetime | None) -> Select[Any]:
    statement = select(func.count()).select_from(PriceCalculation)
    if since is not None:
        statement = statement.where(PriceCalculation.created_at >= since)
    if until is not None:
        statement = statement.where(PriceCalculation.created_at < until)
    return statement


def _insert_ignoring_kept(dialect: str) -> Insert:
    if dialect in {"mysql", "mariadb"}:
        return insert(CalculationDay).prefix_with("IGNORE")
    if dialect == "sqlite":
        return insert(CalculationDay).prefix_with("OR IGNORE")
    raise NotImplementedError(f"no insert-or-ignore for the {dialect!r} dialect")


def now() -> datetime:
    return datetime.now(UTC)


class CalculationCounts:
    """Counts of the history, with the days that are over added up from `price_calculation_days`.

    A count is one statement (`statement`), read on the caller's connection, after `settle` has made sure
    the table holds every day that is over: `settle` commits on a connection of its own, so it must run before
    the caller's connection reads anything (a reader keeps the snapshot of its first read)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._kept_before: date | None = None
        """This process knows every day before this one to be in the table (or to have no calculation)."""

    async def settle(self) -> date:
        """The first day that is not over; every day before it with calculations is in the table on return."""
        settled = (now() - SETTLE).date()
        if self._kept_before is None or self._kept_before < settled:
            await self._keep_days_before(settled)
            self._kept_before = settled
        return settled

    def statement(
        self,
        filtered: Select[Any],
        *,
        settled: date,
        by_row: bool,
        since: datetime | None,
        until: datetime | None,
        search: str | None = None,
        search_columns: Sequence[Any] = (),
    ) -> Select[Any]:
        """The count of `filtered` (a select from the history with its filters applied) as one scalar select.

        `by_row` when it filters by more than the window `[since, until)` of `created_at` (a carrier, a
        customer): the index of that filter then counts its rows. With `search` every row is read."""
        if search:
            filtered = filtered.where(search_clause(search_columns, search))
        if by_row or search:
            return select(func.count()).select_from(filtered.order_by(None).subquery())
        first = _first_whole_day(since) if since is not None else None
        last = min(until.astimezone(UTC).date(), settled) if until is not None else settled  # exclusive
        if first is not None and first >= last:
            return _counted(since, until)
        kept = select(func.coalesce(func.sum(CalculationDay.calculations), 0)).where(CalculationDay.day < last)
        if first is not None:
            kept = kept.where(CalculationDay.day >= first)
        total: Any = kept.scalar_subquery() + _counted(_start(last), until).scalar_subquery()
        if since is not None and first is not None and since < _start(first):
            total = total + _counted(since, _start(first)).scalar_subquery()
        return select(total)

    async def _keep_days_before(self, settled: date) -> None:
        """Add to `price_calculation_days` every day before `settled` it does not hold yet."""
        async with self._engine.begin() as connection:
            last_kept = await connection.scalar(select(func.max(CalculationDay.day)))
            if last_kept is not None:
                start = last_kept + timedelta(days=1)
            else:
                first_moment = await connection.scalar(select(func.min(PriceCalculation.created_at)))
                start = first_moment.date() if first_moment is not None else settled
            if start >= settled:
                return
            day = func.date(PriceCalculation.created_at, type_=Date)
            counted = await connection.execute(
                select(day, func.count())
                .where(PriceCalculation.created_at >= _start(start), PriceCalculation.created_at < _start(settled))
                .group_by(day)
            )
            days = {found: int(n) for found, n in counted}
            days.setdefault(settled - timedelta(days=1), 0)  # the mark of how far the table goes
            rows = [{"day": d, "calculations": n} for d, n in sorted(days.items())]
            await connection.execute(_insert_ignoring_kept(connection.dialect.name), rows)
