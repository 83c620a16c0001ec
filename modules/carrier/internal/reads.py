"""Every carrier read: Core selects on the module's engine, shaped into the one read model, `CarrierView`.

Reads need no unit of work, so they skip the ORM session (a third less CPU on the hottest route, by id).
"""

from __future__ import annotations

from datetime import datetime

import msgspec
from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from kernel.contracts.text import name_key
from kernel.db.pages import fetch_page
from kernel.db.reads import attribute_columns, read_one
from kernel.paging import ListParams, Page
from modules.carrier.api import CarrierNotFound
from modules.carrier.internal.models import Carrier, CarrierDetails


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
SEARCHABLE = (Carrier.name, Carrier.description)


def view_of(carrier: Row[tuple[object, ...]] | Carrier) -> CarrierView:
    return CarrierView(**{column.key: getattr(carrier, column.key) for column in _COLUMNS})


class CarrierReads:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def find(self, carrier_id: int) -> CarrierView | None:
        row = await read_one(self._engine, _SELECT.where(Carrier.id == carrier_id))
        return view_of(row) if row is not None else None

    async def get(self, carrier_id: int) -> CarrierView:
        found = await self.find(carrier_id)
        if found is None:
            raise CarrierNotFound()
        return found

    async def get_by_name(self, name: str) -> CarrierView:
        row = await read_one(self._engine, _SELECT.where(Carrier.name_key == name_key(name)))
        if row is None:
            raise CarrierNotFound()
        return view_of(row)

    async def page(self, params: ListParams, is_active: bool | None) -> Page[CarrierView]:
        statement = _SELECT if is_active is None else _SELECT.where(Carrier.is_active == is_active)
        async with self._engine.connect() as connection:
            rows = await fetch_page(connection, statement, params, model=Carrier, search_columns=SEARCHABLE)
        return Page(items=[view_of(row) for row in rows.items], total=rows.total, page=rows.page, limit=rows.limit)

    async def active(self) -> list[CarrierView]:
        async with self._engine.connect() as connection:
            rows = await connection.execute(_SELECT.where(Carrier.is_active).order_by(Carrier.id))
            return [view_of(row) for row in rows]

    async def count(self, is_active: bool | None) -> int:
        statement = select(func.count()).select_from(Carrier)
        if is_active is not None:
            statement = statement.where(Carrier.is_active == is_active)
        async with self._engine.connect() as connection:
            return int(await connection.scalar(statement) or 0)
