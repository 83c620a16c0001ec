"""Demo customers (docs/reference-data.md) and the `CustomerDirectory` other modules (pricing) read through."""

from __future__ import annotations

import asyncio

import httpx
from litestar import Litestar

from modules.customer.api import CustomerDirectory, CustomerSummary
from modules.customer.internal.seed import DEMO_COUNT, demo_customers
from tests.conftest import data_of
from tests.customer.factories import BASE, create_customer, customers_with_email, eventually
from tests.helpers import count_rows, outbox_rows, provided, runtime_of
from tests.user.factories import create_user, seed


def test_demo_customers_are_the_same_every_time() -> None:
    first, second = demo_customers(), demo_customers()
    assert first == second
    assert len(first) == DEMO_COUNT == 250
    assert len({c["email"] for c in first}) == DEMO_COUNT
    assert sum(not c["is_active"] for c in first) == 32
    assert sum(c["customer_type"] == "premium" for c in first) == 50
    assert first[0]["email"] == "hannah.smith@example.net"


async def test_the_demo_seed_fills_an_empty_table_once(client: httpx.AsyncClient, app: Litestar) -> None:
    runtime = runtime_of(app)
    await runtime.seed(demo=False, only=["customer"])
    assert await count_rows(app, "customer", "customers") == 0  # no demo data unless asked
    await runtime.seed(demo=True, only=["customer"])
    assert data_of(await client.get(f"{BASE}/count")) == {"count": 250}
    assert data_of(await client.get(f"{BASE}/count", params={"isActive": "false"})) == {"count": 32}
    first = data_of(await client.get(f"{BASE}/1"))
    assert (first["email"], first["fullName"]) == ("hannah.smith@example.net", "Hannah Smith")
    expected = [c["email"] for c in demo_customers()[:5]]
    listed = data_of(await client.get(BASE, params={"sortBy": "id", "sortOrder": "asc", "limit": 5}))
    assert [c["email"] for c in listed["customers"]] == expected
    assert len([r for r in await outbox_rows(app, "customer") if r.event_type == "customer.created"]) == 250

    await runtime.seed(demo=True, only=["customer"])
    assert await count_rows(app, "customer", "customers") == 250


async def test_a_table_with_customers_of_its_own_gets_no_demo_customers(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    await create_customer(client)
    await runtime_of(app).seed(demo=True, only=["customer"])
    assert await count_rows(app, "customer", "customers") == 1


async def test_users_profiles_do_not_keep_the_demo_customers_out(client: httpx.AsyncClient, app: Litestar) -> None:
    """Users' own customers (a registered Hannah Smith among them) are not customers of the installation's own:
    the demo still goes in, around an email that is taken."""
    await seed(app)
    user = await create_user(client, app, email="hannah.smith@example.net", firstName="Hannah", lastName="Smith")
    await eventually(client, "hannah.smith@example.net", user_id=user["id"])
    await runtime_of(app).seed(demo=True, only=["customer"])
    assert await count_rows(app, "customer", "customers") == 2 + 249  # admin's and Hannah's profiles, the demo
    assert len(await customers_with_email(client, "hannah.smith@example.net")) == 1


async def test_the_full_demo_seed_adds_the_users_customers_too(client: httpx.AsyncClient, app: Litestar) -> None:
    """The user seed's users arrive as events after the demo customers went into the empty table."""
    await runtime_of(app).seed(demo=True)
    admin = await eventually(client, "admin@example.com", user_id=1)
    assert admin["fullName"] == "System Administrator"
    await eventually(client, "olivia.bennett@demo.freightdesk.example", user_id=2)
    for _ in range(100):
        if data_of(await client.get(f"{BASE}/count")) == {"count": 262}:
            break
        await asyncio.sleep(0.02)
    assert data_of(await client.get(f"{BASE}/count")) == {"count": 262}  # 250 demo customers, 12 users


async def test_the_directory_answers_with_summaries(client: httpx.AsyncClient, app: Litestar) -> None:
    directory = provided(app, CustomerDirectory)
    assert isinstance(directory, CustomerDirectory)
    created = await create_customer(client, email="Pricing@Example.com", customerType="premium", isActive=False)
    summary = await directory.get_customer(created["id"])
    assert summary == CustomerSummary(
        id=created["id"],
        email="pricing@example.com",
        first_name=created["firstName"],
        last_name=created["lastName"],
        is_active=False,
        customer_type="premium",
    )
    assert await directory.exists(created["id"]) is True
    assert await directory.get_customer(created["id"] + 1) is None
    assert await directory.exists(created["id"] + 1) is False
    plain = await create_customer(client)
    assert (await directory.get_customer(plain["id"])).customer_type is None
