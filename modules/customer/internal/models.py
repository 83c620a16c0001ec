"""Customer tables on the customer module's own base (own registry, own MetaData, own database)."""

from __future__ import annotations

from datetime import date

import msgspec
from sqlalchemy import Boolean, Date, Index, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kernel.db.base import IntPrimaryKey, StructJSON, Timestamps, module_metadata
from kernel.db.versions import Versions
from kernel.events.outbox import Inbox, Outbox


class CustomerAddress(msgspec.Struct, frozen=True, kw_only=True, rename="camel", omit_defaults=True):
    """The customer's `address` document, typed; `street`, `city` and `country` are always there."""

    street: str
    city: str
    country: str
    state: str | None = None
    zip_code: str | None = None


class CustomerPreferences(msgspec.Struct, frozen=True, kw_only=True, rename="camel", omit_defaults=True):
    """The customer's `preferences` document, typed: only the known keys, only those that were set."""

    company: str | None = None
    industry: str | None = None
    preferred_contact: str | None = None
    newsletter: bool | None = None


class CustomerBase(DeclarativeBase):
    """The customer module's own registry and MetaData."""

    metadata = module_metadata("customer")


class Customer(IntPrimaryKey, Timestamps, CustomerBase):
    __tablename__ = "customers"
    __table_args__ = (
        Index("ix_customers_created_at", "created_at"),  # the list's default order, newest first
        {"sqlite_autoincrement": True},  # SQLite never hands out a deleted row's id again
    )

    user_id: Mapped[int | None] = mapped_column(Integer, unique=True)
    """A user of the user module: a reference by id, never a foreign key across modules. Unique: a user has at
    most one customer (NULLs do not collide, on MariaDB and SQLite alike)."""
    email: Mapped[str] = mapped_column(String(254), unique=True)
    """Lower-cased ASCII: the unique key makes "one customer per email" hold under concurrent writers too."""
    first_name: Mapped[str] = mapped_column(String(50))
    last_name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(25))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    customer_type: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[CustomerAddress | None] = mapped_column(StructJSON(CustomerAddress))
    preferences: Mapped[CustomerPreferences] = mapped_column(
        StructJSON(CustomerPreferences), default=CustomerPreferences
    )


outbox = Outbox.for_base(CustomerBase)
inbox = Inbox.for_base(CustomerBase)
versions = Versions.for_base(CustomerBase)
"""`customer_cache_versions`: `customers` moves with every committed change to a customer (reads.py caches on it)."""
