"""Pricing rule use cases: the rules beyond the wire schema, persistence, and events through the outbox.

The service takes plain values (a rule's fields by attribute name; `pricing` as a `PricingDraft`, which the
service checks and turns into the engine's `Pricing`) and returns the read model; it knows nothing of HTTP.
Every broken rule of docs/api.md §6.2 is reported in one 400, keyed by the request's field names, and nothing
is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.contracts.changes import apply_changes
from kernel.contracts.errors import FieldErrors
from kernel.contracts.money import is_currency, rate_problem
from kernel.contracts.preconditions import Precondition, check
from kernel.contracts.text import optional_text, trimmed
from kernel.db.locking import get_locked
from modules.carrier.api import CarrierDirectory
from modules.pricing.api import PricingRuleInUse, PricingRuleNotFound
from modules.pricing.events import PricingRuleChanged
from modules.pricing.internal.engine import Adjustment, Conditions, Pricing, Range
from modules.pricing.internal.models import CalculationRule, PricingRule, outbox, versions
from modules.pricing.internal.reads import RuleView, rule_view_of
from modules.pricing.internal.rulebook import RULE_SET

NAME_MIN, NAME_MAX = 2, 100
PRIORITY_MIN, PRIORITY_MAX = 0, 1000
_HUNDRED = Decimal(100)


class AdjustmentDraft(msgspec.Struct, frozen=True, kw_only=True):
    """A surcharge or discount as sent: the service checks that it has exactly one of amount and percentage."""

    type: str
    amount: Decimal | None = None
    percentage: Decimal | None = None


class PricingDraft(msgspec.Struct, frozen=True, kw_only=True):
    """A rule's pricing as sent, before the service's checks turn it into the engine's `Pricing`."""

    base_rate: Decimal
    currency: str
    per_kg_rate: Decimal | None = None
    per_km_rate: Decimal | None = None
    minimum_charge: Decimal | None = None
    maximum_charge: Decimal | None = None
    surcharges: tuple[AdjustmentDraft, ...] = ()
    discounts: tuple[AdjustmentDraft, ...] = ()


RuleValues = Mapping[str, Any]
"""A rule's fields by attribute name (as on `RuleView`; `pricing` a `PricingDraft`): all required ones for a
new rule, only those that change for an update."""


def _check_amount(errors: FieldErrors, field: str, value: Decimal | None) -> None:
    if value is not None and (problem := rate_problem(value)):
        errors.add(field, problem)


def _checked_range(errors: FieldErrors, field: str, span: Range | None) -> None:
    if span is None:
        return
    _check_amount(errors, f"{field}.min", span.min)
    _check_amount(errors, f"{field}.max", span.max)
    if span.min.is_finite() and span.max.is_finite() and span.min > span.max:
        errors.add(f"{field}.min", "must not be greater than max")


def _checked_adjustments(
    errors: FieldErrors, field: str, drafts: tuple[AdjustmentDraft, ...]
) -> tuple[Adjustment, ...]:
    adjustments: list[Adjustment] = []
    for index, draft in enumerate(drafts):
        where = f"{field}.{index}"
        if (draft.amount is None) == (draft.percentage is None):
            errors.add(where, "must have exactly one of amount and percentage")
            continue
        _check_amount(errors, f"{where}.amount", draft.amount)
        if draft.percentage is not None:
            percentage = draft.percentage
            if not percentage.is_finite() or not 0 <= percentage <= _HUNDRED:
                errors.add(f"{where}.percentage", "must be between 0 and 100")
            elif (problem := rate_problem(percentage)) is not None:
                errors.add(f"{where}.percentage", problem)
        type_ = draft.type.strip()
        if not type_:
            errors.add(f"{where}.type", "must not be blank")
        adjustments.append(Adjustment(type=type_, amount=draft.amount, percentage=draft.percentage))
    return tuple(adjustments)


def _checked_pricing(errors: FieldErrors, draft: PricingDraft) -> Pricing:
    if not is_currency(draft.currency):
        errors.add("pricing.currency", "must be an ISO 4217 currency code (e.g. USD)")
    for wire_name, value in (
        ("baseRate", draft.base_rate),
        ("perKgRate", draft.per_kg_rate),
        ("perKmRate", draft.per_km_rate),
        ("minimumCharge", draft.minimum_charge),
        ("maximumCharge", draft.maximum_charge),
    ):
        _check_amount(errors, f"pricing.{wire_name}", value)
    return Pricing(
        base_rate=draft.base_rate,
        currency=draft.currency,
        per_kg_rate=draft.per_kg_rate,
        per_km_rate=draft.per_km_rate,
        minimum_charge=draft.minimum_charge,
        maximum_charge=draft.maximum_charge,
        surcharges=_checked_adjustments(errors, "pricing.surcharges", draft.surcharges),
        discounts=_checked_adjustments(errors, "pricing.discounts", draft.discounts),
    )


