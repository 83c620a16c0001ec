"""Customer use cases: rules beyond the wire schema, persistence, and events through the outbox.

The service takes plain values (a customer's fields by attribute name) and returns the read model; it knows
nothing of HTTP. `userId` is checked through the user module's `UserAccounts`, never by reading its tables.
Reads that change nothing live in `reads.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.contracts.changes import apply_changes
from kernel.contracts.errors import FieldErrors, ValidationFailed
from kernel.contracts.events import IntegrationEvent
from kernel.contracts.preconditions import Precondition, check
from kernel.contracts.text import optional_text, trimmed
from kernel.db.locking import get_locked, violates_unique
from kernel.db.read_cache import ReadCache
from modules.customer.api import CustomerNotFound, EmailTaken, UserAlreadyLinked
from modules.customer.events import (
    CustomerActivated,
    CustomerCreated,
    CustomerDeactivated,
    CustomerDeleted,
    CustomerUpdated,
)
from modules.customer.internal.models import Customer, CustomerAddress, CustomerPreferences, outbox
from modules.customer.internal.reads import CustomerView, email_key, view_of
from modules.user.api import UserAccounts

NAME_MIN, NAME_MAX = 2, 50
MIN_AGE = 13
MAX_AGE = 150
"""A date of birth longer ago than this is a typing error, not a customer."""
MAX_PREFERENCES_CHARS = 2000
PREFERRED_CONTACTS = ("email", "phone", "sms", "mail")
"""The values of `preferences.preferredContact`."""

CustomerValues = Mapping[str, Any]
"""A customer's fields by attribute name (as on `Customer` and `CustomerView`): all required ones for a new
customer, only those that change for an update."""


def wire_name(attribute: str) -> str:
    """A field's request name, the key of its `fieldErrors` and its name in `customer.updated`."""
    head, *rest = attribute.split("_")
    return head + "".join(part.title() for part in rest)


