"""Every pricing read: Core selects on the module's engine, shaped into one read model per table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import msgspec
from sqlalchemy import Row, Select, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from kernel.contracts.errors import ValidationFailed
from kernel.db.keyset import BadCursor, Cursor, CursorCodec, after_row, key_type_of, query_fingerprint
from kernel.db.pages import fetch_page, search_clause
from kernel.db.reads import attribute_columns, read_one
from kernel.paging import ListParams, Page
from modules.pricing.api import PriceCalculationNotFound, PricingRuleNotFound
from modules.pricing.internal.calculation_counts import CalculationCounts
from modules.pricing.internal.engine import Conditions, Pricing, Result, Rule
from modules.pricing.internal.models import CalculationRequest, PriceCalculation, PricingRule


class RuleView(msgspec.Struct, frozen=True, kw_only=True):
    """A pricing rule as every reader sees it."""

    id: int
    name: str
    description: str | None
    is_active: bool
    priority: int
    valid_from: date | None
    valid_to: date | None
    carrier_id: int | None
    conditions: Conditions
    pricing: Pricing
    created_at: datetime
    updated_at: datetime

    def as_rule(self) -> Rule:
        """The rule as the engine takes it."""
        return Rule(
            id=self.id,
            name=self.name,
            priority=self.priority,
            pricing=self.pricing,
            is_active=self.is_active,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            conditions=self.conditions,
        )


_COLUMNS = attribute_columns(PricingRule)
_SELECT = select(*_COLUMNS)
SEARCHABLE = (PricingRule.name, PricingRule.description)


def rule_view_of(rule: Row[Any] | PricingRule) -> RuleView:
    return RuleView(**{column.key: getattr(rule, column.key) for column in _COLUMNS})


def _filtered(statement: Select[Any], is_active: bool | None, carrier_id: int | None) -> Select[Any]:
    if is_active is not None:
        statement = statement.where(PricingRule.is_active == is_active)
    if carrier_id is not None:
        statement = statement.where(PricingRule.carrier_id == carrier_id)
    return statement


class PricingReads:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def find_rule(self, rule_id: int) -> RuleView | None:
        row = await read_one(self._engine, _SELECT.where(PricingRule.id == rule_id))
        return rule_view_of(row) if row is not None else None

    async def get_rule(self, rule_id: int) -> RuleView:
        found = await self.find_rule(rule_id)
        if found is None:
            raise PricingRuleNotFound()
        return found

    async def rule_page(self, params: ListParams, is_active: bool | None, carrier_id: int | None) -> Page[RuleView]:
        statement = _filtered(_SELECT, is_active, carrier_id)
        async with self._engine.connect() as connection:
            rows = await fetch_page(connection, statement, params, model=PricingRule, search_columns=SEARCHABLE)
        return Page(items=[rule_view_of(r) for r in rows.items], total=rows.total, page=rows.page, limit=rows.limit)

    async def rule_count(self, is_active: bool | None, carrier_id: int | None) -> int:
        statement = _filtered(select(func.count()).select_from(PricingRule), is_active, carrier_id)
        async with self._engine.connect() as connection:
            return int(await connection.scalar(statement) or 0)

    async def active_rules(self) -> list[RuleView]:
        async with self._engine.connect() as connection:
            rows = await connection.execute(_SELECT.where(PricingRule.is_active).order_by(PricingRule.id))
            return [rule_view_of(row) for row in rows]


class CalculationView(msgspec.Struct, frozen=True, kw_only=True):
    """A stored price calculation as every reader sees it."""

    id: int
    request_id: str
    carrier_id: int
    customer_id: int | None
    request: CalculationRequest
    result: Result
    calculated_at: datetime
    created_at: datetime
    updated_at: datetime


class CalculationFilters(msgspec.Struct, frozen=True, kw_only=True):
    """What the history lists may filter by: a carrier, a customer, and a window `[since, until)` of
    `created_at` (the moment of the calculation; either end open when None)."""

    carrier_id: int | None = None
    customer_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


_CALCULATION_COLUMNS = attribute_columns(PriceCalculation)
_CALCULATIONS = select(*_CALCULATION_COLUMNS)
CALCULATION_SEARCHABLE = (PriceCalculation.request_id,)


def _calculations_filtered(statement: Select[Any], filters: CalculationFilters) -> Select[Any]:
    if filters.carrier_id is not None:
        statement = statement.where(PriceCalculation.carrier_id == filters.carrier_id)
    if filters.customer_id is not None:
        statement = statement.where(PriceCalculation.customer_id == filters.customer_id)
    if filters.since is not None:
        statement = statement.where(PriceCalculation.created_at >= filters.since)
    if filters.until is not None:
        statement = statement.where(PriceCalculation.created_at < filters.until)
    return statement


def calculation_view_of(row: Row[Any] | PriceCalculation) -> CalculationView:
    return CalculationView(**{column.key: getattr(row, column.key) for column in _CALCULATION_COLUMNS})


@dataclass(frozen=True)
class HistoryPage:
    """One page of the history, and the cursor of the page after it (None on the last page)."""

    page: Page[CalculationView]
    next_cursor: str | None


class CalculationReads:
    """The history's reads. Pages come by `page`/`limit` or after a cursor (keyset paging: `kernel.db.keyset`);
    either way the rows are found by their ids in the index that serves the filter and the order, and only the
    page's rows are read whole. Totals and counts come from `CalculationCounts`."""

    def __init__(self, engine: AsyncEngine, cursors: CursorCodec) -> None:
        self._engine = engine
        self._cursors = cursors
        self._counts = CalculationCounts(engine)

    async def get(self, calculation_id: int) -> CalculationView:
        row = await read_one(self._engine, _CALCULATIONS.where(PriceCalculation.id == calculation_id))
        if row is None:
            raise PriceCalculationNotFound()
        return calculation_view_of(row)

    def open_cursor(self, token: str) -> Cursor:
        """The cursor a page of the history handed out; `BadCursor` for anything else."""
        return self._cursors.decode(token)

    async def page(self, params: ListParams, filters: CalculationFilters, cursor: Cursor | None = None) -> HistoryPage:
        """The page `params` names, or with `cursor` the page after the one that handed it out (same query:
        else `ValidationFailed` on `cursor`)."""
        sort_column, id_column = getattr(PriceCalculation, params.sort_by), PriceCalculation.id
        query = _query_of(params, filters)
        if cursor is not None:
            try:
                cursor = cursor.for_query(query, key_type_of(sort_column))
            except BadCursor as exc:
                raise ValidationFailed({"cursor": [FOREIGN_CURSOR]}) from exc
        ordering = [sort_column.desc(), id_column.desc()] if params.descending else [sort_column.asc(), id_column.asc()]
        ids = _calculations_filtered(select(id_column), filters)
        if params.search:
            ids = ids.where(search_clause(CALCULATION_SEARCHABLE, params.search))
        position = params.offset
        if cursor is not None:
            ids = ids.where(after_row(sort_column, id_column, params.descending, cursor.key, cursor.row_id))
            position = cursor.position
        else:
            ids = ids.offset(params.offset)
        found = ids.order_by(*ordering).limit(params.limit + 1).subquery()  # one more: is there a next page?
        rows_statement = (
            select(*_CALCULATION_COLUMNS)
            .select_from(PriceCalculation)
            .join(found, PriceCalculation.id == found.c.id)
            .order_by(*ordering)
        )
        count = self._count_statement(filters, params.search, await self._counts.settle())
        async with self._engine.connect() as connection:
            total = int(await connection.scalar(count) or 0)
            rows = list(await connection.execute(rows_statement))
        next_cursor = None
        if len(rows) > params.limit:
            rows = rows[: params.limit]
            last = rows[-1]
            after = Cursor(
                query=query, position=position + params.limit, key=getattr(last, params.sort_by), row_id=last.id
            )
            next_cursor = self._cursors.encode(after)
        number = position // params.limit + 1 if cursor is not None else params.page
        items = [calculation_view_of(r) for r in rows]
        return HistoryPage(Page(items=items, total=total, page=number, limit=params.limit), next_cursor)

    async def count(self, filters: CalculationFilters) -> int:
        statement = self._count_statement(filters, None, await self._counts.settle())
        async with self._engine.connect() as connection:
            return int(await connection.scalar(statement) or 0)

    def _count_statement(self, filters: CalculationFilters, search: str | None, settled: date) -> Select[Any]:
        return self._counts.statement(
            _calculations_filtered(select(PriceCalculation.id), filters),
            settled=settled,
            by_row=filters.carrier_id is not None or filters.customer_id is not None,
            since=filters.since,
            until=filters.until,
            search=search,
            search_columns=CALCULATION_SEARCHABLE,
        )


FOREIGN_CURSOR = "is not a cursor of this list with these sortBy, sortOrder, search and filters"


def _query_of(params: ListParams, filters: CalculationFilters) -> str:
    """What a cursor is bound to: everything that decides the list but the page and its size."""
    return query_fingerprint(
        "pricing.calculations",
        params.sort_by,
        params.descending,
        params.search,
        filters.carrier_id,
        filters.customer_id,
        filters.since,
        filters.until,
    )
