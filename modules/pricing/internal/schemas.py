"""Pricing request and response shapes (camelCase on the wire, unknown fields rejected), and their translation
to and from the service's values: everything that knows the wire lives here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, UnsetType

from kernel.contracts.changes import sent_fields
from kernel.contracts.money import money_json
from kernel.http.body import BodyRules
from kernel.http.fields import END, MAX_ID, CurrencyCode, PageOut, RequestBody, ResponseBody
from modules.pricing.internal.calculations import QuoteView, Shipment, ShipmentRules
from modules.pricing.internal.engine import Adjustment, Conditions, Pricing, Range, Result
from modules.pricing.internal.models import CalculationRequest
from modules.pricing.internal.reads import CalculationView, HistoryPage, RuleView
from modules.pricing.internal.service import AdjustmentDraft, PricingDraft, RuleValues

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Description = Annotated[str, msgspec.Meta(max_length=500)]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Priority = Annotated[int, msgspec.Meta(ge=0, le=1000)]
CarrierRef = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
CustomerRef = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
Country = Annotated[
    str,
    msgspec.Meta(
        pattern=rf"^[A-Za-z]{{2}}{END}",
        extra={"message": "must be an ISO 3166-1 alpha-2 country code (e.g. US)"},
    ),
]
Amount = Decimal
"""Checked by the service (`kernel.contracts.money.rate_problem`): msgspec cannot bound a Decimal."""


class RangeIn(RequestBody):
    min: Amount
    max: Amount


class ConditionsIn(RequestBody):
    carrier_id: CarrierRef | None = None
    service_type: Label | None = None
    origin_country: Country | None = None
    destination_country: Country | None = None
    customer_type: Label | None = None
    weight_range: RangeIn | None = None
    distance_range: RangeIn | None = None


class AdjustmentIn(RequestBody):
    type: Label
    amount: Amount | None = None
    percentage: Amount | None = None


class PricingIn(RequestBody):
    base_rate: Amount
    currency: CurrencyCode
    per_kg_rate: Amount | None = None
    per_km_rate: Amount | None = None
    minimum_charge: Amount | None = None
    maximum_charge: Amount | None = None
    surcharges: Annotated[list[AdjustmentIn], msgspec.Meta(max_length=20)] | None = None
    discounts: Annotated[list[AdjustmentIn], msgspec.Meta(max_length=20)] | None = None


class RuleCreate(RequestBody):
    name: Name
    pricing: PricingIn
    description: Description | None = None
    is_active: bool = True
    priority: Priority = 0
    valid_from: date | None = None
    valid_to: date | None = None
    conditions: ConditionsIn | None = None


class RuleUpdate(RequestBody):
    """PATCH: only the fields sent change; `conditions` and `pricing` replace the whole object."""

    name: Name | UnsetType = UNSET
    description: Description | UnsetType | None = UNSET
    is_active: bool | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
    valid_from: date | UnsetType | None = UNSET
    valid_to: date | UnsetType | None = UNSET
    conditions: ConditionsIn | UnsetType | None = UNSET
    pricing: PricingIn | UnsetType = UNSET


class RangeOut(ResponseBody):
    min: float
    max: float


class ConditionsOut(ResponseBody, omit_defaults=True):
    carrier_id: int | None = None
    service_type: str | None = None
    origin_country: str | None = None
    destination_country: str | None = None
    customer_type: str | None = None
    weight_range: RangeOut | None = None
    distance_range: RangeOut | None = None


class AdjustmentOut(ResponseBody, omit_defaults=True):
    type: str
    amount: float | None = None
    percentage: float | None = None


class PricingOut(ResponseBody, omit_defaults=True):
    base_rate: float
    currency: str
    surcharges: list[AdjustmentOut]
    discounts: list[AdjustmentOut]
    per_kg_rate: float | None = None
    per_km_rate: float | None = None
    minimum_charge: float | None = None
    maximum_charge: float | None = None


class RuleOut(ResponseBody):
    id: int
    name: str
    description: str | None
    is_active: bool
    priority: int
    valid_from: date | None
    valid_to: date | None
    conditions: ConditionsOut
    pricing: PricingOut
    created_at: datetime
    updated_at: datetime


RULE_SORT_FIELDS = {
    "createdAt": "created_at",
    "updatedAt": "updated_at",
    "name": "name",
    "priority": "priority",
    "isActive": "is_active",
    "id": "id",
}
"""`sortBy` values → the attributes they sort."""


class RulePage(PageOut[RuleOut], rename={"items": "pricingRules"}):
    items: list[RuleOut]
    sort_keys = tuple(RULE_SORT_FIELDS)


# ------------------------------------------------------------------------------------- wire → service


def _range(span: RangeIn | None) -> Range | None:
    return None if span is None else Range(min=span.min, max=span.max)


def conditions_of(conditions: ConditionsIn | None) -> Conditions:
    if conditions is None:
        return Conditions()
    return Conditions(
        carrier_id=conditions.carrier_id,
        service_type=conditions.service_type,
        origin_country=conditions.origin_country,
        destination_country=conditions.destination_country,
        customer_type=conditions.customer_type,
        weight_range=_range(conditions.weight_range),
        distance_range=_range(conditions.distance_range),
    )


def _drafts(adjustments: list[AdjustmentIn] | None) -> tuple[AdjustmentDraft, ...]:
    return tuple(AdjustmentDraft(type=a.type, amount=a.amount, percentage=a.percentage) for a in adjustments or ())


def pricing_of(pricing: PricingIn) -> PricingDraft:
    return PricingDraft(
        base_rate=pricing.base_rate,
        currency=pricing.currency,
        per_kg_rate=pricing.per_kg_rate,
        per_km_rate=pricing.per_km_rate,
        minimum_charge=pricing.minimum_charge,
        maximum_charge=pricing.maximum_charge,
        surcharges=_drafts(pricing.surcharges),
        discounts=_drafts(pricing.discounts),
    )


def rule_values_of(data: RuleCreate | RuleUpdate) -> RuleValues:
    """The fields sent, by attribute name (`conditions` and `pricing` as typed documents)."""
    values = sent_fields(data)
    if "conditions" in values:
        values["conditions"] = conditions_of(values["conditions"])
    if "pricing" in values:
        values["pricing"] = pricing_of(values["pricing"])
    return values


# ------------------------------------------------------------------------------------- service → wire


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _range_out(span: Range | None) -> RangeOut | None:
    return None if span is None else RangeOut(min=float(span.min), max=float(span.max))


def _adjustment_out(adjustment: Adjustment) -> AdjustmentOut:
    return AdjustmentOut(
        type=adjustment.type, amount=_number(adjustment.amount), percentage=_number(adjustment.percentage)
    )


def conditions_out(conditions: Conditions) -> ConditionsOut:
    return ConditionsOut(
        carrier_id=conditions.carrier_id,
        service_type=conditions.service_type,
        origin_country=conditions.origin_country,
        destination_country=conditions.destination_country,
        customer_type=conditions.customer_type,
        weight_range=_range_out(conditions.weight_range),
        distance_range=_range_out(conditions.distance_range),
    )


def pricing_out(pricing: Pricing) -> PricingOut:
    return PricingOut(
        base_rate=float(pricing.base_rate),
        currency=pricing.currency,
        per_kg_rate=_number(pricing.per_kg_rate),
        per_km_rate=_number(pricing.per_km_rate),
        minimum_charge=_number(pricing.minimum_charge),
        maximum_charge=_number(pricing.maximum_charge),
        surcharges=[_adjustment_out(a) for a in pricing.surcharges],
        discounts=[_adjustment_out(a) for a in pricing.discounts],
    )


def rule_out(rule: RuleView) -> RuleOut:
    return RuleOut(
        id=rule.id,
        name=rule.name,
        description=rule.description,
        is_active=rule.is_active,
        priority=rule.priority,
        valid_from=rule.valid_from,
        valid_to=rule.valid_to,
        conditions=conditions_out(rule.conditions),
        pricing=pricing_out(rule.pricing),
        created_at=rule.created_at,
        updated_at=rule.updated_at,
    )


# ------------------------------------------------------------------------------------- calculations


class QuoteIn(RequestBody):
    """POST /pricing/quotes: the shipment without a carrier (every active carrier is priced)."""

    service_type: Label
    weight: Amount
    origin_country: Country
    destination_country: Country
    distance: Amount | None = None
    customer_type: Label | None = None
    customer_id: CustomerRef | None = None
    """Checked through the customer module's `CustomerDirectory` (docs/api.md §6.3)."""


