"""Every pricing read: Core selects on the module's engine, shaped into one read model per table."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import msgspec
from sqlalchemy import Row, Select, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from kernel.db.pages import fetch_page
from kernel.db.reads import attribute_columns, read_one
from kernel.paging import ListParams, Page
from modules.pricing.api import PriceCalculationNotFound, PricingRuleNotFound
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


class CalculationReads:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, calculation_id: int) -> CalculationView:
        row = await read_one(self._engine, _CALCULATIONS.where(PriceCalculation.id == calculation_id))
        if row is None:
            raise PriceCalculationNotFound()
        return calculation_view_of(row)

    async def page(self, params: ListParams, filters: CalculationFilters) -> Page[CalculationView]:
        statement = _calculations_filtered(_CALCULATIONS, filters)
        async with self._engine.connect() as connection:
            rows = await fetch_page(
                connection, statement, params, model=PriceCalculation, search_columns=CALCULATION_SEARCHABLE
            )
        items = [calculation_view_of(r) for r in rows.items]
        return Page(items=items, total=rows.total, page=rows.page, limit=rows.limit)

    async def count(self, filters: CalculationFilters) -> int:
        statement = _calculations_filtered(select(func.count()).select_from(PriceCalculation), filters)
        async with self._engine.connect() as connection:
            return int(await connection.scalar(statement) or 0)
