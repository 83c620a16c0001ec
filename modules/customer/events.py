"""Integration events the customer module publishes (through its outbox)."""

from __future__ import annotations

from typing import ClassVar

from kernel.contracts.events import IntegrationEvent


class CustomerCreated(IntegrationEvent, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "customer.created"
    event_version: ClassVar[int] = 1
    customer_id: int
    email: str
    first_name: str
    last_name: str
    is_active: bool
    user_id: int | None
    customer_type: str | None


class CustomerUpdated(IntegrationEvent, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "customer.updated"
    event_version: ClassVar[int] = 1
    customer_id: int
    changes: list[str]
    """Wire names of the fields that changed (`userId` when the customer was linked to or unlinked from a
    user)."""


class CustomerActivated(IntegrationEvent, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "customer.activated"
    event_version: ClassVar[int] = 1
    customer_id: int


class CustomerDeactivated(IntegrationEvent, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "customer.deactivated"
    event_version: ClassVar[int] = 1
    customer_id: int


class CustomerDeleted(IntegrationEvent, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "customer.deleted"
    event_version: ClassVar[int] = 1
    customer_id: int
    email: str


ALL_EVENTS = (CustomerCreated, CustomerUpdated, CustomerActivated, CustomerDeactivated, CustomerDeleted)