def age_on(day: date, born: date) -> int:
    """Whole years from `born` to `day` (someone born on 29 February turns a year older on 1 March)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _checked_birth_date(errors: FieldErrors, born: date | None) -> date | None:
    if born is None:
        return None
    today = datetime.now(UTC).date()
    if born > today:
        errors.add("dateOfBirth", "must not be in the future")
    elif age_on(today, born) < MIN_AGE:
        errors.add("dateOfBirth", f"must make the customer at least {MIN_AGE} years old")
    elif age_on(today, born) > MAX_AGE:
        errors.add("dateOfBirth", f"must be at most {MAX_AGE} years ago")
    return born


def _trimmed_address(address: CustomerAddress | None) -> CustomerAddress | None:
    """Lines trimmed (the schema refuses blank `street`, `city` and `country`); blank `state`/`zipCode` drop out."""
    if address is None:
        return None
    return CustomerAddress(
        street=address.street.strip(),
        city=address.city.strip(),
        country=address.country.strip(),
        state=optional_text(address.state),
        zip_code=optional_text(address.zip_code),
    )


def _checked_preferences(errors: FieldErrors, preferences: CustomerPreferences | None) -> CustomerPreferences:
    """Texts trimmed (blank drops out); at most 2,000 characters as JSON."""
    if preferences is None:
        return CustomerPreferences()
    checked = CustomerPreferences(
        company=optional_text(preferences.company),
        industry=optional_text(preferences.industry),
        preferred_contact=preferences.preferred_contact,
        newsletter=preferences.newsletter,
    )
    if len(msgspec.json.encode(checked).decode()) > MAX_PREFERENCES_CHARS:
        errors.add("preferences", f"must be at most {MAX_PREFERENCES_CHARS:,} characters as JSON")
    return checked


def normalized(errors: FieldErrors, values: CustomerValues) -> dict[str, Any]:
    """The given fields as they are stored (trimmed, lower-cased, checked); violations go to `errors`."""
    normal: dict[str, Any] = {}
    for name, value in values.items():
        if name == "email":
            normal[name] = email_key(value)
        elif name in {"first_name", "last_name"}:
            normal[name] = trimmed(errors, wire_name(name), value, NAME_MIN, NAME_MAX)
        elif name == "phone":
            normal[name] = optional_text(value)
        elif name == "date_of_birth":
            normal[name] = _checked_birth_date(errors, value)
        elif name == "address":
            normal[name] = _trimmed_address(value)
        elif name == "preferences":
            normal[name] = _checked_preferences(errors, value)
        else:
            normal[name] = value
    return normal


class CustomerRules:
    """Every rule on a customer's fields beyond the wire schema, the user check included: the service applies
    them to every write, and the routes to the fields that passed the schema when it rejected others (so one
    400 reports every bad field)."""

    def __init__(self, users: UserAccounts) -> None:
        self.users = users

    async def check(self, errors: FieldErrors, values: CustomerValues) -> dict[str, Any]:
        normal = normalized(errors, values)
        user_id = normal.get("user_id")
        if user_id is not None and not await self.users.exists(user_id):
            errors.add("userId", "must be the id of an existing user")
        return normal

    async def checked(self, values: CustomerValues) -> dict[str, Any]:
        """`values` as stored; raises ValidationFailed with every violation."""
        errors = FieldErrors()
        normal = await self.check(errors, values)
        errors.raise_if_any()
        return normal

    async def problems(self, values: CustomerValues) -> dict[str, list[str]]:
        """The violations among `values`, by request field name (none: empty)."""
        try:
            await self.checked(values)
        except ValidationFailed as failed:
            return failed.field_errors
        return {}


def conflict_of(exc: IntegrityError) -> EmailTaken | UserAlreadyLinked | None:
    """The customer conflict a failed write ran into (a concurrent writer took the email or the user)."""
    if violates_unique(exc, "customers", "email"):
        return EmailTaken()
    if violates_unique(exc, "customers", "user_id"):
        return UserAlreadyLinked()
    return None


class CustomerService:
    """One request's (or one event handler's) work on customers, in one session. `create`, `update` and
    `delete` commit; `add` and `change` leave the commit to the caller (the seed, an event handler's inbox)."""

    def __init__(self, session: AsyncSession, rules: CustomerRules, reads: ReadCache) -> None:
        self.session = session
        self.rules = rules
        self.reads = reads

    async def create(self, new: CustomerValues) -> CustomerView:
        customer = await self.add(new)
        await self.session.commit()
        return view_of(customer)

    async def add(self, new: CustomerValues) -> Customer:
        """Check, insert and announce a new customer; the caller commits."""
        values = await self.rules.checked(new)
        await self._ensure_free(values)
        customer = Customer(**values)
        self.session.add(customer)
        await self._flush_or_conflict()
        await self.announce_created(customer)
        return customer

    async def update(
        self, customer_id: int, changes: CustomerValues, precondition: Precondition[CustomerView] | None = None
    ) -> CustomerView:
        """Apply `changes` (only the fields sent), when the locked customer meets `precondition`."""
        customer = await self.get_for_update(customer_id)
        await check(precondition, view_of(customer))
        values = await self.rules.checked(changes)
        await self._ensure_free(values, customer)
        if await self.change(customer, values):
            await self.session.commit()
        return view_of(customer)

    async def delete(self, customer_id: int, precondition: Precondition[CustomerView] | None = None) -> None:
        customer = await self.get_for_update(customer_id)
        await check(precondition, view_of(customer))
        await self.session.delete(customer)
        await self._publish(CustomerDeleted(customer_id=customer.id, email=customer.email))
        await self.session.commit()

    async def get_for_update(self, customer_id: int) -> Customer:
        """The customer, locked until this transaction ends (concurrent changes take turns), as last committed."""
        customer = await get_locked(self.session, Customer, Customer.id == customer_id)
        if customer is None:
            raise CustomerNotFound()
        return customer

    async def change(self, customer: Customer, values: CustomerValues) -> list[str]:
        """Set the stored `values` that differ, flush, and publish what changed; the attribute names changed."""
        was_active = customer.is_active
        changed = apply_changes(customer, values)
        if not changed:
            return []
        await self._flush_or_conflict()
        await self._publish(CustomerUpdated(customer_id=customer.id, changes=[wire_name(name) for name in changed]))
        if customer.is_active != was_active:
            flip = CustomerActivated if customer.is_active else CustomerDeactivated
            await self._publish(flip(customer_id=customer.id))
        return changed

    async def announce_created(self, customer: Customer) -> None:
        await self._publish(
            CustomerCreated(
                customer_id=customer.id,
                email=customer.email,
                first_name=customer.first_name,
                last_name=customer.last_name,
                is_active=customer.is_active,
                user_id=customer.user_id,
                customer_type=customer.customer_type,
            )
        )

    async def _ensure_free(self, values: CustomerValues, customer: Customer | None = None) -> None:
        """409 before writing when the email or the user already belongs to another customer."""
        others = select(Customer.id).where(Customer.id != customer.id) if customer is not None else select(Customer.id)
        if "email" in values and await self.session.scalar(others.where(Customer.email == values["email"])):
            raise EmailTaken()
        user_id = values.get("user_id")
        if user_id is not None and await self.session.scalar(others.where(Customer.user_id == user_id)):
            raise UserAlreadyLinked()

    async def _flush_or_conflict(self) -> None:
        """Flush; a concurrent writer that took the email or the user between our check and our write is
        still the use case's 409. Any other integrity error is not hidden behind that message."""
        try:
            await self.session.flush()
        except IntegrityError as exc:
            await self.session.rollback()
            conflict = conflict_of(exc)
            if conflict is None:
                raise
            raise conflict from None

    async def _publish(self, event: IntegrationEvent) -> None:
        """Every change is announced; what is announced also drops the cached reads once it commits."""
        await outbox.publish(self.session, event)
        self.reads.changing(self.session)
