"""Carrier tables on the carrier module's own base (own registry, own MetaData, own database)."""

from __future__ import annotations

from decimal import Decimal

import msgspec
from sqlalchemy import Boolean, Index, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kernel.db.base import IntPrimaryKey, StructJSON, Timestamps, lookup_key, module_metadata
from kernel.db.versions import Versions
from kernel.events.outbox import Outbox


class CarrierRates(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Indicative rates; decimals from the request to the database and back."""

    base_rate: Decimal
    currency: str
    per_kg_rate: Decimal | None = None


class CarrierDetails(msgspec.Struct, frozen=True, kw_only=True, rename="camel", omit_defaults=True):
    """The carrier's `metadata` document, typed. Stored as JSON, parsed by its column type for every reader."""

    code: str | None = None
    website: str | None = None
    tracking_url: str | None = None
    service_types: tuple[str, ...] | None = None
    coverage: tuple[str, ...] | None = None
    pricing: CarrierRates | None = None


class CarrierBase(DeclarativeBase):
    """The carrier module's own registry and MetaData."""

    metadata = module_metadata("carrier")


class Carrier(IntPrimaryKey, Timestamps, CarrierBase):
    __tablename__ = "carriers"
    __table_args__ = (
        Index("ix_carriers_created_at", "created_at"),  # the list's default order, newest first
        {"sqlite_autoincrement": True},
    )

    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(lookup_key(100), unique=True)
    """Lower-cased name: uniqueness ignoring case, the same on every database (see `lookup_key`)."""
    description: Mapped[str | None] = mapped_column(String(500))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(25))
    details: Mapped[CarrierDetails] = mapped_column("metadata", StructJSON(CarrierDetails), default=CarrierDetails)


outbox = Outbox.for_base(CarrierBase)
versions = Versions.for_base(CarrierBase)
"""`carrier_cache_versions`: `carriers` moves with every committed change to a carrier (reads.py caches on it)."""
