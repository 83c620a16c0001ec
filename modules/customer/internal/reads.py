"""Every customer read: Core selects on the module's engine, shaped into the one read model, `CustomerView`.

Their results are kept in the module's `ReadCache` until a customer changes in any process (kernel.db.read_cache):
every change the service makes declares itself with `reads.cache.changing(session)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import msgspec
from sqlalchemy import Row, Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from kernel.db.pages import fetch_page
from kernel.db.read_cache import ReadCache
from kernel.db.reads import attribute_columns, read_one
from kernel.paging import ListParams, Page
from modules.customer.api import CustomerNotFound
from modules.customer.internal.models import Customer, CustomerAddress, CustomerPreferences, versions


class CustomerView(msgspec.Struct, frozen=True, kw_only=True):
    """A customer as every reader sees it (routes, the directory, other modules' DTOs are made from it)."""

    id: int
    user_id: int | None
    email: str
    first_name: str
    last_name: str
    phone: str | None
    is_active: bool
    date_of_birth: date | None
    customer_type: str | None
    address: CustomerAddress | None
    preferences: CustomerPreferences
    created_at: datetime
    updated_at: datetime


_COLUMNS = attribute_columns(Customer)
_SELECT = select(*_COLUMNS)
_BY_ID = _SELECT.where(Customer.id == bindparam("customer_id"))  # built once: the hottest read
SEARCHABLE = (Customer.first_name, Customer.last_name, Customer.email)


def view_of(customer: Row[tuple[object, ...]] | Customer) -> CustomerView:
    return CustomerView(**{column.key: getattr(customer, column.key) for column in _COLUMNS})


def email_key(email: str) -> str:
    """How an email is stored and looked up: without surrounding spaces, lower-cased."""
    return email.strip().lower()


READS_VERSION = "customers"


class CustomerReads:
    def __init__(self, engine: AsyncEngine, cache: ReadCache | None = None) -> None:
        self._engine = engine
        self.cache = cache or ReadCache(versions, READS_VERSION)

    async def find(self, customer_id: int) -> CustomerView | None:
        return await self.cache.get(("id", customer_id), lambda: self._one(_BY_ID, {"customer_id": customer_id}))

    async def get(self, customer_id: int) -> CustomerView:
        found = await self.find(customer_id)
        if found is None:
            raise CustomerNotFound()
        return found

    async def get_by_email(self, email: str) -> CustomerView:
        key = email_key(email)
        found = await self.cache.get(("email", key), lambda: self._one(_SELECT.where(Customer.email == key)))
        if found is None:
            raise CustomerNotFound()
        return found

    async def find_by_user(self, user_id: int) -> CustomerView | None:
        return await self.cache.get(("user", user_id), lambda: self._one(_SELECT.where(Customer.user_id == user_id)))

    async def page(self, params: ListParams, is_active: bool | None) -> Page[CustomerView]:
        return await self.cache.get(("page", params, is_active), lambda: self._page(params, is_active))

    async def active(self) -> tuple[CustomerView, ...]:
        return await self.cache.get(("active",), self._active)

    async def count(self, is_active: bool | None) -> int:
        statement = select(func.count()).select_from(Customer)
        if is_active is not None:
            statement = statement.where(Customer.is_active == is_active)
        return await self.cache.get(("count", is_active), lambda: self._scalar(statement))

    async def count_unlinked(self) -> int:
        """Customers that are not a user's own profile."""
        statement = select(func.count()).select_from(Customer).where(Customer.user_id.is_(None))
        return await self.cache.get(("count-unlinked",), lambda: self._scalar(statement))

    async def _one(self, statement: Select[Any], parameters: Mapping[str, Any] | None = None) -> CustomerView | None:
        row = await read_one(self._engine, statement, parameters)
        return view_of(row) if row is not None else None

    async def _page(self, params: ListParams, is_active: bool | None) -> Page[CustomerView]:
        statement = _SELECT if is_active is None else _SELECT.where(Customer.is_active == is_active)
        async with self._engine.connect() as connection:
            rows = await fetch_page(connection, statement, params, model=Customer, search_columns=SEARCHABLE)
        return Page(items=tuple(view_of(row) for row in rows.items), total=rows.total, page=rows.page, limit=rows.limit)

    async def _active(self) -> tuple[CustomerView, ...]:
        async with self._engine.connect() as connection:
            rows = await connection.execute(_SELECT.where(Customer.is_active).order_by(Customer.id))
            return tuple(view_of(row) for row in rows)

    async def _scalar(self, statement: Select[Any]) -> int:
        async with self._engine.connect() as connection:
            return int(await connection.scalar(statement) or 0)
