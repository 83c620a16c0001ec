"""Carrier HTTP routes: parse, call the reads or the service, shape the response, declare the permission.

Its dependencies (`carrier_reads`, `carrier_service`) are bound by the module's assembly (`module.py`).
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter

from kernel.contracts.errors import FieldErrors
from kernel.http.access import requires
from kernel.http.conditional import CONDITIONS_DEPENDENCY, ConditionalResponse, ConditionsDependency
from kernel.http.fields import CountOut, ResourceId
from kernel.http.list_query import LimitQuery, PageQuery, SearchQuery, SortByQuery, SortOrderQuery, list_query
from kernel.paging import parse_bool, parse_list_params
from modules.carrier.internal.reads import CarrierReads
from modules.carrier.internal.schemas import (
    SORT_FIELDS,
    CarrierCreate,
    CarrierOut,
    CarrierPage,
    CarrierUpdate,
    carrier_out,
    values_of,
)
from modules.carrier.internal.service import CarrierService

IsActiveFilter = Annotated[str | None, QueryParameter(name="isActive", description="true or false")]
CarrierName = Annotated[str, PathParameter(min_length=1, max_length=100)]
Reads = NamedDependency[CarrierReads]
Service = NamedDependency[CarrierService]


def _active_filter(raw: str | None) -> bool | None:
    errors = FieldErrors()
    value = parse_bool(errors, "isActive", raw)
    errors.raise_if_any()
    return value


class CarrierController(Controller):
    path = "/carriers"
    tags = ["carriers"]
    dependencies = CONDITIONS_DEPENDENCY

    @get("/", opt=requires("carriers.list"), summary="List carriers; search over name and description")
    async def list_carriers(
        self,
        carrier_reads: Reads,
        is_active: IsActiveFilter = None,
        page: PageQuery = None,
        limit: LimitQuery = None,
        search: SearchQuery = None,
        sort_by: SortByQuery = None,
        sort_order: SortOrderQuery = None,
    ) -> CarrierPage:
        errors = FieldErrors()
        active = parse_bool(errors, "isActive", is_active)
        params = parse_list_params(list_query(page, limit, search, sort_by, sort_order), SORT_FIELDS, errors)
        listed = await carrier_reads.page(params, active)
        return CarrierPage.of(listed, [carrier_out(c) for c in listed.items])

    @post("/", opt=requires("carriers.create"), summary="Create a carrier")
    async def create_carrier(self, carrier_service: Service, data: JSONBody[CarrierCreate]) -> CarrierOut:
        return carrier_out(await carrier_service.create(values_of(data)))

    @get("/active", opt=requires("carriers.list"), summary="Every active carrier")
    async def active_carriers(self, carrier_reads: Reads) -> list[CarrierOut]:
        return [carrier_out(c) for c in await carrier_reads.active()]

    @get("/count", opt=requires("carriers.list"), summary="How many carriers (optionally by isActive)")
    async def count_carriers(self, carrier_reads: Reads, is_active: IsActiveFilter = None) -> CountOut:
        return CountOut(count=await carrier_reads.count(_active_filter(is_active)))

    @get("/name/{name:str}", opt=requires("carriers.read"), summary="Find a carrier by name (ignoring case)")
    async def carrier_by_name(self, carrier_reads: Reads, name: CarrierName) -> CarrierOut:
        return carrier_out(await carrier_reads.get_by_name(name))

    @get("/{id:int}", opt=requires("carriers.read"), summary="One carrier", response_class=ConditionalResponse)
    async def get_carrier(self, carrier_reads: Reads, id: ResourceId) -> CarrierOut:
        return carrier_out(await carrier_reads.get(id))

    @patch(
        "/{id:int}",
        opt=requires("carriers.update"),
        summary="Change some fields of a carrier",
        response_class=ConditionalResponse,
    )
    async def update_carrier(
        self, carrier_service: Service, conditions: ConditionsDependency, id: ResourceId, data: JSONBody[CarrierUpdate]
    ) -> CarrierOut:
        return carrier_out(await carrier_service.update(id, values_of(data), conditions.precondition(carrier_out)))

    @put(
        "/{id:int}",
        opt=requires("carriers.update"),
        summary="Alias of PATCH (the old clients use both)",
        response_class=ConditionalResponse,
    )
    async def replace_carrier(
        self, carrier_service: Service, conditions: ConditionsDependency, id: ResourceId, data: JSONBody[CarrierUpdate]
    ) -> CarrierOut:
        return carrier_out(await carrier_service.update(id, values_of(data), conditions.precondition(carrier_out)))

    @delete(
        "/{id:int}",
        opt=requires("carriers.delete"),
        summary="Delete a carrier",
        status_code=204,
        response_class=ConditionalResponse,
    )
    async def delete_carrier(self, carrier_service: Service, conditions: ConditionsDependency, id: ResourceId) -> None:
        await carrier_service.delete(id, conditions.precondition(carrier_out))
