"""Carrier request and response shapes (camelCase on the wire, unknown fields rejected), and their translation
to and from the service's values: everything that knows the wire lives here."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from kernel.contracts.changes import sent_fields
from kernel.http.fields import END, CurrencyCode, Email, PageOut, Phone, RequestBody, ResponseBody, Url
from modules.carrier.internal.models import CarrierDetails, CarrierRates
from modules.carrier.internal.reads import CarrierView
from modules.carrier.internal.service import CarrierValues

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Description = Annotated[str, msgspec.Meta(max_length=500)]
Code = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=20,
        pattern=rf"^[A-Za-z0-9_-]+{END}",
        extra={"message": "must be 1-20 letters, digits, dashes or underscores"},
    ),
]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Rate = Decimal
"""Checked by the service (`kernel.contracts.money.check_rate`): msgspec cannot bound a Decimal."""


class CarrierPricing(RequestBody):
    base_rate: Rate
    currency: CurrencyCode
    per_kg_rate: Rate | None = None


class CarrierMetadata(RequestBody):
    code: Code | None = None
    website: Url | None = None
    tracking_url: Url | None = None
    service_types: Annotated[list[Label], msgspec.Meta(max_length=50)] | None = None
    coverage: Annotated[list[Label], msgspec.Meta(max_length=250)] | None = None
    pricing: CarrierPricing | None = None


class CarrierCreate(RequestBody):
    name: Name
    description: Description | None = None
    is_active: bool = True
    contact_email: Email | None = None
    contact_phone: Phone | None = None
    metadata: CarrierMetadata | None = None


class CarrierUpdate(RequestBody):
    """PATCH: only the fields sent change; `metadata` replaces the whole object."""

    name: Name | UnsetType = UNSET
    description: Description | UnsetType | None = UNSET
    is_active: bool | UnsetType = UNSET
    contact_email: Email | UnsetType | None = UNSET
    contact_phone: Phone | UnsetType | None = UNSET
    metadata: CarrierMetadata | UnsetType | None = UNSET


class CarrierPricingOut(ResponseBody, omit_defaults=True):
    base_rate: float
    currency: str
    per_kg_rate: float | None = None


class CarrierMetadataOut(ResponseBody, omit_defaults=True):
    code: str | None = None
    website: str | None = None
    tracking_url: str | None = None
    service_types: list[str] | None = None
    coverage: list[str] | None = None
    pricing: CarrierPricingOut | None = None


class CarrierOut(ResponseBody):
    id: int
    name: str
    description: str | None
    is_active: bool
    contact_email: str | None
    contact_phone: str | None
    metadata: CarrierMetadataOut
    created_at: datetime
    updated_at: datetime


SORT_FIELDS = {
    "createdAt": "created_at",
    "updatedAt": "updated_at",
    "name": "name",
    "isActive": "is_active",
    "id": "id",
}
"""`sortBy` values → the attributes they sort."""


class CarrierPage(PageOut[CarrierOut], rename={"items": "carriers"}):
    items: list[CarrierOut]
    sort_keys = tuple(SORT_FIELDS)


def details_of(metadata: CarrierMetadata | None) -> CarrierDetails:
    if metadata is None:
        return CarrierDetails()
    pricing = metadata.pricing
    return CarrierDetails(
        code=metadata.code,
        website=metadata.website,
        tracking_url=metadata.tracking_url,
        service_types=tuple(metadata.service_types) if metadata.service_types is not None else None,
        coverage=tuple(metadata.coverage) if metadata.coverage is not None else None,
        pricing=(
            CarrierRates(base_rate=pricing.base_rate, currency=pricing.currency, per_kg_rate=pricing.per_kg_rate)
            if pricing is not None
            else None
        ),
    )


def values_of(data: CarrierCreate | CarrierUpdate) -> CarrierValues:
    """The fields sent, by attribute name (`metadata` is `details` there, as a typed structure)."""
    values = sent_fields(data)
    if "metadata" in values:
        values["details"] = details_of(values.pop("metadata"))
    return values


@lru_cache(maxsize=4096)
def carrier_out(carrier: CarrierView) -> CarrierOut:
    """The wire form of a carrier. Views are frozen and compared by value, so one made before is served again
    (lists and cached reads show the same carriers to request after request: building it was 5 % of a list's
    CPU); a changed carrier is another view, and past 4,096 the least used go. What it returns is shared:
    encode it, never change it."""
    details = carrier.details
    pricing = details.pricing
    return CarrierOut(
        id=carrier.id,
        name=carrier.name,
        description=carrier.description,
        is_active=carrier.is_active,
        contact_email=carrier.contact_email,
        contact_phone=carrier.contact_phone,
        metadata=CarrierMetadataOut(
            code=details.code,
            website=details.website,
            tracking_url=details.tracking_url,
            service_types=list(details.service_types) if details.service_types is not None else None,
            coverage=list(details.coverage) if details.coverage is not None else None,
            pricing=(
                CarrierPricingOut(
                    base_rate=float(pricing.base_rate),
                    currency=pricing.currency,
                    per_kg_rate=float(pricing.per_kg_rate) if pricing.per_kg_rate is not None else None,
                )
                if pricing is not None
                else None
            ),
        ),
        created_at=carrier.created_at,
        updated_at=carrier.updated_at,
    )
