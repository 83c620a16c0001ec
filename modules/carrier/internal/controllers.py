"""Carrier HTTP routes (api-v1 §6): parse, call the service, shape the response, declare the permission."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, patch, post, put
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody, PathParameter, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.contracts.errors import FieldErrors
from kernel.http.access import requires
from kernel.http.fields import CountOut, ResourceId
from kernel.http.listing import LIST_QUERY_DEPENDENCY
from kernel.listing import parse_bool, parse_list_params
from kernel.modules import context_of
from modules.carrier.internal.queries import CarrierReads, CarrierRecord
from modules.carrier.internal.schemas import CarrierCreate, CarrierOut, CarrierPage, CarrierUpdate
from modules.carrier.internal.service import SORTABLE, CarrierService, metadata_for_wire

IsActiveFilter = Annotated[str | None, QueryParameter(name="isActive", description="true or false")]
CarrierName = Annotated[str, PathParameter(min_length=1, max_length=100)]


def provide_carrier_service(carrier_db_session: NamedDependency[AsyncSession]) -> CarrierService:
    return CarrierService(carrier_db_session)


def provide_carrier_reads(state: State) -> CarrierReads:
    return CarrierReads(context_of(state, "carrier").engine)


def to_wire(carrier: CarrierRecord) -> CarrierOut:
    return CarrierOut(
        id=carrier.id,
        name=carrier.name,
        description=carrier.description,
        is_active=carrier.is_active,
        contact_email=carrier.contact_email,
        contact_phone=carrier.contact_phone,
        metadata=metadata_for_wire(carrier.details or {}),
        created_at=carrier.created_at,
        updated_at=carrier.updated_at,
    )


def _active_filter(raw: str | None) -> bool | None:
    errors = FieldErrors()
    value = parse_bool(errors, "isActive", raw)
    errors.raise_if_any()
    return value


class CarrierController(Controller):
    path = "/carriers"
    tags = ["carriers"]
    dependencies = {
        "carrier_service": Provide(provide_carrier_service, sync_to_thread=False),
        "carrier_reads": Provide(provide_carrier_reads, sync_to_thread=False),
        **LIST_QUERY_DEPENDENCY,
    }

    @get("/", opt=requires("carriers.list"), summary="List carriers; search over name and description")
    async def list_carriers(
        self,
        carrier_service: NamedDependency[CarrierService],
        list_query: NamedDependency[dict[str, str | None]],
        is_active: IsActiveFilter = None,
    ) -> CarrierPage:
        errors = FieldErrors()
        active = parse_bool(errors, "isActive", is_active)
        params = parse_list_params(list_query, SORTABLE, errors)
        page = await carrier_service.list(params, active)
        return CarrierPage(
            carriers=[to_wire(c) for c in page.items],
            total=page.total,
            page=page.page,
            limit=page.limit,
            total_pages=page.total_pages,
        )

    @post("/", opt=requires("carriers.create"), summary="Create a carrier")
    async def create_carrier(
        self, carrier_service: NamedDependency[CarrierService], data: JSONBody[CarrierCreate]
    ) -> CarrierOut:
        return to_wire(await carrier_service.create(data))

    @get("/active", opt=requires("carriers.list"), summary="Every active carrier")
    async def active_carriers(self, carrier_service: NamedDependency[CarrierService]) -> list[CarrierOut]:
        return [to_wire(c) for c in await carrier_service.active()]

    @get("/count", opt=requires("carriers.list"), summary="How many carriers (optionally by isActive)")
    async def count_carriers(
        self, carrier_service: NamedDependency[CarrierService], is_active: IsActiveFilter = None
    ) -> CountOut:
        return CountOut(count=await carrier_service.count(_active_filter(is_active)))

    @get("/name/{name:str}", opt=requires("carriers.read"), summary="Find a carrier by name (ignoring case)")
    async def carrier_by_name(self, carrier_service: NamedDependency[CarrierService], name: CarrierName) -> CarrierOut:
        return to_wire(await carrier_service.get_by_name(name))

    @get("/{id:int}", opt=requires("carriers.read"), summary="One carrier")
    async def get_carrier(self, carrier_reads: NamedDependency[CarrierReads], id: ResourceId) -> CarrierOut:
        return to_wire(await carrier_reads.get(id))

    @patch("/{id:int}", opt=requires("carriers.update"), summary="Change some fields of a carrier")
    async def update_carrier(
        self,
        carrier_service: NamedDependency[CarrierService],
        id: ResourceId,
        data: JSONBody[CarrierUpdate],
    ) -> CarrierOut:
        return to_wire(await carrier_service.update(id, data))

    @put("/{id:int}", opt=requires("carriers.update"), summary="Alias of PATCH (the old clients use both)")
    async def replace_carrier(
        self,
        carrier_service: NamedDependency[CarrierService],
        id: ResourceId,
        data: JSONBody[CarrierUpdate],
    ) -> CarrierOut:
        return to_wire(await carrier_service.update(id, data))

    @delete("/{id:int}", opt=requires("carriers.delete"), summary="Delete a carrier", status_code=204)
    async def delete_carrier(self, carrier_service: NamedDependency[CarrierService], id: ResourceId) -> None:
        await carrier_service.delete(id)
