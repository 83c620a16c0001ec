"""Customer writes publish their events through the outbox, one set per write; the relay publishes them."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from litestar import Litestar

from kernel.events.outbox import PUBLISHED
from tests.customer.factories import BASE, create_customer, customer_body
from tests.helpers import outbox_rows


async def wait_all_published(app: Litestar, expected: int) -> list[Any]:
    rows: list[Any] = []
    for _ in range(200):
        rows = await outbox_rows(app, "customer")
        if len(rows) == expected and all(r.status == PUBLISHED for r in rows):
            return rows
        await asyncio.sleep(0.02)
    raise AssertionError(f"outbox not drained: {[(r.event_type, r.status) for r in rows]}")


async def test_each_write_leaves_its_events_that_the_relay_publishes(client: httpx.AsyncClient, app: Litestar) -> None:
    created = await create_customer(
        client, email="events@example.com", firstName="Eve", lastName="Ent", customerType="premium"
    )
    customer_id = created["id"]
    await client.patch(f"{BASE}/{customer_id}", json={"lastName": "Changed", "phone": None})
    await client.patch(f"{BASE}/{customer_id}", json={"isActive": False})
    await client.put(f"{BASE}/{customer_id}", json={"isActive": True, "preferences": {"newsletter": False}})
    await client.delete(f"{BASE}/{customer_id}")

    rows = await wait_all_published(app, expected=7)
    assert [r.event_type for r in rows] == [
        "customer.created",
        "customer.updated",
        "customer.updated",
        "customer.deactivated",
        "customer.updated",
        "customer.activated",
        "customer.deleted",
    ]
    payloads = [json.loads(r.payload) for r in rows]
    assert payloads[0] == {
        "customerId": customer_id,
        "email": "events@example.com",
        "firstName": "Eve",
        "lastName": "Ent",
        "isActive": True,
        "userId": None,
        "customerType": "premium",
    }
    assert payloads[1] == {"customerId": customer_id, "changes": ["lastName", "phone"]}
    assert payloads[2] == {"customerId": customer_id, "changes": ["isActive"]}
    assert payloads[3] == {"customerId": customer_id}
    assert payloads[4] == {"customerId": customer_id, "changes": ["isActive", "preferences"]}
    assert payloads[5] == {"customerId": customer_id}
    assert payloads[6] == {"customerId": customer_id, "email": "events@example.com"}
    assert all(r.producer == "customer" and r.event_version == 1 for r in rows)


async def test_event_carries_the_request_correlation_id(client: httpx.AsyncClient, app: Litestar) -> None:
    response = await client.post(BASE, json=customer_body(), headers={"X-Correlation-ID": "trace-77"})
    assert response.status_code == 201
    assert [r.correlation_id for r in await outbox_rows(app, "customer")] == ["trace-77"]


async def test_an_update_that_changes_nothing_publishes_nothing(client: httpx.AsyncClient, app: Litestar) -> None:
    created = await create_customer(client)
    same = {
        "email": created["email"].upper(),
        "firstName": f" {created['firstName']} ",
        "address": created["address"],
        "preferences": created["preferences"],
    }
    response = await client.patch(f"{BASE}/{created['id']}", json=same)
    assert response.status_code == 200
    assert response.json()["data"]["updatedAt"] == created["updatedAt"]
    assert [r.event_type for r in await outbox_rows(app, "customer")] == ["customer.created"]


async def test_rejected_writes_publish_nothing(client: httpx.AsyncClient, app: Litestar) -> None:
    created = await create_customer(client, email="only.once@example.com")
    assert (await client.post(BASE, json=customer_body(email="Only.Once@example.com"))).status_code == 409
    assert (await client.post(BASE, json=customer_body(firstName="x"))).status_code == 400
    assert (await client.patch(f"{BASE}/{created['id']}", json={"dateOfBirth": "2999-01-01"})).status_code == 400
    assert (await client.patch(f"{BASE}/{created['id'] + 1}", json={"lastName": "Nobody"})).status_code == 404
    assert (await client.delete(f"{BASE}/{created['id'] + 1}")).status_code == 404
    assert [r.event_type for r in await outbox_rows(app, "customer")] == ["customer.created"]


async def test_concurrent_deletes_delete_once_and_publish_once(client: httpx.AsyncClient, app: Litestar) -> None:
    created = await create_customer(client)
    answers = await asyncio.gather(*(client.delete(f"{BASE}/{created['id']}") for _ in range(10)))
    assert sorted(a.status_code for a in answers) == [204] + [404] * 9
    types = [r.event_type for r in await outbox_rows(app, "customer")]
    assert types == ["customer.created", "customer.deleted"]


async def test_concurrent_creates_with_one_email_store_one_customer(client: httpx.AsyncClient, app: Litestar) -> None:
    bodies = [customer_body(email="race@example.com", lastName=f"Racer{i}") for i in range(8)]
    answers = await asyncio.gather(*(client.post(BASE, json=body) for body in bodies))
    assert sorted(a.status_code for a in answers) == [201] + [409] * 7
    assert [r.event_type for r in await outbox_rows(app, "customer")] == ["customer.created"]
