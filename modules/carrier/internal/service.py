"""Carrier use cases: rules beyond the wire schema, persistence, and events through the outbox.

The service takes plain values (a carrier's fields by attribute name) and returns the read model; it knows
nothing of HTTP. Reads that change nothing live in `reads.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.contracts.changes import apply_changes
from kernel.contracts.errors import FieldErrors
from kernel.contracts.events import IntegrationEvent
from kernel.contracts.money import is_currency, rate_problem
from kernel.contracts.preconditions import Precondition, check
from kernel.contracts.text import name_key, optional_text, trimmed
from kernel.db.locking import flush_or_conflict, get_locked
from kernel.db.read_cache import ReadCache
from modules.carrier.api import CarrierNameTaken, CarrierNotFound
from modules.carrier.events import (
    CarrierActivated,
    CarrierCreated,
    CarrierDeactivated,
    CarrierDeleted,
    CarrierUpdated,
)
from modules.carrier.internal.models import Carrier, CarrierDetails, outbox
from modules.carrier.internal.reads import CarrierView, view_of

NAME_MIN, NAME_MAX = 2, 100


CarrierValues = Mapping[str, Any]
"""A carrier's fields by attribute name (as on `Carrier` and `CarrierView`): all required ones for a new
carrier, only those that change for an update."""


def event_field_name(attribute: str) -> str:
    """How `carrier.updated` names a changed field (its published contract): the wire's camelCase name."""
    if attribute == "details":
        return "metadata"
    head, *rest = attribute.split("_")
    return head + "".join(part.title() for part in rest)


def _checked_details(errors: FieldErrors, details: CarrierDetails) -> CarrierDetails:
    pricing = details.pricing
    if pricing is not None:
        if not is_currency(pricing.currency):
            errors.add("metadata.pricing.currency", "must be an ISO 4217 currency code (e.g. USD)")
        for wire_name, rate in (("baseRate", pricing.base_rate), ("perKgRate", pricing.per_kg_rate)):
            if rate is not None and (problem := rate_problem(rate)):
                errors.add(f"metadata.pricing.{wire_name}", problem)
    return details


def _normalized(errors: FieldErrors, values: Mapping[str, Any]) -> dict[str, Any]:
    """The given fields as they are stored (trimmed, lower-cased, checked)."""
    normal: dict[str, Any] = {}
    for name, value in values.items():
        if name == "name":
            normal[name] = trimmed(errors, "name", value, NAME_MIN, NAME_MAX)
        elif name == "description":
            normal[name] = optional_text(value)
        elif name == "contact_email":
            normal[name] = value.lower() if value else None
        elif name == "details":
            normal[name] = _checked_details(errors, value or CarrierDetails())
        else:
            normal[name] = value
    return normal


class CarrierService:
    def __init__(self, session: AsyncSession, reads: ReadCache) -> None:
        self.session = session
        self.reads = reads

    async def create(self, new: CarrierValues) -> CarrierView:
        errors = FieldErrors()
        values = _normalized(errors, new)
        errors.raise_if_any()
        await self._ensure_name_free(values["name"])
        carrier = Carrier(**values, name_key=name_key(values["name"]))
        self.session.add(carrier)
        await flush_or_conflict(self.session, "carriers", "name_key", CarrierNameTaken)
        await self._publish(CarrierCreated(carrier_id=carrier.id, name=carrier.name, is_active=carrier.is_active))
        await self.session.commit()
        return view_of(carrier)

    async def update(
        self, carrier_id: int, changes: CarrierValues, precondition: Precondition[CarrierView] | None = None
    ) -> CarrierView:
        """Apply `changes` (only the fields sent), when the locked carrier meets `precondition`."""
        carrier = await self._get_for_update(carrier_id)
        await check(precondition, view_of(carrier))
        errors = FieldErrors()
        values = _normalized(errors, changes)
        errors.raise_if_any()
        if "name" in values and name_key(values["name"]) != carrier.name_key:
            await self._ensure_name_free(values["name"])
        was_active = carrier.is_active
        changed = apply_changes(carrier, values)
        if not changed:
            return view_of(carrier)
        carrier.name_key = name_key(carrier.name)
        await flush_or_conflict(self.session, "carriers", "name_key", CarrierNameTaken)
        await self._publish(CarrierUpdated(carrier_id=carrier.id, changes=[event_field_name(a) for a in changed]))
        if carrier.is_active != was_active:
            flip = CarrierActivated if carrier.is_active else CarrierDeactivated
            await self._publish(flip(carrier_id=carrier.id))
        await self.session.commit()
        return view_of(carrier)

    async def delete(self, carrier_id: int, precondition: Precondition[CarrierView] | None = None) -> None:
        carrier = await self._get_for_update(carrier_id)
        await check(precondition, view_of(carrier))
        await self.session.delete(carrier)
        await self._publish(CarrierDeleted(carrier_id=carrier.id, name=carrier.name))
        await self.session.commit()

    async def _get_for_update(self, carrier_id: int) -> Carrier:
        """The carrier, locked until this transaction ends (concurrent changes take turns), as last committed:
        of twenty simultaneous deletes one succeeds and publishes `carrier.deleted`, the others find nothing."""
        carrier = await get_locked(self.session, Carrier, Carrier.id == carrier_id)
        if carrier is None:
            raise CarrierNotFound()
        return carrier

    async def _ensure_name_free(self, name: str) -> None:
        taken = await self.session.scalar(select(Carrier.id).where(Carrier.name_key == name_key(name)))
        if taken is not None:
            raise CarrierNameTaken()

    async def _publish(self, event: IntegrationEvent) -> None:
        """Every change is announced; what is announced also drops the cached reads once it commits."""
        await outbox.publish(self.session, event)
        self.reads.changing(self.session)
