"""Carrier tables on the carrier module's own base (own registry, own MetaData, own database)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kernel.db.base import IntPrimaryKey, Timestamps, lookup_key, module_metadata
from kernel.events.outbox import Outbox


class CarrierBase(DeclarativeBase):
    """The carrier module's own registry and MetaData."""

    metadata = module_metadata("carrier")


class Carrier(IntPrimaryKey, Timestamps, CarrierBase):
    __tablename__ = "carriers"
    __table_args__ = {"sqlite_autoincrement": True}

    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(lookup_key(100), unique=True)
    """Lower-cased name: uniqueness ignoring case, the same on every database (see `lookup_key`)."""
    description: Mapped[str | None] = mapped_column(String(500))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(25))
    details: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)


outbox = Outbox.for_base(CarrierBase)
