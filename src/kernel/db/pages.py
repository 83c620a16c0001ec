"""One query shape for every list endpoint: filter, search (portable, case-insensitive), sort, page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from kernel.paging import ListParams, Page

RowT = TypeVar("RowT")


def search_clause(columns: Sequence[InstrumentedAttribute[Any]], term: str) -> ColumnElement[bool]:
    """Substring match ignoring case; `%` and `_` in the term are literal.

    The same SQL shape works on MySQL and SQLite.
    """
    return or_(*(column.icontains(term, autoescape=True) for column in columns))


async def fetch_page(
    executor: AsyncSession | AsyncConnection,
    statement: Select[RowT],
    params: ListParams,
    *,
    model: type[Any],
    search_columns: Sequence[InstrumentedAttribute[Any]],
) -> Page[RowT]:
    """Run `statement` (already filtered) as one page, sorted by `params.sort_by` then id, both the same way.

    An ORM select on a session yields entities; a Core select of columns (on a session or a connection) yields
    rows."""
    if params.search:
        statement = statement.where(search_clause(search_columns, params.search))
    total = await executor.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    sort_column, id_column = getattr(model, params.sort_by), model.id
    ordering = [sort_column.desc(), id_column.desc()] if params.descending else [sort_column.asc(), id_column.asc()]
    result = await executor.execute(statement.order_by(*ordering).offset(params.offset).limit(params.limit))
    items: list[Any] = list(result.scalars() if _selects_one_entity(statement) else result)
    return Page(items=items, total=int(total or 0), page=params.page, limit=params.limit)


def _selects_one_entity(statement: Select[Any]) -> bool:
    descriptions = statement.column_descriptions
    return (
        len(descriptions) == 1
        and isinstance(descriptions[0].get("entity"), type)
        and descriptions[0]["expr"] is descriptions[0]["entity"]
    )
