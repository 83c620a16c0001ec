"""Pricing tables on the pricing module's own base (own registry, own MetaData, own database).

A rule's `conditions` and `pricing` are the engine's own typed documents (`engine.Conditions`,
`engine.Pricing`), stored as JSON and parsed by their column type for every reader; decimals are stored as
exact strings. `carrier_id` repeats `conditions.carrierId` as a column so that lists can filter on it.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kernel.db.base import IntPrimaryKey, StructJSON, Timestamps, module_metadata
from kernel.events.outbox import Outbox
from modules.pricing.internal.engine import Conditions, Pricing


class PricingBase(DeclarativeBase):
    """The pricing module's own registry and MetaData."""

    metadata = module_metadata("pricing")


class PricingRule(IntPrimaryKey, Timestamps, PricingBase):
    __tablename__ = "pricing_rules"
    __table_args__ = {"sqlite_autoincrement": True}

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


outbox = Outbox.for_base(PricingBase)
