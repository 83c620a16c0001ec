"""One query shape for every list endpoint: filter, search (portable, case-insensitive), sort, page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from kernel.listing import ListParams, Page

ModelT = TypeVar("ModelT")


def search_clause(columns: Sequence[InstrumentedAttribute[Any]], term: str) -> ColumnElement[bool]:
    """Substring match ignoring case; `%` and `_` in the term are literal.

    The same SQL shape works on MySQL and SQLite.
    """
    return or_(*(column.icontains(term, autoescape=True) for column in columns))


async def fetch_page(
    session: AsyncSession,
    statement: Select[ModelT],
    params: ListParams,
    *,
    search_columns: Sequence[InstrumentedAttribute[Any]],
    sort_columns: Mapping[str, InstrumentedAttribute[Any]],
    id_column: InstrumentedAttribute[Any],
) -> Page[ModelT]:
    """Run `statement` (already filtered) as one page. `params.sort_by` was checked against `sort_columns`."""
    if params.search:
        statement = statement.where(search_clause(search_columns, params.search))
    total = await session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    sort_column = sort_columns[params.sort_by]
    ordering = [sort_column.desc(), id_column.desc()] if params.descending else [sort_column.asc(), id_column.asc()]
    rows = await session.scalars(statement.order_by(*ordering).offset(params.offset).limit(params.limit))
    items = cast("list[ModelT]", list(rows))
    return Page(items=items, total=int(total or 0), page=params.page, limit=params.limit)
