"""POST /pricing/calculate over HTTP on the demo data: the worked examples of docs/api.md §6.5, the request
rules, the 422, and the compiled rule set following rule and carrier changes."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from litestar import Litestar

from tests.conftest import data_of
from tests.helpers import count_rows
from tests.pricing.factories import RULES, pricing_headers, seed_demo

CALCULATE = "/api/v1/pricing/calculate"
EXAMPLE_1 = {"carrierId": 1, "serviceType": "Express", "weight": 5.5, "originCountry": "US", "destinationCountry": "US"}
EXAMPLE_2 = {
    "carrierId": 2,
    "serviceType": "Ground",
    "weight": 10,
    "distance": 250,
    "originCountry": "US",
    "destinationCountry": "US",
}


@pytest.fixture
async def demo(client: httpx.AsyncClient, app: Litestar) -> httpx.AsyncClient:
    client.headers.update(pricing_headers(app))
    await seed_demo(app)
    return client


async def calculate(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(CALCULATE, json=body)
    assert response.status_code == 201, response.text
    return dict(data_of(response))


async def test_first_worked_example_is_37_27(demo: httpx.AsyncClient, app: Litestar) -> None:
    result = await calculate(demo, EXAMPLE_1)
    assert result["calculation"] == {
        "baseRate": 15.99,
        "weightRate": 13.75,
        "distanceRate": 0.0,
        "surcharges": [
            {
                "type": "Fuel Surcharge",
                "amount": 2.53,
                "description": "8.5% of subtotal 29.74 (FedEx Express Domestic)",
            },
            {"type": "Weekend Delivery", "amount": 5.0, "description": "Flat 5.00 (FedEx Express Domestic)"},
        ],
        "discounts": [],
        "subtotal": 29.74,
        "total": 37.27,
        "currency": "USD",
    }
    assert result["appliedRules"] == [{"ruleId": 1, "ruleName": "FedEx Express Domestic", "priority": 100}]
    assert result["skippedRules"] == []
    assert result["request"] == EXAMPLE_1
    assert len(result["requestId"]) == 36
    assert result["calculatedAt"].endswith("Z")
    assert await count_rows(app, "pricing", "price_calculations") == 1


async def test_second_worked_example_is_33_72(demo: httpx.AsyncClient) -> None:
    result = await calculate(demo, EXAMPLE_2)
    amounts = result["calculation"]
    assert (amounts["subtotal"], amounts["distanceRate"], amounts["total"]) == (35.49, 0.0, 33.72)
    assert amounts["discounts"] == [
        {"type": "Volume Discount", "amount": 1.77, "description": "5% of subtotal 35.49 (UPS Ground Domestic)"}
    ]
    assert [r["ruleName"] for r in result["appliedRules"]] == ["UPS Ground Domestic"]


async def test_rules_without_base_rate_add_to_the_base_rule(demo: httpx.AsyncClient) -> None:
    result = await calculate(demo, {**EXAMPLE_1, "weight": 25, "customerType": "Premium", "customerId": 77})
    assert [r["ruleId"] for r in result["appliedRules"]] == [6, 1, 5]
    assert [s["type"] for s in result["calculation"]["surcharges"]] == [
        "Fuel Surcharge",
        "Weekend Delivery",
        "Heavy Package",
    ]
    assert result["request"]["customerId"] == 77


async def test_no_base_rule_is_422_and_stores_nothing(demo: httpx.AsyncClient, app: Litestar) -> None:
    response = await demo.post(CALCULATE, json={**EXAMPLE_1, "serviceType": "Ground"})
    assert response.status_code == 422
    assert response.json()["message"] == "No pricing rule matches this shipment"
    assert await count_rows(app, "pricing", "price_calculations") == 0


BAD_REQUESTS: list[tuple[str, dict[str, Any], set[str]]] = [
    ("missing carrier", {k: v for k, v in EXAMPLE_1.items() if k != "carrierId"}, {"carrierId"}),
    ("carrier of nobody", {**EXAMPLE_1, "carrierId": 4242}, {"carrierId"}),
    ("zero weight", {**EXAMPLE_1, "weight": 0}, {"weight"}),
    ("negative weight", {**EXAMPLE_1, "weight": -2}, {"weight"}),
    ("negative distance", {**EXAMPLE_1, "distance": -1}, {"distance"}),
    ("bad country", {**EXAMPLE_1, "originCountry": "USA"}, {"originCountry"}),
    ("blank service type", {**EXAMPLE_1, "serviceType": "  "}, {"serviceType"}),
    ("unknown field", {**EXAMPLE_1, "colour": "red"}, {"colour"}),
    ("weight as text", {**EXAMPLE_1, "weight": "heavy"}, {"weight"}),
]


@pytest.mark.parametrize(("body", "fields"), [pytest.param(b, f, id=name) for name, b, f in BAD_REQUESTS])
async def test_bad_request_is_400_and_stores_nothing(
    demo: httpx.AsyncClient, app: Litestar, body: dict[str, Any], fields: set[str]
) -> None:
    response = await demo.post(CALCULATE, json=body)
    assert response.status_code == 400, response.text
    assert set(response.json()["fieldErrors"]) == fields
    assert await count_rows(app, "pricing", "price_calculations") == 0


async def test_unknown_customer_is_400_and_stores_nothing(demo: httpx.AsyncClient, app: Litestar) -> None:
    response = await demo.post(CALCULATE, json={**EXAMPLE_1, "customerId": 2_000_000_000})
    assert response.status_code == 400
    assert response.json()["fieldErrors"] == {"customerId": ["must name an existing customer"]}
    assert await count_rows(app, "pricing", "price_calculations") == 0


async def test_inactive_carrier_is_400(demo: httpx.AsyncClient, app: Litestar) -> None:
    assert (await demo.patch("/api/v1/carriers/1", json={"isActive": False})).status_code == 200
    response = await demo.post(CALCULATE, json=EXAMPLE_1)
    assert response.status_code == 400
    assert response.json()["fieldErrors"] == {"carrierId": ["must name an active carrier"]}
    assert await count_rows(app, "pricing", "price_calculations") == 0


async def test_a_rule_change_reaches_the_next_calculation(demo: httpx.AsyncClient) -> None:
    assert (await calculate(demo, EXAMPLE_1))["calculation"]["total"] == 37.27
    changed = await demo.patch(f"{RULES}/1", json={"pricing": {"baseRate": 20, "currency": "USD"}})
    assert changed.status_code == 200
    assert (await calculate(demo, EXAMPLE_1))["calculation"]["total"] == 20.0
    assert (await demo.patch(f"{RULES}/1", json={"isActive": False})).status_code == 200
    assert (await demo.post(CALCULATE, json=EXAMPLE_1)).status_code == 422


async def test_a_rule_used_by_a_calculation_cannot_be_deleted(demo: httpx.AsyncClient) -> None:
    await calculate(demo, EXAMPLE_2)
    response = await demo.delete(f"{RULES}/2")
    assert response.status_code == 409
    assert (await demo.patch(f"{RULES}/2", json={"isActive": False})).status_code == 200
    assert (await demo.delete(f"{RULES}/3")).status_code == 204


async def test_calculate_needs_pricing_calculate(client: httpx.AsyncClient) -> None:
    assert (await client.post(CALCULATE, json=EXAMPLE_1)).status_code == 403


async def test_concurrent_calculations_are_each_stored_under_the_id_they_answer(demo: httpx.AsyncClient) -> None:
    """Concurrent calculations share commits (kernel.db.group_commit): each answer's id must be its own row."""
    bodies = [{**EXAMPLE_1, "weight": 1 + index} for index in range(24)] + [EXAMPLE_2] * 6
    results = await gather_calculations(demo, bodies)
    assert len({result["id"] for result in results}) == len(bodies)
    for result, body in zip(results, bodies, strict=True):
        stored = await demo.get(f"/api/v1/pricing/calculations/{result['id']}")
        assert stored.status_code == 200, stored.text
        assert data_of(stored)["requestId"] == result["requestId"]
        assert data_of(stored)["request"]["weight"] == body["weight"]
        assert data_of(stored)["calculation"] == result["calculation"]
        assert data_of(stored)["appliedRules"] == result["appliedRules"]


async def gather_calculations(client: httpx.AsyncClient, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return list(await asyncio.gather(*(calculate(client, body) for body in bodies)))