class CalculateIn(RequestBody):
    """POST /pricing/calculate: the carrier and the shipment to price for it (the fields of `QuoteIn`)."""

    carrier_id: CarrierRef
    service_type: Label
    weight: Amount
    origin_country: Country
    destination_country: Country
    distance: Amount | None = None
    customer_type: Label | None = None
    customer_id: CustomerRef | None = None


class CalculationRequestOut(ResponseBody, omit_defaults=True):
    carrier_id: int
    service_type: str
    weight: float
    origin_country: str
    destination_country: str
    distance: float | None = None
    customer_type: str | None = None
    customer_id: int | None = None


class QuoteRequestOut(ResponseBody, omit_defaults=True):
    service_type: str
    weight: float
    origin_country: str
    destination_country: str
    distance: float | None = None
    customer_type: str | None = None
    customer_id: int | None = None


class LineOut(ResponseBody):
    type: str
    amount: float
    description: str


class AmountsOut(ResponseBody):
    base_rate: float
    weight_rate: float
    distance_rate: float
    surcharges: list[LineOut]
    discounts: list[LineOut]
    subtotal: float
    total: float
    currency: str


class AppliedRuleOut(ResponseBody):
    rule_id: int
    rule_name: str
    priority: int


class SkippedRuleOut(ResponseBody):
    rule_id: int
    rule_name: str
    priority: int
    reason: str


class CalculationOut(ResponseBody):
    id: int
    request_id: str
    request: CalculationRequestOut
    calculation: AmountsOut
    applied_rules: list[AppliedRuleOut]
    skipped_rules: list[SkippedRuleOut]
    calculated_at: datetime
    created_at: datetime
    updated_at: datetime


