"""Pricing HTTP routes: parse, call the reads or the service, shape the response, declare the permission.

Their dependencies (`pricing_reads`, `pricing_rule_service`) are bound by the module's assembly (`module.py`).
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter

from kernel.contracts.errors import FieldErrors
from kernel.http.access import requires
from kernel.http.fields import MAX_ID, CountOut, ResourceId
from kernel.http.list_query import LIST_QUERY_DEPENDENCY
from kernel.http.openapi import EXTRA_ERROR_STATUSES
from kernel.paging import parse_bool, parse_int, parse_list_params
from modules.pricing.internal.calculations import CalculationService
from modules.pricing.internal.reads import PricingReads
from modules.pricing.internal.schemas import (
    RULE_SORT_FIELDS,
    CalculateIn,
    CalculationOut,
    RuleCreate,
    RuleOut,
    RulePage,
    RuleUpdate,
    calculation_out,
    rule_out,
    rule_values_of,
    shipment_of,
)
from modules.pricing.internal.service import PricingRuleService

IsActiveFilter = Annotated[str | None, QueryParameter(name="isActive", description="true or false")]
CarrierFilter = Annotated[str | None, QueryParameter(name="carrierId", description="A carrier id")]
Reads = NamedDependency[PricingReads]
RuleService = NamedDependency[PricingRuleService]
Calculations = NamedDependency[CalculationService]


def _id_filter(errors: FieldErrors, name: str, raw: str | None) -> int | None:
    if raw is None or raw.strip() == "":
        return None
    return parse_int(errors, name, raw, 0, 1, MAX_ID)


def _rule_filters(errors: FieldErrors, is_active: str | None, carrier_id: str | None) -> tuple[bool | None, int | None]:
    return parse_bool(errors, "isActive", is_active), _id_filter(errors, "carrierId", carrier_id)


class PricingRuleController(Controller):
    path = "/pricing/rules"
    tags = ["pricing"]
    dependencies = {**LIST_QUERY_DEPENDENCY}

    @get("/", opt=requires("pricing.view"), summary="List pricing rules; search over name and description")
    async def list_rules(
        self,
        pricing_reads: Reads,
        list_query: NamedDependency[dict[str, str | None]],
        is_active: IsActiveFilter = None,
        carrier_id: CarrierFilter = None,
    ) -> RulePage:
        errors = FieldErrors()
        active, carrier = _rule_filters(errors, is_active, carrier_id)
        params = parse_list_params(list_query, RULE_SORT_FIELDS, errors)
        page = await pricing_reads.rule_page(params, active, carrier)
        return RulePage.of(page, [rule_out(r) for r in page.items])

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

    @get("/{id:int}", opt=requires("pricing.view"), summary="One pricing rule")
    async def get_rule(self, pricing_reads: Reads, id: ResourceId) -> RuleOut:
        return rule_out(await pricing_reads.get_rule(id))

    @patch("/{id:int}", opt=requires("pricing.update"), summary="Change some fields of a pricing rule")
    async def update_rule(
        self, pricing_rule_service: RuleService, id: ResourceId, data: JSONBody[RuleUpdate]
    ) -> RuleOut:
        return rule_out(await pricing_rule_service.update(id, rule_values_of(data)))

    @put("/{id:int}", opt=requires("pricing.update"), summary="Alias of PATCH (the old clients use both)")
    async def replace_rule(
        self, pricing_rule_service: RuleService, id: ResourceId, data: JSONBody[RuleUpdate]
    ) -> RuleOut:
        return rule_out(await pricing_rule_service.update(id, rule_values_of(data)))

    @delete("/{id:int}", opt=requires("pricing.update"), summary="Delete a pricing rule", status_code=204)
    async def delete_rule(self, pricing_rule_service: RuleService, id: ResourceId) -> None:
        await pricing_rule_service.delete(id)


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
