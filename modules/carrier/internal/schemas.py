"""Carrier request and response shapes (camelCase on the wire, unknown fields rejected)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, UnsetType

from kernel.http.fields import CurrencyCode, Email, Phone, RequestBody, ResponseBody, Url

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Description = Annotated[str, msgspec.Meta(max_length=500)]
Code = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=20,
        pattern=r"^[A-Za-z0-9_-]+$",
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


class CarrierOut(ResponseBody):
    id: int
    name: str
    description: str | None
    is_active: bool
    contact_email: str | None
    contact_phone: str | None
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class CarrierPage(ResponseBody):
    carriers: list[CarrierOut]
    total: int
    page: int
    limit: int
    total_pages: int
