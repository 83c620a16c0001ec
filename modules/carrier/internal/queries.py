"""The carrier read that carries most traffic (one carrier by id), without an ORM session."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from kernel.db.reads import attribute_columns, read_one
from modules.carrier.api import CarrierNotFound
from modules.carrier.internal.models import Carrier


class CarrierRecord(Protocol):
    """What the wire shape needs: satisfied by a `Carrier` and by a row of `CARRIER_COLUMNS`."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str | None: ...
    @property
    def is_active(self) -> bool: ...
    @property
    def contact_email(self) -> str | None: ...
    @property
    def contact_phone(self) -> str | None: ...
    @property
    def details(self) -> dict[str, Any]: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...


CARRIER_COLUMNS = attribute_columns(Carrier)


class CarrierReads:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, carrier_id: int) -> CarrierRecord:
        row = await read_one(self._engine, select(*CARRIER_COLUMNS).where(Carrier.id == carrier_id))
        if row is None:
            raise CarrierNotFound()
        record: CarrierRecord = row
        return record
