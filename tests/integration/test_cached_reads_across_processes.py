"""Cached carrier and customer reads stay true (kernel.db.read_cache, docs/adr/0013-cached-reads.md).

Two apps built from the same settings model two processes (uvicorn workers, or replicas): each has its own
read caches and version watchers, and only the databases are shared. Every test warms the caches of both, writes
through A, then reads: A must show the write at once, B within a second. With B's watcher stopped, B keeps
answering from its cache: the check the other tests make fails, which shows it can.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from bootstrap.app import create_app
from kernel.settings import Settings
from tests.carrier.factories import carrier_body
from tests.conftest import data_of, http_client, running
from tests.customer.factories import customer_body
from tests.helpers import TwoProcesses, bearer, token_for, watcher_of

LIMIT_SECONDS = 1.0
STALE_WINDOW_SECONDS = 1.5
CARRIERS = "/api/v1/carriers"
CUSTOMERS = "/api/v1/customers"
PERMISSIONS = [
    f"{resource}.{action}" for resource in ("carriers", "customers") for action in ("list", "read", "create", "update")
] + ["carriers.delete", "customers.delete"]


@pytest.fixture
async def two(settings: Settings) -> AsyncIterator[TwoProcesses]:
    app_a, app_b = create_app(settings), create_app(settings)
    async with running(app_a), running(app_b), http_client(app_a) as a, http_client(app_b) as b:
        a.headers.update(bearer(token_for(app_a, permissions=PERMISSIONS)))
        b.headers.update(bearer(token_for(app_b, permissions=PERMISSIONS)))
        yield TwoProcesses(app_a, app_b, a, b)


async def created(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status_code == 201, response.text
    return dict(data_of(response))


async def seconds_until(read: Callable[[], Awaitable[Any]], expected: Any, limit: float) -> float | None:
    """How long until `read()` returned `expected`; None if it did not within `limit` seconds."""
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < limit:
        if await read() == expected:
            return elapsed
        await asyncio.sleep(0.02)
    return None


def reader(client: httpx.AsyncClient, path: str, observe: Callable[[Any], Any]) -> Callable[[], Awaitable[Any]]:
    async def read() -> Any:
        response = await client.get(path)
        return observe(data_of(response)) if response.status_code == 200 else response.status_code

    return read


@dataclass(frozen=True)
class Case:
    """One cached read (`observe` picks what it shows of the record `made`) and a write that changes it."""

    name: str
    collection: str
    body: Callable[..., dict[str, Any]]
    path: Callable[[dict[str, Any]], str]
    observe: Callable[[Any, dict[str, Any]], Any]
    change: dict[str, Any]
    after: Callable[[Any], Any]
    """What the read shows after the change, from what it showed before."""


def _first_names(key: str) -> Callable[[Any, dict[str, Any]], Any]:
    return lambda page, made: [item.get("name") or item.get("lastName") for item in page[key]]


CASES = [
    Case(
        "carrier by id",
        CARRIERS,
        carrier_body,
        lambda made: f"{CARRIERS}/{made['id']}",
        lambda carrier, made: carrier["description"],
        {"description": "changed"},
        lambda before: "changed",
    ),
    Case(
        "carrier list, first page",
        CARRIERS,
        carrier_body,
        lambda made: f"{CARRIERS}?page=1&limit=1",
        _first_names("carriers"),
        {"name": "Renamed carrier"},
        lambda before: ["Renamed carrier"],
    ),
    Case(
        "active carriers",
        CARRIERS,
        carrier_body,
        lambda made: f"{CARRIERS}/active",
        lambda carriers, made: made["id"] in {carrier["id"] for carrier in carriers},
        {"isActive": False},
        lambda before: False,
    ),
    Case(
        "inactive carrier count",
        CARRIERS,
        carrier_body,
        lambda made: f"{CARRIERS}/count?isActive=false",
        lambda counted, made: counted["count"],
        {"isActive": False},
        lambda before: before + 1,
    ),
    Case(
        "customer by id",
        CUSTOMERS,
        customer_body,
        lambda made: f"{CUSTOMERS}/{made['id']}",
        lambda customer, made: customer["phone"],
        {"phone": "+31 10 555 0199"},
        lambda before: "+31 10 555 0199",
    ),
    Case(
        "customer list, first page",
        CUSTOMERS,
        customer_body,
        lambda made: f"{CUSTOMERS}?page=1&limit=1",
        _first_names("customers"),
        {"lastName": "Renamed"},
        lambda before: ["Renamed"],
    ),
    Case(
        "inactive customer count",
        CUSTOMERS,
        customer_body,
        lambda made: f"{CUSTOMERS}/count?isActive=false",
        lambda counted, made: counted["count"],
        {"isActive": False},
        lambda before: before + 1,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_a_write_is_read_at_once_by_its_process_and_within_a_second_by_the_other(
    two: TwoProcesses, case: Case
) -> None:
    made = await created(two.a, case.collection, case.body())
    path = case.path(made)
    read_a = reader(two.a, path, lambda data: case.observe(data, made))
    read_b = reader(two.b, path, lambda data: case.observe(data, made))
    before = await read_a()
    assert await read_b() == before  # both have it cached now
    expected = case.after(before)
    assert expected != before
    changed = await two.a.patch(f"{case.collection}/{made['id']}", json=case.change)
    assert changed.status_code == 200, changed.text
    assert await read_a() == expected, f"{case.name}: the writing process answered from a stale cache"
    took = await seconds_until(read_b, expected, LIMIT_SECONDS)
    assert took is not None, f"{case.name}: the other process still answered the old state after {LIMIT_SECONDS}s"
    print(f"{case.name}: the other process read the change after {took:.3f}s")


@pytest.mark.parametrize(("collection", "body"), [(CARRIERS, carrier_body), (CUSTOMERS, customer_body)])
async def test_a_deleted_record_is_gone_from_both_processes(
    two: TwoProcesses, collection: str, body: Callable[..., dict[str, Any]]
) -> None:
    made = await created(two.a, collection, body())
    path = f"{collection}/{made['id']}"
    for client in (two.a, two.b):
        assert (await client.get(path)).status_code == 200
    assert (await two.a.delete(path)).status_code == 204
    assert (await two.a.get(path)).status_code == 404
    took = await seconds_until(reader(two.b, path, lambda _: 200), 404, LIMIT_SECONDS)
    assert took is not None, "the other process still answers the deleted record"


@pytest.mark.parametrize(
    ("module", "collection", "body"), [("carrier", CARRIERS, carrier_body), ("customer", CUSTOMERS, customer_body)]
)
async def test_without_the_watcher_the_other_process_keeps_answering_from_its_cache(
    two: TwoProcesses, module: str, collection: str, body: Callable[..., dict[str, Any]]
) -> None:
    """The failure the watcher prevents, with the check the tests above make."""
    await watcher_of(two.app_b, module).stop()
    made = await created(two.a, collection, body())
    path = f"{collection}/{made['id']}"
    assert (await two.b.get(path)).status_code == 200  # cached in B
    assert (await two.a.delete(path)).status_code == 204
    assert (await two.a.get(path)).status_code == 404  # the writer dropped its own cache
    assert await seconds_until(reader(two.b, path, lambda _: 200), 404, STALE_WINDOW_SECONDS) is None
