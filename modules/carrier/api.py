"""Carrier module's public interface: what other modules may ask of carriers, as Protocols and frozen DTOs."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol, runtime_checkable

import msgspec

from kernel.contracts.calls import idempotent
from kernel.contracts.errors import Conflict, NotFound


class CarrierSummary(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: str
    is_active: bool
    code: str | None = None
    service_types: tuple[str, ...] = ()
    currency: str | None = None
    base_rate: Decimal | None = None
    per_kg_rate: Decimal | None = None


@runtime_checkable
class CarrierDirectory(Protocol):
    """Read access to carriers for other modules (pricing). Returns DTOs, never ORM objects."""

    @idempotent
    async def get_carrier(self, carrier_id: int) -> CarrierSummary | None:
        """The carrier, or None when no carrier has that id."""

    @idempotent
    async def is_active(self, carrier_id: int) -> bool:
        """True when the carrier exists and is active."""

    @idempotent
    async def list_active(self) -> list[CarrierSummary]:
        """Every active carrier, ordered by id."""


class CarrierNotFound(NotFound):
    default_message = "Carrier not found"


class CarrierNameTaken(Conflict):
    default_message = "Carrier name already exists"
