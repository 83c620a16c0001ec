"""Carrier writes publish their events through the outbox; the running relay marks them published."""

from __future__ import annotations

import asyncio
import json

import httpx
from litestar import Litestar

from kernel.events.outbox import PUBLISHED
from tests.carrier.factories import carrier_body
from tests.conftest import data_of
from tests.helpers import outbox_rows

BASE = "/api/v1/carriers"


async def wait_all_published(app: Litestar, expected: int) -> list[object]:
    for _ in range(200):
        rows = await outbox_rows(app, "carrier")
        if len(rows) == expected and all(r.status == PUBLISHED for r in rows):  # type: ignore[attr-defined]
            return rows
        await asyncio.sleep(0.02)
    raise AssertionError(f"outbox not drained: {[(r.event_type, r.status) for r in rows]}")  # type: ignore[attr-defined]


async def test_each_write_leaves_an_event_that_the_relay_publishes(client: httpx.AsyncClient, app: Litestar) -> None:
    created = data_of(await client.post(BASE, json=carrier_body(name="Event Lines")))
    carrier_id = created["id"]
    await client.patch(f"{BASE}/{carrier_id}", json={"description": "changed"})
    await client.patch(f"{BASE}/{carrier_id}", json={"isActive": False})
    await client.patch(f"{BASE}/{carrier_id}", json={"isActive": True})
    await client.delete(f"{BASE}/{carrier_id}")

    rows = await wait_all_published(app, expected=7)
    types = [r.event_type for r in rows]  # type: ignore[attr-defined]
    assert types == [
        "carrier.created",
        "carrier.updated",
        "carrier.updated",
        "carrier.deactivated",
        "carrier.updated",
        "carrier.activated",
        "carrier.deleted",
    ]
    payloads = [json.loads(r.payload) for r in rows]  # type: ignore[attr-defined]
    assert payloads[0] == {"carrierId": carrier_id, "name": "Event Lines", "isActive": True}
    assert payloads[1] == {"carrierId": carrier_id, "changes": ["description"]}
    assert payloads[-1] == {"carrierId": carrier_id, "name": "Event Lines"}
    assert all(r.published_at is not None for r in rows)  # type: ignore[attr-defined]


async def test_event_carries_the_request_correlation_id(client: httpx.AsyncClient, app: Litestar) -> None:
    response = await client.post(BASE, json=carrier_body(), headers={"X-Correlation-ID": "trace-42"})
    assert response.headers["x-correlation-id"] == "trace-42"
    rows = await outbox_rows(app, "carrier")
    assert [r.correlation_id for r in rows] == ["trace-42"]  # type: ignore[attr-defined]


async def test_patch_that_changes_nothing_publishes_nothing(client: httpx.AsyncClient, app: Litestar) -> None:
    created = data_of(await client.post(BASE, json=carrier_body()))
    await client.patch(f"{BASE}/{created['id']}", json={"name": created["name"], "isActive": True})
    assert [r.event_type for r in await outbox_rows(app, "carrier")] == ["carrier.created"]  # type: ignore[attr-defined]


async def test_failed_write_publishes_nothing(client: httpx.AsyncClient, app: Litestar) -> None:
    await client.post(BASE, json=carrier_body(name="Only Once"))
    assert (await client.post(BASE, json=carrier_body(name="only once"))).status_code == 409
    assert len(await outbox_rows(app, "carrier")) == 1
