"""Pricing tables on the pricing module's own base (own registry, own MetaData, own database).

A rule's `conditions` and `pricing` are the engine's own typed documents (`engine.Conditions`,
`engine.Pricing`), stored as JSON and parsed by their column type for every reader; decimals are stored as
exact strings. `carrier_id` repeats `conditions.carrierId` as a column so that lists can filter on it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import msgspec
from sqlalchemy import Boolean, Date, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kernel.db.base import IntPrimaryKey, StructJSON, Timestamps, UTCDateTime, module_metadata, utc_now
from kernel.db.versions import Versions
from kernel.events.outbox import Inbox, Outbox
from modules.pricing.internal.engine import Conditions, Pricing, Result


class PricingBase(DeclarativeBase):
    """The pricing module's own registry and MetaData."""

    metadata = module_metadata("pricing")


class PricingRule(IntPrimaryKey, Timestamps, PricingBase):
    __tablename__ = "pricing_rules"
    __table_args__ = (
        Index("ix_pricing_rules_created_at", "created_at"),  # the list's default order, newest first
        {"sqlite_autoincrement": True},
    )

    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(500))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    carrier_id: Mapped[int | None] = mapped_column(Integer, index=True)
    """`conditions.carrier_id`: a carrier of the carrier module, by id, never a foreign key across modules."""
    conditions: Mapped[Conditions] = mapped_column(StructJSON(Conditions), default=Conditions)
    pricing: Mapped[Pricing] = mapped_column(StructJSON(Pricing))


class CalculationRequest(msgspec.Struct, frozen=True, kw_only=True):
    """The shipment a calculation priced, as accepted (trimmed, countries in upper case)."""

    carrier_id: int
    service_type: str
    weight: Decimal
    origin_country: str
    destination_country: str
    distance: Decimal | None = None
    customer_type: str | None = None
    customer_id: int | None = None


class PriceCalculation(IntPrimaryKey, Timestamps, PricingBase):
    """A stored calculation. `created_at` is the moment of the calculation (`calculated_at`, the same instant,
    `updated_at` too: a calculation never changes), so the history's filters and its default order (newest
    first) read one index each: `(carrier_id, created_at)`, `(customer_id, created_at)` or `created_at` (each
    ends in the id on MariaDB and SQLite alike, which breaks ties in the same direction)."""

    __tablename__ = "price_calculations"
    __table_args__ = (
        Index("ix_price_calculations_carrier_id_created_at", "carrier_id", "created_at"),
        Index("ix_price_calculations_customer_id_created_at", "customer_id", "created_at"),
        Index("ix_price_calculations_created_at", "created_at"),
        {"sqlite_autoincrement": True},
    )

    request_id: Mapped[str] = mapped_column(String(36), unique=True)
    carrier_id: Mapped[int] = mapped_column(Integer)
    customer_id: Mapped[int | None] = mapped_column(Integer)
    """A customer of the customer module, by id (checked through its `CustomerDirectory` when stored)."""
    request: Mapped[CalculationRequest] = mapped_column(StructJSON(CalculationRequest))
    result: Mapped[Result] = mapped_column(StructJSON(Result))
    """The engine's result: the amounts, `applied_rules` and `skipped_rules`."""
    calculated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, index=True)


class CalculationDay(PricingBase):
    """How many calculations were stored on each UTC day that is over (`calculation_counts.CalculationCounts`):
    the history's counts add these up instead of counting a growing table. A calculation never changes and is
    stored at the moment it is made, so a day that is over keeps its count for good. Days without calculations
    have no row, except the last day counted, whose row marks how far the counting has gone."""

    __tablename__ = "price_calculation_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    calculations: Mapped[int] = mapped_column(Integer)


class CalculationRule(PricingBase):
    """Which rules a stored calculation applied: a rule listed here cannot be deleted (docs/api.md §6.2)."""

    __tablename__ = "price_calculation_rules"

    calculation_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)


outbox = Outbox.for_base(PricingBase)
inbox = Inbox.for_base(PricingBase)
versions = Versions.for_base(PricingBase)
"""`pricing_cache_versions`: `rule_set` moves with every change the compiled rule set depends on (rulebook.py)."""
