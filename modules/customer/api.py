"""Customer module's public interface: what other modules (pricing) may ask of customers, as Protocols and
frozen DTOs."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import msgspec

from kernel.contracts.calls import idempotent
from kernel.contracts.errors import Conflict, NotFound

CUSTOMER_TYPES = ("standard", "premium", "business")
"""The values of a customer's `customerType` (docs/api.md §5): what pricing rules match with `customerType`."""


class CustomerSummary(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    email: str
    first_name: str
    last_name: str
    is_active: bool
    customer_type: str | None = None
    """One of `CUSTOMER_TYPES`, or None when the customer is not classified (then no pricing rule that states
    a `customerType` matches them). It is the customer's own `customerType` field, not part of `preferences`."""


@runtime_checkable
class CustomerDirectory(Protocol):
    """Read access to customers for other modules (pricing). Returns DTOs, never ORM objects."""

    @idempotent
    async def get_customer(self, customer_id: int) -> CustomerSummary | None:
        """The customer, or None when no customer has that id."""

    @idempotent
    async def exists(self, customer_id: int) -> bool:
        """True when a customer has that id (active or not)."""


class CustomerNotFound(NotFound):
    default_message = "Customer not found"


class EmailTaken(Conflict):
    default_message = "Email already exists"


class UserAlreadyLinked(Conflict):
    """A user is linked to at most one customer."""

    default_message = "User already has a customer"