def _checked_conditions(errors: FieldErrors, conditions: Conditions) -> Conditions:
    _checked_range(errors, "conditions.weightRange", conditions.weight_range)
    _checked_range(errors, "conditions.distanceRange", conditions.distance_range)

    def text(value: str | None, field: str) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not value:
            errors.add(f"conditions.{field}", "must not be blank")
        return value

    def country(value: str | None) -> str | None:
        return None if value is None else value.strip().upper()

    return msgspec.structs.replace(
        conditions,
        service_type=text(conditions.service_type, "serviceType"),
        customer_type=text(conditions.customer_type, "customerType"),
        origin_country=country(conditions.origin_country),
        destination_country=country(conditions.destination_country),
    )


def _normalized(errors: FieldErrors, values: Mapping[str, Any]) -> dict[str, Any]:
    """The given fields as they are stored (trimmed, checked one by one)."""
    normal: dict[str, Any] = {}
    for name, value in values.items():
        if name == "name":
            normal[name] = trimmed(errors, "name", value, NAME_MIN, NAME_MAX)
        elif name == "description":
            normal[name] = optional_text(value)
        elif name == "pricing":
            normal[name] = _checked_pricing(errors, value)
        elif name == "conditions":
            normal[name] = _checked_conditions(errors, value or Conditions())
        else:
            normal[name] = value
    return normal


def _check_validity(errors: FieldErrors, valid_from: date | None, valid_to: date | None) -> None:
    if valid_from is not None and valid_to is not None and not valid_from < valid_to:
        errors.add("validTo", "must be after validFrom")


class PricingRuleService:
    def __init__(self, session: AsyncSession, carriers: CarrierDirectory, on_change: Callable[[], None]) -> None:
        self.session = session
        self.carriers = carriers
        self.on_change = on_change
        """Called after each committed change: drops the compiled rule set (`RuleBook.invalidate`)."""

    async def create(self, new: RuleValues) -> RuleView:
        errors = FieldErrors()
        values = _normalized(errors, new)
        _check_validity(errors, values.get("valid_from"), values.get("valid_to"))
        conditions: Conditions = values.setdefault("conditions", Conditions())
        await self._check_carrier(errors, conditions.carrier_id)
        errors.raise_if_any()
        rule = PricingRule(**values, carrier_id=conditions.carrier_id)
        self.session.add(rule)
        await self.session.flush()
        await outbox.publish(self.session, PricingRuleChanged(rule_id=rule.id, change="created"))
        await versions.bump(self.session, RULE_SET)  # and every other process drops its compiled set
        await self.session.commit()
        self.on_change()
        return rule_view_of(rule)

    async def update(
        self, rule_id: int, changes: RuleValues, precondition: Precondition[RuleView] | None = None
    ) -> RuleView:
        """Apply `changes` (only the fields sent), when the locked rule meets `precondition`; `conditions` and
        `pricing` replace the whole document."""
        rule = await self._get_for_update(rule_id)
        await check(precondition, rule_view_of(rule))
        errors = FieldErrors()
        values = _normalized(errors, changes)
        _check_validity(errors, values.get("valid_from", rule.valid_from), values.get("valid_to", rule.valid_to))
        if "conditions" in values and values["conditions"].carrier_id != rule.carrier_id:
            await self._check_carrier(errors, values["conditions"].carrier_id)
        errors.raise_if_any()
        if "conditions" in values:
            values["carrier_id"] = values["conditions"].carrier_id
        if not apply_changes(rule, values):
            return rule_view_of(rule)
        await self.session.flush()
        await outbox.publish(self.session, PricingRuleChanged(rule_id=rule.id, change="updated"))
        await versions.bump(self.session, RULE_SET)  # and every other process drops its compiled set
        await self.session.commit()
        self.on_change()
        return rule_view_of(rule)

    async def delete(self, rule_id: int, precondition: Precondition[RuleView] | None = None) -> None:
        """Delete the rule, when it meets `precondition`; 409 when a stored calculation applied it (history must
        keep naming real rules)."""
        rule = await self._get_for_update(rule_id)
        await check(precondition, rule_view_of(rule))
        used = await self.session.scalar(
            select(CalculationRule.rule_id).where(CalculationRule.rule_id == rule_id).limit(1)
        )
        if used is not None:
            raise PricingRuleInUse()
        await self.session.delete(rule)
        await outbox.publish(self.session, PricingRuleChanged(rule_id=rule.id, change="deleted"))
        await versions.bump(self.session, RULE_SET)  # and every other process drops its compiled set
        await self.session.commit()
        self.on_change()

    async def _check_carrier(self, errors: FieldErrors, carrier_id: int | None) -> None:
        if carrier_id is not None and await self.carriers.get_carrier(carrier_id) is None:
            errors.add("conditions.carrierId", "must name an existing carrier")

    async def _get_for_update(self, rule_id: int) -> PricingRule:
        """The rule, locked until this transaction ends (concurrent changes take turns)."""
        rule = await get_locked(self.session, PricingRule, PricingRule.id == rule_id)
        if rule is None:
            raise PricingRuleNotFound()
        return rule
