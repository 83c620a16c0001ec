"""Customer request and response shapes (camelCase on the wire, unknown fields rejected), and their translation
to and from the service's values: everything that knows the wire lives here.

Wire shapes check types, sizes and the fixed vocabularies; the service's `CustomerRules` check the rest
(trimmed name lengths, the date of birth, the size of `preferences`, the user).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, UnsetType

from kernel.contracts.changes import sent_fields
from kernel.http.body import BodyRules
from kernel.http.fields import MAX_ID, Email, PageOut, Phone, RequestBody, ResponseBody
from modules.customer.api import CUSTOMER_TYPES
from modules.customer.internal.models import CustomerAddress, CustomerPreferences
from modules.customer.internal.reads import CustomerView
from modules.customer.internal.service import PREFERRED_CONTACTS, CustomerRules, CustomerValues

NameField = str
"""Trimmed and checked against 2-50 characters by the rules, with one message at any length (the 1 MiB body
limit bounds it), as for users."""
UserId = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]


_NOT_BLANK = msgspec.Meta(pattern=r"\S", extra={"message": "must not be blank"})
AddressLine = Annotated[str, msgspec.Meta(max_length=200), _NOT_BLANK]
AddressShort = Annotated[str, msgspec.Meta(max_length=100), _NOT_BLANK]
"""Address lines are stored trimmed; `street`, `city` and `country` must not be blank."""
AddressCode = Annotated[str, msgspec.Meta(max_length=20)]
CustomerType = Annotated[
    str,
    msgspec.Meta(
        pattern=rf"^(?:{'|'.join(CUSTOMER_TYPES)})$(?!\n)",
        extra={"message": f"must be one of: {', '.join(CUSTOMER_TYPES)}"},
    ),
]
PreferredContact = Annotated[
    str,
    msgspec.Meta(
        pattern=rf"^(?:{'|'.join(PREFERRED_CONTACTS)})$(?!\n)",
        extra={"message": f"must be one of: {', '.join(PREFERRED_CONTACTS)}"},
    ),
]
PreferenceText = str
"""Bounded by the 2,000 characters of the whole `preferences` document."""


class AddressIn(RequestBody):
    street: AddressLine
    city: AddressShort
    country: AddressShort
    state: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    zip_code: AddressCode | None = None


class PreferencesIn(RequestBody):
    company: PreferenceText | None = None
    industry: PreferenceText | None = None
    preferred_contact: PreferredContact | None = None
    newsletter: bool | None = None


class CustomerCreate(RequestBody):
    email: Email
    first_name: NameField
    last_name: NameField
    phone: Phone | None = None
    is_active: bool = True
    date_of_birth: date | None = None
    user_id: UserId | None = None
    customer_type: CustomerType | None = None
    address: AddressIn | None = None
    preferences: PreferencesIn | None = None


class CustomerUpdate(RequestBody):
    """PATCH (and PUT): only the fields sent change; `address` and `preferences` replace the whole object,
    `null` clears them (and `phone`, `dateOfBirth`, `userId`, `customerType`)."""

    email: Email | UnsetType = UNSET
    first_name: NameField | UnsetType = UNSET
    last_name: NameField | UnsetType = UNSET
    phone: Phone | UnsetType | None = UNSET
    is_active: bool | UnsetType = UNSET
    date_of_birth: date | UnsetType | None = UNSET
    user_id: UserId | UnsetType | None = UNSET
    customer_type: CustomerType | UnsetType | None = UNSET
    address: AddressIn | UnsetType | None = UNSET
    preferences: PreferencesIn | UnsetType | None = UNSET


class AddressOut(ResponseBody, omit_defaults=True):
    street: str
    city: str
    country: str
    state: str | None = None
    zip_code: str | None = None


class PreferencesOut(ResponseBody, omit_defaults=True):
    company: str | None = None
    industry: str | None = None
    preferred_contact: str | None = None
    newsletter: bool | None = None


class CustomerOut(ResponseBody):
    id: int
    user_id: int | None
    email: str
    first_name: str
    last_name: str
    full_name: str
    phone: str | None
    is_active: bool
    date_of_birth: date | None
    customer_type: str | None
    address: AddressOut | None
    preferences: PreferencesOut
    created_at: datetime
    updated_at: datetime


SORT_FIELDS = {
    "createdAt": "created_at",
    "updatedAt": "updated_at",
    "email": "email",
    "firstName": "first_name",
    "lastName": "last_name",
    "isActive": "is_active",
    "id": "id",
}
"""`sortBy` values → the attributes they sort."""


class CustomerPage(PageOut[CustomerOut], rename={"items": "customers"}):
    items: list[CustomerOut]
    sort_keys = tuple(SORT_FIELDS)


def _address_of(address: AddressIn | None) -> CustomerAddress | None:
    if address is None:
        return None
    return CustomerAddress(
        street=address.street,
        city=address.city,
        country=address.country,
        state=address.state,
        zip_code=address.zip_code,
    )


def _preferences_of(preferences: PreferencesIn | None) -> CustomerPreferences | None:
    if preferences is None:
        return None
    return CustomerPreferences(
        company=preferences.company,
        industry=preferences.industry,
        preferred_contact=preferences.preferred_contact,
        newsletter=preferences.newsletter,
    )


def values_from(fields: Mapping[str, Any]) -> CustomerValues:
    """Body fields by attribute name → the service's values (`address`, `preferences` as typed documents)."""
    values = dict(fields)
    if "address" in values:
        values["address"] = _address_of(values["address"])
    if "preferences" in values:
        values["preferences"] = _preferences_of(values["preferences"])
    return values


def values_of(data: CustomerCreate | CustomerUpdate) -> CustomerValues:
    """The fields sent, by attribute name."""
    return values_from(sent_fields(data))


def body_rules(rules: CustomerRules) -> BodyRules:
    """The customer rules for the routes' `BODY_RULES`: run on the fields a rejected body got right."""

    async def check(fields: Mapping[str, Any]) -> Mapping[str, Sequence[str]]:
        return await rules.problems(values_from(fields))

    return check


def customer_out(customer: CustomerView) -> CustomerOut:
    address, preferences = customer.address, customer.preferences
    return CustomerOut(
        id=customer.id,
        user_id=customer.user_id,
        email=customer.email,
        first_name=customer.first_name,
        last_name=customer.last_name,
        full_name=f"{customer.first_name} {customer.last_name}",
        phone=customer.phone,
        is_active=customer.is_active,
        date_of_birth=customer.date_of_birth,
        customer_type=customer.customer_type,
        address=(
            AddressOut(
                street=address.street,
                city=address.city,
                country=address.country,
                state=address.state,
                zip_code=address.zip_code,
            )
            if address is not None
            else None
        ),
        preferences=PreferencesOut(
            company=preferences.company,
            industry=preferences.industry,
            preferred_contact=preferences.preferred_contact,
            newsletter=preferences.newsletter,
        ),
        created_at=customer.created_at,
        updated_at=customer.updated_at,
    )
