"""Integration events the carrier module publishes (through its outbox)."""

from __future__ import annotations

from typing import ClassVar

from kernel.contracts.events import IntegrationEvent


class CarrierCreated(IntegrationEvent, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "carrier.created"
    event_version: ClassVar[int] = 1
    carrier_id: int
    name: str
    is_active: bool


class CarrierUpdated(IntegrationEvent, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "carrier.updated"
    event_version: ClassVar[int] = 1
    carrier_id: int
    changes: list[str]
    """Wire names of the fields that changed."""


class CarrierActivated(IntegrationEvent, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "carrier.activated"
    event_version: ClassVar[int] = 1
    carrier_id: int


class CarrierDeactivated(IntegrationEvent, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "carrier.deactivated"
    event_version: ClassVar[int] = 1
    carrier_id: int


class CarrierDeleted(IntegrationEvent, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "carrier.deleted"
    event_version: ClassVar[int] = 1
    carrier_id: int
    name: str


ALL_EVENTS = (CarrierCreated, CarrierUpdated, CarrierActivated, CarrierDeactivated, CarrierDeleted)
