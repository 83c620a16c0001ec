"""Carrier use cases: rules beyond the wire schema, persistence, and events through the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import msgspec
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.contracts.errors import FieldErrors
from kernel.contracts.events import IntegrationEvent
from kernel.contracts.money import is_currency, rate_problem
from kernel.contracts.text import optional_text, trimmed
from kernel.db.listing import fetch_page
from kernel.db.locking import flush_or_conflict, get_locked
from kernel.http.fields import present
from kernel.listing import ListParams, Page
from modules.carrier.api import CarrierNameTaken, CarrierNotFound
from modules.carrier.events import (
    CarrierActivated,
    CarrierCreated,
    CarrierDeactivated,
    CarrierDeleted,
    CarrierUpdated,
)
from modules.carrier.internal.models import Carrier, outbox
from modules.carrier.internal.schemas import CarrierCreate, CarrierMetadata, CarrierUpdate

NAME_MIN, NAME_MAX = 2, 100
SORTABLE = {
    "createdAt": Carrier.created_at,
    "updatedAt": Carrier.updated_at,
    "name": Carrier.name,
    "isActive": Carrier.is_active,
    "id": Carrier.id,
}
SEARCHABLE = (Carrier.name, Carrier.description)


class CarrierRepository(SQLAlchemyAsyncRepository[Carrier]):
    model_type = Carrier


def _metadata_document(errors: FieldErrors, metadata: CarrierMetadata | None) -> dict[str, Any]:
    if metadata is None:
        return {}
    pricing = metadata.pricing
    if pricing is not None:
        if not is_currency(pricing.currency):
            errors.add("metadata.pricing.currency", "must be an ISO 4217 currency code (e.g. USD)")
        for wire_name, rate in (("baseRate", pricing.base_rate), ("perKgRate", pricing.per_kg_rate)):
            if rate is not None and (problem := rate_problem(rate)):
                errors.add(f"metadata.pricing.{wire_name}", problem)
    document: dict[str, Any] = msgspec.to_builtins(metadata)
    if metadata.pricing is not None:
        document["pricing"] = {k: v for k, v in document["pricing"].items() if v is not None}
    return {k: v for k, v in document.items() if v is not None}


def metadata_for_wire(document: dict[str, Any]) -> dict[str, Any]:
    """Stored metadata as sent back: rates as JSON numbers (they are stored as exact decimal strings)."""
    pricing = document.get("pricing")
    if not isinstance(pricing, dict):
        return document
    wire_pricing = {
        key: float(Decimal(value)) if key in {"baseRate", "perKgRate"} and value is not None else value
        for key, value in pricing.items()
    }
    return {**document, "pricing": wire_pricing}


class CarrierService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.repository = CarrierRepository(session=session, auto_expunge=False)

    async def get(self, carrier_id: int) -> Carrier:
        carrier = await self.session.get(Carrier, carrier_id)
        if carrier is None:
            raise CarrierNotFound()
        return carrier

    async def get_for_update(self, carrier_id: int) -> Carrier:
        """The carrier, locked until this transaction ends (concurrent changes take turns), as last committed:
        of twenty simultaneous deletes one succeeds and publishes `carrier.deleted`, the others find nothing."""
        carrier = await get_locked(self.session, Carrier, Carrier.id == carrier_id)
        if carrier is None:
            raise CarrierNotFound()
        return carrier

    async def get_by_name(self, name: str) -> Carrier:
        carrier = await self.repository.get_one_or_none(Carrier.name_key == name.strip().lower())
        if carrier is None:
            raise CarrierNotFound()
        return carrier

    async def list(self, params: ListParams, is_active: bool | None) -> Page[Carrier]:
        statement = select(Carrier)
        if is_active is not None:
            statement = statement.where(Carrier.is_active == is_active)
        return await fetch_page(
            self.session,
            statement,
            params,
            search_columns=SEARCHABLE,
            sort_columns=SORTABLE,
            id_column=Carrier.id,
        )

    async def active(self) -> Sequence[Carrier]:
        return (await self.session.scalars(select(Carrier).where(Carrier.is_active).order_by(Carrier.id))).all()

    async def count(self, is_active: bool | None) -> int:
        statement = select(func.count()).select_from(Carrier)
        if is_active is not None:
            statement = statement.where(Carrier.is_active == is_active)
        return int(await self.session.scalar(statement) or 0)

    async def create(self, data: CarrierCreate) -> Carrier:
        errors = FieldErrors()
        name = trimmed(errors, "name", data.name, NAME_MIN, NAME_MAX)
        details = _metadata_document(errors, data.metadata)
        errors.raise_if_any()
        await self._ensure_name_free(name)
        carrier = Carrier(
            name=name,
            name_key=name.lower(),
            description=optional_text(data.description),
            is_active=data.is_active,
            contact_email=data.contact_email.lower() if data.contact_email else None,
            contact_phone=data.contact_phone,
            details=details,
        )
        self.session.add(carrier)
        await flush_or_conflict(self.session, "carriers", "name_key", CarrierNameTaken)
        self._publish(CarrierCreated(carrier_id=carrier.id, name=carrier.name, is_active=carrier.is_active))
        await self.session.commit()
        return carrier

    async def update(self, carrier_id: int, data: CarrierUpdate) -> Carrier:
        carrier = await self.get_for_update(carrier_id)
        errors = FieldErrors()
        changes: dict[str, Any] = {}
        if present(data.name):
            name = trimmed(errors, "name", data.name, NAME_MIN, NAME_MAX)
            if name != carrier.name:
                changes["name"] = name
        if present(data.description):
            changes["description"] = optional_text(data.description)
        if present(data.is_active):
            changes["is_active"] = data.is_active
        if present(data.contact_email):
            changes["contact_email"] = data.contact_email.lower() if data.contact_email else None
        if present(data.contact_phone):
            changes["contact_phone"] = data.contact_phone
        if present(data.metadata):
            changes["details"] = _metadata_document(errors, data.metadata)
        errors.raise_if_any()

        if "name" in changes and changes["name"].lower() != carrier.name_key:
            await self._ensure_name_free(changes["name"])
        changed = [attr for attr, value in changes.items() if getattr(carrier, attr) != value]
        if not changed:
            return carrier
        was_active = carrier.is_active
        for attr in changed:
            setattr(carrier, attr, changes[attr])
        if "name" in changed:
            carrier.name_key = carrier.name.lower()
        await flush_or_conflict(self.session, "carriers", "name_key", CarrierNameTaken)
        self._publish(CarrierUpdated(carrier_id=carrier.id, changes=[_WIRE_NAMES[a] for a in changed]))
        if carrier.is_active != was_active:
            flip = CarrierActivated if carrier.is_active else CarrierDeactivated
            self._publish(flip(carrier_id=carrier.id))
        await self.session.commit()
        return carrier

    async def delete(self, carrier_id: int) -> None:
        carrier = await self.get_for_update(carrier_id)
        await self.session.delete(carrier)
        self._publish(CarrierDeleted(carrier_id=carrier.id, name=carrier.name))
        await self.session.commit()

    async def _ensure_name_free(self, name: str) -> None:
        if await self.repository.exists(Carrier.name_key == name.lower()):
            raise CarrierNameTaken()

    def _publish(self, event: IntegrationEvent) -> None:
        outbox.publish(self.session, event)


_WIRE_NAMES = {
    "name": "name",
    "description": "description",
    "is_active": "isActive",
    "contact_email": "contactEmail",
    "contact_phone": "contactPhone",
    "details": "metadata",
}