CALCULATION_SORT_FIELDS = {
    "createdAt": "created_at",
    "calculatedAt": "calculated_at",
    "carrierId": "carrier_id",
    "customerId": "customer_id",
    "id": "id",
}
"""`sortBy` values of the calculation history → the attributes they sort."""


NextCursor = Annotated[
    str | None,
    msgspec.Meta(
        description="Send it as `cursor` with the same query for the page after this one (keyset paging); "
        "null on the last page"
    ),
]


class CalculationPage(PageOut[CalculationOut], rename={"items": "priceCalculations", "next_cursor": "nextCursor"}):
    items: list[CalculationOut]
    next_cursor: NextCursor
    sort_keys = tuple(CALCULATION_SORT_FIELDS)

    @classmethod
    def of_history(cls, history: HistoryPage) -> CalculationPage:
        page = history.page
        return cls(
            items=[calculation_out(c) for c in page.items],
            total=page.total,
            page=page.page,
            limit=page.limit,
            total_pages=page.total_pages,
            next_cursor=history.next_cursor,
        )


class CarrierQuoteOut(ResponseBody):
    """One carrier's price: the `calculation`, `appliedRules` and `skippedRules` of a calculation."""

    carrier_id: int
    carrier_name: str
    calculation: AmountsOut
    applied_rules: list[AppliedRuleOut]
    skipped_rules: list[SkippedRuleOut]


class QuotesOut(ResponseBody):
    request: QuoteRequestOut
    quotes: list[CarrierQuoteOut]
    calculated_at: datetime


def shipment_body_rules(rules: ShipmentRules) -> BodyRules:
    """The shipment rules for the calculation routes' `BODY_RULES`: run on the fields a rejected body got right.
    A plain function, not the bound method: Litestar deep-copies the `opt` of a router it registers."""

    async def check(fields: Mapping[str, Any]) -> Mapping[str, Sequence[str]]:
        return await rules.problems(fields)

    return check


def shipment_of(data: CalculateIn) -> CalculationRequest:
    return CalculationRequest(**msgspec.structs.asdict(data))  # the same fields, by attribute name


def _money(amount: Decimal) -> float:
    value = money_json(amount)
    assert value is not None
    return value


def amounts_out(result: Result) -> AmountsOut:
    return AmountsOut(
        base_rate=_money(result.base_rate),
        weight_rate=_money(result.weight_rate),
        distance_rate=_money(result.distance_rate),
        surcharges=[
            LineOut(type=x.type, amount=_money(x.amount), description=x.description) for x in result.surcharges
        ],
        discounts=[LineOut(type=x.type, amount=_money(x.amount), description=x.description) for x in result.discounts],
        subtotal=_money(result.subtotal),
        total=_money(result.total),
        currency=result.currency,
    )


def applied_out(result: Result) -> list[AppliedRuleOut]:
    return [AppliedRuleOut(rule_id=r.rule_id, rule_name=r.rule_name, priority=r.priority) for r in result.applied_rules]


def skipped_out(result: Result) -> list[SkippedRuleOut]:
    return [
        SkippedRuleOut(rule_id=r.rule_id, rule_name=r.rule_name, priority=r.priority, reason=r.reason)
        for r in result.skipped_rules
    ]


def calculation_out(calculation: CalculationView) -> CalculationOut:
    shipment, result = calculation.request, calculation.result
    return CalculationOut(
        id=calculation.id,
        request_id=calculation.request_id,
        request=CalculationRequestOut(
            carrier_id=shipment.carrier_id,
            service_type=shipment.service_type,
            weight=float(shipment.weight),
            origin_country=shipment.origin_country,
            destination_country=shipment.destination_country,
            distance=_number(shipment.distance),
            customer_type=shipment.customer_type,
            customer_id=shipment.customer_id,
        ),
        calculation=amounts_out(result),
        applied_rules=applied_out(result),
        skipped_rules=skipped_out(result),
        calculated_at=calculation.calculated_at,
        created_at=calculation.created_at,
        updated_at=calculation.updated_at,
    )


def quote_shipment_of(data: QuoteIn) -> Shipment:
    return Shipment(**msgspec.structs.asdict(data))  # the same fields, by attribute name


def quotes_out(quote: QuoteView) -> QuotesOut:
    shipment = quote.request
    return QuotesOut(
        request=QuoteRequestOut(
            service_type=shipment.service_type,
            weight=float(shipment.weight),
            origin_country=shipment.origin_country,
            destination_country=shipment.destination_country,
            distance=_number(shipment.distance),
            customer_type=shipment.customer_type,
            customer_id=shipment.customer_id,
        ),
        quotes=[
            CarrierQuoteOut(
                carrier_id=price.carrier_id,
                carrier_name=price.carrier_name,
                calculation=amounts_out(price.result),
                applied_rules=applied_out(price.result),
                skipped_rules=skipped_out(price.result),
            )
            for price in quote.prices
        ],
        calculated_at=quote.calculated_at,
    )
