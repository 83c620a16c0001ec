"""Pricing HTTP routes: parse, call the reads or the service, shape the response, declare the permission.

Their dependencies (`pricing_reads`, `pricing_calculation_reads`, `pricing_rule_service`,
`pricing_calculation_service`, `pricing_quote_service`) are bound by the module's assembly (`module.py`).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from litestar import Controller, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter

from kernel.contracts.errors import FieldErrors
from kernel.db.keyset import BadCursor
from kernel.db.keyset import Cursor as KeysetCursor
from kernel.http.access import requires
from kernel.http.conditional import CONDITIONS_DEPENDENCY, ConditionalResponse, ConditionsDependency
from kernel.http.fields import MAX_ID, CountOut, ResourceId
from kernel.http.list_query import LimitQuery, PageQuery, SearchQuery, SortByQuery, SortOrderQuery, list_query
from kernel.http.openapi import EXTRA_ERROR_STATUSES
from kernel.paging import parse_bool, parse_int, parse_list_params
from modules.pricing.internal.calculations import CalculationService, QuoteService
from modules.pricing.internal.reads import CalculationFilters, CalculationReads, PricingReads
from modules.pricing.internal.schemas import (
    CALCULATION_SORT_FIELDS,
    RULE_SORT_FIELDS,
    CalculateIn,
    CalculationOut,
    CalculationPage,
    QuoteIn,
    QuotesOut,
    RuleCreate,
    RuleOut,
    RulePage,
    RuleUpdate,
    calculation_out,
    quote_shipment_of,
    quotes_out,
    rule_out,
    rule_values_of,
    shipment_of,
)
from modules.pricing.internal.service import PricingRuleService

IsActiveFilter = Annotated[str | None, QueryParameter(name="isActive", description="true or false")]
CarrierFilter = Annotated[str | None, QueryParameter(name="carrierId", description="A carrier id")]
CustomerFilter = Annotated[str | None, QueryParameter(name="customerId", description="A customer id")]
DateFrom = Annotated[
    str | None,
    QueryParameter(
        name="dateFrom",
        description="Calculated at or after: a date (2026-11-25, from its start, UTC) or a date and time with "
        "an offset (2026-11-25T10:00:00Z)",
    ),
]
DateTo = Annotated[
    str | None,
    QueryParameter(
        name="dateTo",
        description="Calculated at or before: a date (2026-11-25, to its end, UTC) or a date and time with "
        "an offset (2026-11-25T18:00:00Z)",
    ),
]
Cursor = Annotated[
    str | None,
    QueryParameter(
        description="The nextCursor of the page before, with the same query otherwise: the page after it "
        "(instead of page; limit may change)"
    ),
]
Reads = NamedDependency[PricingReads]
CalculationHistory = NamedDependency[CalculationReads]
RuleService = NamedDependency[PricingRuleService]
Calculations = NamedDependency[CalculationService]
Quotes = NamedDependency[QuoteService]


def _id_filter(errors: FieldErrors, name: str, raw: str | None) -> int | None:
    if raw is None or raw.strip() == "":
        return None
    return parse_int(errors, name, raw, 0, 1, MAX_ID)


def _rule_filters(errors: FieldErrors, is_active: str | None, carrier_id: str | None) -> tuple[bool | None, int | None]:
    return parse_bool(errors, "isActive", is_active), _id_filter(errors, "carrierId", carrier_id)


_MOMENT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?(?:Z|[+-][0-9]{2}:[0-9]{2}))?\Z"
)
_MOMENT_MESSAGE = "must be a date (YYYY-MM-DD) or a date and time with an offset (2026-11-25T10:00:00Z)"
_MICROSECOND = timedelta(microseconds=1)


def _moment(errors: FieldErrors, name: str, raw: str | None, end: bool) -> datetime | None:
    """A bound of the time window, as the exclusive `until` when `end` (a date's next midnight, a time's next
    microsecond: times are stored to the microsecond) and the inclusive `since` otherwise; None when absent,
    blank or beyond what a datetime holds."""
    if raw is None or raw.strip() == "":
        return None
    text = raw.strip().upper()
    if not _MOMENT.match(text):
        errors.add(name, _MOMENT_MESSAGE)
        return None
    try:
        if "T" not in text:
            day = date.fromisoformat(text)
            if end:
                return None if day == date.max else datetime.combine(day + timedelta(days=1), time(), UTC)
            return datetime.combine(day, time(), UTC)
        moment = datetime.fromisoformat(text).astimezone(UTC)
        return moment + _MICROSECOND if end else moment
    except ValueError:  # 2026-02-30, 25:00, an offset of 24 hours or more
        errors.add(name, _MOMENT_MESSAGE)
    except OverflowError:  # an offset that moves the time outside years 1-9999
        errors.add(name, "must be between years 1 and 9999 in UTC")
    return None


def _calculation_filters(
    errors: FieldErrors, carrier_id: str | None, customer_id: str | None, date_from: str | None, date_to: str | None
) -> CalculationFilters:
    since = _moment(errors, "dateFrom", date_from, end=False)
    until = _moment(errors, "dateTo", date_to, end=True)
    if since is not None and until is not None and until <= since:
        errors.add("dateTo", "must not be before dateFrom")
    return CalculationFilters(
        carrier_id=_id_filter(errors, "carrierId", carrier_id),
        customer_id=_id_filter(errors, "customerId", customer_id),
        since=since,
        until=until,
    )


def _cursor(errors: FieldErrors, reads: CalculationReads, raw: str | None, page: str | None) -> KeysetCursor | None:
    """The cursor of the page before (None when absent or blank); a token no page handed out, or a cursor sent
    with `page`, is a bad parameter. Whether it belongs to this query is checked once the rest is parsed."""
    if raw is None or raw.strip() == "":
        return None
    if page is not None and page.strip() != "":
        errors.add("cursor", "must not be sent with page")
        return None
    try:
        return reads.open_cursor(raw.strip())
    except BadCursor:
        errors.add("cursor", "is not a cursor of this list")
        return None


class PricingRuleController(Controller):
    path = "/pricing/rules"
    tags = ["pricing"]
    dependencies = CONDITIONS_DEPENDENCY

    @get("/", opt=requires("pricing.view"), summary="List pricing rules; search over name and description")
    async def list_rules(
        self,
        pricing_reads: Reads,
        is_active: IsActiveFilter = None,
        carrier_id: CarrierFilter = None,
        page: PageQuery = None,
        limit: LimitQuery = None,
        search: SearchQuery = None,
        sort_by: SortByQuery = None,
        sort_order: SortOrderQuery = None,
    ) -> RulePage:
        errors = FieldErrors()
        active, carrier = _rule_filters(errors, is_active, carrier_id)
        params = parse_list_params(list_query(page, limit, search, sort_by, sort_order), RULE_SORT_FIELDS, errors)
        listed = await pricing_reads.rule_page(params, active, carrier)
        return RulePage.of(listed, [rule_out(r) for r in listed.items])

    @post("/", opt=requires("pricing.update"), summary="Create a pricing rule")
    async def create_rule(self, pricing_rule_service: RuleService, data: JSONBody[RuleCreate]) -> RuleOut:
        return rule_out(await pricing_rule_service.create(rule_values_of(data)))

    @get("/count", opt=requires("pricing.view"), summary="How many pricing rules (optionally by isActive, carrierId)")
    async def count_rules(
        self, pricing_reads: Reads, is_active: IsActiveFilter = None, carrier_id: CarrierFilter = None
    ) -> CountOut:
        errors = FieldErrors()
        active, carrier = _rule_filters(errors, is_active, carrier_id)
        errors.raise_if_any()
        return CountOut(count=await pricing_reads.rule_count(active, carrier))

    @get("/{id:int}", opt=requires("pricing.view"), summary="One pricing rule", response_class=ConditionalResponse)
    async def get_rule(self, pricing_reads: Reads, id: ResourceId) -> RuleOut:
        return rule_out(await pricing_reads.get_rule(id))

    @patch(
        "/{id:int}",
        opt=requires("pricing.update"),
        summary="Change some fields of a pricing rule",
        response_class=ConditionalResponse,
    )
    async def update_rule(
        self,
        pricing_rule_service: RuleService,
        conditions: ConditionsDependency,
        id: ResourceId,
        data: JSONBody[RuleUpdate],
    ) -> RuleOut:
        return rule_out(await pricing_rule_service.update(id, rule_values_of(data), conditions.precondition(rule_out)))

    @put(
        "/{id:int}",
        opt=requires("pricing.update"),
        summary="Alias of PATCH (the old clients use both)",
        response_class=ConditionalResponse,
    )
    async def replace_rule(
        self,
        pricing_rule_service: RuleService,
        conditions: ConditionsDependency,
        id: ResourceId,
        data: JSONBody[RuleUpdate],
    ) -> RuleOut:
        return rule_out(await pricing_rule_service.update(id, rule_values_of(data), conditions.precondition(rule_out)))

    @delete(
        "/{id:int}",
        opt=requires("pricing.update"),
        summary="Delete a pricing rule",
        status_code=204,
        response_class=ConditionalResponse,
    )
    async def delete_rule(
        self, pricing_rule_service: RuleService, conditions: ConditionsDependency, id: ResourceId
    ) -> None:
        await pricing_rule_service.delete(id, conditions.precondition(rule_out))


class PricingCalculationController(Controller):
    path = "/pricing"
    tags = ["pricing"]

    @post(
        "/calculate",
        opt={**requires("pricing.calculate"), EXTRA_ERROR_STATUSES: (422,)},
        summary="Price a shipment and store the calculation (422 when no pricing rule matches)",
    )
    async def calculate(self, pricing_calculation_service: Calculations, data: JSONBody[CalculateIn]) -> CalculationOut:
        return calculation_out(await pricing_calculation_service.calculate(shipment_of(data)))

    @post(
        "/quotes",
        opt={**requires("pricing.calculate"), EXTRA_ERROR_STATUSES: (422,)},
        status_code=200,
        summary="Price a shipment for every active carrier, cheapest first; nothing is stored (422 when none can)",
    )
    async def quote(self, pricing_quote_service: Quotes, data: JSONBody[QuoteIn]) -> QuotesOut:
        return quotes_out(await pricing_quote_service.quote(quote_shipment_of(data)))

    @get(
        "/calculations",
        opt=requires("pricing.view"),
        summary="List stored price calculations (key priceCalculations); search over requestId",
    )
    async def list_calculations(
        self,
        pricing_calculation_reads: CalculationHistory,
        carrier_id: CarrierFilter = None,
        customer_id: CustomerFilter = None,
        date_from: DateFrom = None,
        date_to: DateTo = None,
        page: PageQuery = None,
        limit: LimitQuery = None,
        search: SearchQuery = None,
        sort_by: SortByQuery = None,
        sort_order: SortOrderQuery = None,
        cursor: Cursor = None,
    ) -> CalculationPage:
        errors = FieldErrors()
        filters = _calculation_filters(errors, carrier_id, customer_id, date_from, date_to)
        after = _cursor(errors, pricing_calculation_reads, cursor, page)
        params = parse_list_params(
            list_query(page, limit, search, sort_by, sort_order), CALCULATION_SORT_FIELDS, errors
        )
        return CalculationPage.of_history(await pricing_calculation_reads.page(params, filters, after))

    @get(
        "/calculations/count",
        opt=requires("pricing.view"),
        summary="How many stored price calculations (optionally by carrierId, customerId, dateFrom, dateTo)",
    )
    async def count_calculations(
        self,
        pricing_calculation_reads: CalculationHistory,
        carrier_id: CarrierFilter = None,
        customer_id: CustomerFilter = None,
        date_from: DateFrom = None,
        date_to: DateTo = None,
    ) -> CountOut:
        errors = FieldErrors()
        filters = _calculation_filters(errors, carrier_id, customer_id, date_from, date_to)
        errors.raise_if_any()
        return CountOut(count=await pricing_calculation_reads.count(filters))

    @get(
        "/calculations/{id:int}",
        opt=requires("pricing.view"),
        summary="One stored price calculation",
        response_class=ConditionalResponse,
    )
    async def get_calculation(self, pricing_calculation_reads: CalculationHistory, id: ResourceId) -> CalculationOut:
        return calculation_out(await pricing_calculation_reads.get(id))
