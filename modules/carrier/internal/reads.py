"""Every carrier read: Core selects on the module's engine, shaped into the one read model, `CarrierView`.

Reads need no unit of work, so they skip the ORM session (a third less CPU on the hottest route, by id). Their
results are kept in the module's `ReadCache` until a carrier changes in any process (kernel.db.read_cache):
every write of the service declares itself with `reads.cache.changing(session)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import Row, Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from kernel.contracts.text import name_key
from kernel.db.pages import fetch_page
from kernel.db.read_cache import ReadCache
from kernel.db.reads import attribute_columns, read_one
from kernel.paging import ListParams, Page
from modules.carrier.api import CarrierNotFound
from modules.carrier.internal.models import Carrier, CarrierDetails, versions


class CarrierView(msgspec.Struct, frozen=True, kw_only=True):
    """A carrier as every reader sees it (routes, the directory, other modules' DTOs are made from it)."""

    id: int
    name: str
    description: str | None
    is_active: bool
    contact_email: str | None
    contact_phone: str | None
    details: CarrierDetails
    created_at: datetime
    updated_at: datetime


_COLUMNS = [column for column in attribute_columns(Carrier) if column.key != "name_key"]
_SELECT = select(*_COLUMNS)
_BY_ID = _SELECT.where(Carrier.id == bindparam("carrier_id"))  # built once: the hottest read
SEARCHABLE = (Carrier.name, Carrier.description)


def view_of(carrier: Row[tuple[object, ...]] | Carrier) -> CarrierView:
    return CarrierView(**{column.key: getattr(carrier, column.key) for column in _COLUMNS})


READS_VERSION = "carriers"


class CarrierReads:
    def __init__(self, engine: AsyncEngine, cache: ReadCache | None = None) -> None:
        self._engine = engine
        self.cache = cache or ReadCache(versions, READS_VERSION)

    async def find(self, carrier_id: int) -> CarrierView | None:
        return await self.cache.get(("id", carrier_id), lambda: self._one(_BY_ID, {"carrier_id": carrier_id}))

    async def get(self, carrier_id: int) -> CarrierView:
        found = await self.find(carrier_id)
        if found is None:
            raise CarrierNotFound()
        return found

    async def get_by_name(self, name: str) -> CarrierView:
        key = name_key(name)
        found = await self.cache.get(("name", key), lambda: self._one(_SELECT.where(Carrier.name_key == key)))
        if found is None:
            raise CarrierNotFound()
        return found

    async def page(self, params: ListParams, is_active: bool | None) -> Page[CarrierView]:
        return await self.cache.get(("page", params, is_active), lambda: self._page(params, is_active))

    async def active(self) -> tuple[CarrierView, ...]:
        return await self.cache.get(("active",), self._active)

    async def count(self, is_active: bool | None) -> int:
        return await self.cache.get(("count", is_active), lambda: self._count(is_active))

    async def _one(self, statement: Select[Any], parameters: Mapping[str, Any] | None = None) -> CarrierView | None:
        row = await read_one(self._engine, statement, parameters)
        return view_of(row) if row is not None else None

    async def _page(self, params: ListParams, is_active: bool | None) -> Page[CarrierView]:
        statement = _SELECT if is_active is None else _SELECT.where(Carrier.is_active == is_active)
        async with self._engine.connect() as connection:
            rows = await fetch_page(connection, statement, params, model=Carrier, search_columns=SEARCHABLE)
        return Page(items=tuple(view_of(row) for row in rows.items), total=rows.total, page=rows.page, limit=rows.limit)

    async def _active(self) -> tuple[CarrierView, ...]:
        async with self._engine.connect() as connection:
            rows = await connection.execute(_SELECT.where(Carrier.is_active).order_by(Carrier.id))
            return tuple(view_of(row) for row in rows)

    async def _count(self, is_active: bool | None) -> int:
        statement = select(func.count()).select_from(Carrier)
        if is_active is not None:
            statement = statement.where(Carrier.is_active == is_active)
        async with self._engine.connect() as connection:
            return int(await connection.scalar(statement) or 0)
