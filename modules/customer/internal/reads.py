"""Every customer read: Core selects on the module's engine, shaped into the one read model, `CustomerView`."""

from __future__ import annotations

from datetime import date, datetime

import msgspec
from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from kernel.db.pages import fetch_page
from kernel.db.reads import attribute_columns, read_one
from kernel.paging import ListParams, Page
from modules.customer.api import CustomerNotFound
from modules.customer.internal.models import Customer, CustomerAddress, CustomerPreferences


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
SEARCHABLE = (Customer.first_name, Customer.last_name, Customer.email)


def view_of(customer: Row[tuple[object, ...]] | Customer) -> CustomerView:
    return CustomerView(**{column.key: getattr(customer, column.key) for column in _COLUMNS})


def email_key(email: str) -> str:
    """How an email is stored and looked up: without surrounding spaces, lower-cased."""
    return email.strip().lower()


class CustomerReads:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def find(self, customer_id: int) -> CustomerView | None:
        row = await read_one(self._engine, _SELECT.where(Customer.id == customer_id))
        return view_of(row) if row is not None else None

    async def get(self, customer_id: int) -> CustomerView:
        found = await self.find(customer_id)
        if found is None:
            raise CustomerNotFound()
        return found

    async def get_by_email(self, email: str) -> CustomerView:
        row = await read_one(self._engine, _SELECT.where(Customer.email == email_key(email)))
        if row is None:
            raise CustomerNotFound()
        return view_of(row)

    async def find_by_user(self, user_id: int) -> CustomerView | None:
        row = await read_one(self._engine, _SELECT.where(Customer.user_id == user_id))
        return view_of(row) if row is not None else None

    async def page(self, params: ListParams, is_active: bool | None) -> Page[CustomerView]:
        statement = _SELECT if is_active is None else _SELECT.where(Customer.is_active == is_active)
        async with self._engine.connect() as connection:
            rows = await fetch_page(connection, statement, params, model=Customer, search_columns=SEARCHABLE)
        return Page(items=[view_of(row) for row in rows.items], total=rows.total, page=rows.page, limit=rows.limit)

    async def active(self) -> list[CustomerView]:
        async with self._engine.connect() as connection:
            rows = await connection.execute(_SELECT.where(Customer.is_active).order_by(Customer.id))
            return [view_of(row) for row in rows]

    async def count(self, is_active: bool | None) -> int:
        statement = select(func.count()).select_from(Customer)
        if is_active is not None:
            statement = statement.where(Customer.is_active == is_active)
        async with self._engine.connect() as connection:
            return int(await connection.scalar(statement) or 0)

    async def count_unlinked(self) -> int:
        """Customers that are not a user's own profile."""
        statement = select(func.count()).select_from(Customer).where(Customer.user_id.is_(None))
        async with self._engine.connect() as connection:
            return int(await connection.scalar(statement) or 0)
