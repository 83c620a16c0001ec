"""Two processes hosting pricing on one database: a change made through one reaches the other's compiled rule
set within a second (docs/adr/0009-rule-set-across-processes.md).

Two apps built from the same settings model two processes (uvicorn workers, or replicas): each has its own
rule book, its own in-process event bus and its own version watcher, and only the database is shared. Each
test changes something through app A and polls app B's POST /pricing/calculate until it shows the change;
the time it took is printed (`pytest -s`). With B's watcher stopped, B stays stale: the poll would fail.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import update

from bootstrap.app import create_app
from kernel.settings import Settings
from modules.pricing.internal.models import PricingRule, versions
from modules.pricing.internal.rulebook import RULE_SET
from tests.conftest import data_of, http_client, running
from tests.helpers import TwoProcesses, runtime_of, watcher_of
from tests.pricing.factories import RULES, pricing_headers, seed_demo

CALCULATE = "/api/v1/pricing/calculate"
EXAMPLE_1 = {"carrierId": 1, "serviceType": "Express", "weight": 5.5, "originCountry": "US", "destinationCountry": "US"}
EXAMPLE_2 = {"carrierId": 2, "serviceType": "Ground", "weight": 10, "originCountry": "US", "destinationCountry": "US"}
LIMIT_SECONDS = 1.0
STALE_WINDOW_SECONDS = 1.5
"""How long B is watched for staying stale: six poll intervals of its watcher."""


@pytest.fixture
async def two(settings: Settings) -> AsyncIterator[TwoProcesses]:
    """Apps A and B on one set of databases, both serving (lifespans running), the demo data seeded and seen."""
    app_a, app_b = create_app(settings), create_app(settings)
    async with running(app_a), running(app_b), http_client(app_a) as a, http_client(app_b) as b:
        a.headers.update(pricing_headers(app_a))
        b.headers.update(pricing_headers(app_b))
        await seed_demo(app_a)
        for app in (app_a, app_b):  # both have seen the seed's bumps: a drop they make later is the test's
            await settled(app)
        yield TwoProcesses(app_a, app_b, a, b)


async def settled(app: Litestar) -> None:
    """Wait until the app's watcher has read the rule set's current version: no drop is pending."""
    current = await versions.read(runtime_of(app).module("pricing").context.engine, [RULE_SET])
    deadline = time.monotonic() + 5
    while watcher_of(app, "pricing").seen != current:
        assert time.monotonic() < deadline, (
            f"watcher saw {watcher_of(app, 'pricing').seen}, the database holds {current}"
        )
        await asyncio.sleep(0.02)


async def total(client: httpx.AsyncClient, body: dict[str, Any]) -> float:
    response = await client.post(CALCULATE, json=body)
    assert response.status_code == 201, response.text
    return float(data_of(response)["calculation"]["total"])


async def seconds_until(
    client: httpx.AsyncClient, body: dict[str, Any], shows: Callable[[httpx.Response], bool], limit: float
) -> float | None:
    """How long after the call `client`'s calculation of `body` started to satisfy `shows`; None if it did
    not within `limit` seconds."""
    started = time.monotonic()
    while (elapsed := time.monotonic() - started) < limit:
        if shows(await client.post(CALCULATE, json=body)):
            return elapsed
        await asyncio.sleep(0.02)
    return None


def total_is(expected: float) -> Callable[[httpx.Response], bool]:
    return lambda r: r.status_code == 201 and data_of(r)["calculation"]["total"] == expected


def skipped_are(rule_ids: list[int]) -> Callable[[httpx.Response], bool]:
    return lambda r: r.status_code == 201 and [s["ruleId"] for s in data_of(r)["skippedRules"]] == rule_ids


def no_rule_matches(response: httpx.Response) -> bool:
    return response.status_code == 422


async def test_a_rule_changed_through_one_process_prices_in_the_other_within_a_second(two: TwoProcesses) -> None:
    assert await total(two.b, EXAMPLE_1) == 37.27  # B has compiled its set
    changed = await two.a.patch(f"{RULES}/1", json={"pricing": {"baseRate": 20, "currency": "USD"}})
    assert changed.status_code == 200
    took = await seconds_until(two.b, EXAMPLE_1, total_is(20.0), LIMIT_SECONDS)
    print(f"rule change reached the other process after {took}s")
    assert took is not None, f"B still prices with the old rule after {LIMIT_SECONDS}s"

    assert (await two.a.patch(f"{RULES}/1", json={"isActive": False})).status_code == 200
    took = await seconds_until(two.b, EXAMPLE_1, no_rule_matches, LIMIT_SECONDS)
    print(f"rule deactivation reached the other process after {took}s")
    assert took is not None, f"B still applies the deactivated rule after {LIMIT_SECONDS}s"


async def test_a_rule_created_and_deleted_through_one_process_reaches_the_other(two: TwoProcesses) -> None:
    same_day = {**EXAMPLE_1, "serviceType": "Same Day"}
    assert (await two.b.post(CALCULATE, json=same_day)).status_code == 422
    base = {
        "name": "Same day",
        "conditions": {"serviceType": "Same Day"},
        "pricing": {"baseRate": 42, "currency": "USD"},
    }
    assert (await two.a.post(RULES, json=base)).status_code == 201
    assert await seconds_until(two.b, same_day, total_is(42.0), LIMIT_SECONDS) is not None

    # A rule in another currency is only listed as skipped, never applied, so no calculation keeps it from
    # being deleted.
    euro = {
        "name": "Same day in euros",
        "conditions": {"serviceType": "Same Day"},
        "pricing": {"baseRate": 0, "currency": "EUR"},
    }
    created = await two.a.post(RULES, json=euro)
    assert created.status_code == 201, created.text
    euro_id = data_of(created)["id"]
    assert await seconds_until(two.b, same_day, skipped_are([euro_id]), LIMIT_SECONDS) is not None
    assert (await two.a.delete(f"{RULES}/{euro_id}")).status_code == 204
    assert await seconds_until(two.b, same_day, skipped_are([]), LIMIT_SECONDS) is not None


CARRIER_CHANGES = {
    "deactivated": ("PATCH", "/api/v1/carriers/5", {"isActive": False}),
    "deleted": ("DELETE", "/api/v1/carriers/5", None),
}


@pytest.mark.parametrize("change", sorted(CARRIER_CHANGES))
async def test_a_carrier_change_through_one_process_drops_the_rule_set_of_both(two: TwoProcesses, change: str) -> None:
    """`carrier.<change>` reaches one process (whichever relay takes it); its handler bumps the version, and the
    other process drops its set when its watcher sees that. What a process compiles afterwards is observable
    through a rule changed behind both processes' backs (straight in the database, no version bumped): a
    process shows it only once something dropped its set. Both must, whichever one handled the event."""
    clients = (two.a, two.b)
    for client in clients:
        assert await total(client, EXAMPLE_2) == 33.72  # compiled after every bump of the seed was seen
    async with runtime_of(two.app_b).module("pricing").context.engine.begin() as connection:
        await connection.execute(update(PricingRule).where(PricingRule.id == 2).values(is_active=False))
    for client in clients:
        assert await total(client, EXAMPLE_2) == 33.72  # the compiled sets are kept: nothing told them

    method, path, body = CARRIER_CHANGES[change]
    response = await two.a.request(method, path, json=body)
    assert response.status_code in {200, 204}, response.text
    took = await asyncio.gather(
        *(seconds_until(client, EXAMPLE_2, no_rule_matches, LIMIT_SECONDS) for client in clients)
    )
    print(f"carrier {change}: A and B dropped their rule sets after {took}s")
    assert None not in took, f"a process kept its compiled set for {LIMIT_SECONDS}s after the carrier was {change}"


async def test_without_the_watcher_the_other_process_keeps_its_stale_rule_set(two: TwoProcesses) -> None:
    """The failure the watcher prevents, shown with the check the first test makes: B's own event bus never
    hears of A's write, so with its watcher stopped B prices with the old rule while A uses the new one."""
    await watcher_of(two.app_b, "pricing").stop()
    assert await total(two.b, EXAMPLE_1) == 37.27
    changed = await two.a.patch(f"{RULES}/1", json={"pricing": {"baseRate": 20, "currency": "USD"}})
    assert changed.status_code == 200
    assert await total(two.a, EXAMPLE_1) == 20.0  # the writing process dropped its own set at once
    assert await seconds_until(two.b, EXAMPLE_1, total_is(20.0), STALE_WINDOW_SECONDS) is None
    assert await total(two.b, EXAMPLE_1) == 37.27
