"""POST /pricing/quotes over HTTP (docs/api.md §6.3): every active carrier priced, cheapest first, each price
the one /pricing/calculate gives that carrier, and nothing stored."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from litestar import Litestar

from tests.conftest import data_of
from tests.helpers import bearer, count_rows, token_for
from tests.pricing.factories import RULES, pricing_headers, rule_body, seed_demo

QUOTES = "/api/v1/pricing/quotes"
CALCULATE = "/api/v1/pricing/calculate"
EXPRESS = {"serviceType": "Express", "weight": 5.5, "originCountry": "US", "destinationCountry": "US"}


@pytest.fixture
async def demo(client: httpx.AsyncClient, app: Litestar) -> httpx.AsyncClient:
    client.headers.update(pricing_headers(app))
    await seed_demo(app)
    return client


async def quotes_for(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(QUOTES, json=body)
    assert response.status_code == 200, response.text
    return dict(data_of(response))


async def add_rule(client: httpx.AsyncClient, carrier_id: int, base_rate: float, **pricing: Any) -> None:
    body = rule_body(
        conditions={"carrierId": carrier_id, "serviceType": "express"},
        pricing={"baseRate": base_rate, "currency": "USD", **pricing},
    )
    assert (await client.post(RULES, json=body)).status_code == 201


async def stored(app: Litestar) -> int:
    return await count_rows(app, "pricing", "price_calculations") + await count_rows(
        app, "pricing", "price_calculation_rules"
    )


async def assert_each_quote_is_what_calculate_gives(client: httpx.AsyncClient, body: dict[str, Any]) -> list[int]:
    """The carriers quoted, in order; each quote equal to calculating that carrier alone (which stores it)."""
    quotes = (await quotes_for(client, body))["quotes"]
    for quote in quotes:
        response = await client.post(CALCULATE, json={**body, "carrierId": quote["carrierId"]})
        assert response.status_code == 201, response.text
        alone = data_of(response)
        assert quote["calculation"] == alone["calculation"]
        assert (quote["appliedRules"], quote["skippedRules"]) == (alone["appliedRules"], alone["skippedRules"])
    return [q["carrierId"] for q in quotes]


async def test_the_demo_express_shipment_has_two_quotes_cheapest_first(demo: httpx.AsyncClient, app: Litestar) -> None:
    response = await demo.post(QUOTES, json=EXPRESS)
    assert (response.status_code, response.json()["message"]) == (200, "Created successfully")
    result = dict(data_of(response))
    assert result["request"] == EXPRESS
    assert result["calculatedAt"].endswith("Z")
    summary = [(q["carrierId"], q["carrierName"], q["calculation"]["total"]) for q in result["quotes"]]
    assert summary == [(1, "FedEx Express", 37.27), (4, "DHL Express", 50.49)]
    first = result["quotes"][0]
    assert first["appliedRules"] == [{"ruleId": 1, "ruleName": "FedEx Express Domestic", "priority": 100}]
    assert (first["calculation"]["subtotal"], first["calculation"]["currency"]) == (29.74, "USD")
    assert first["skippedRules"] == []
    assert await stored(app) == 0
    assert data_of(await demo.get("/api/v1/pricing/calculations/count")) == {"count": 0}


async def test_quotes_are_sorted_by_total_then_carrier_id(demo: httpx.AsyncClient, app: Litestar) -> None:
    await add_rule(demo, 7, 20, perKgRate=0.5)  # 22.75
    await add_rule(demo, 6, 22.75)  # 22.75: same total as carrier 7, so carrier id decides
    await add_rule(demo, 5, 40, maximumCharge=30)  # capped at 30
    await add_rule(demo, 9, 99, discounts=[{"type": "Promotion", "percentage": 90}])  # 9.90
    order = await assert_each_quote_is_what_calculate_gives(demo, EXPRESS)
    assert order == [9, 6, 7, 5, 1, 4]
    assert await count_rows(app, "pricing", "price_calculations") == len(order)  # only calculate stored


async def test_the_customer_type_and_customer_reach_every_quote(demo: httpx.AsyncClient) -> None:
    body = {**EXPRESS, "weight": 25, "customerType": " Premium ", "customerId": 1, "distance": 12.5}
    result = await quotes_for(demo, body)
    assert result["request"] == {**body, "customerType": "Premium"}
    for quote in result["quotes"]:
        assert quote["appliedRules"][0]["ruleName"] == "Premium Customer Discount"
        assert "Heavy Package" in [s["type"] for s in quote["calculation"]["surcharges"]]
    assert await assert_each_quote_is_what_calculate_gives(demo, {**body, "customerType": "Premium"}) == [1, 4]


async def test_inactive_carriers_and_carriers_without_a_base_rule_are_left_out(demo: httpx.AsyncClient) -> None:
    await add_rule(demo, 5, 0, surcharges=[{"type": "Fuel", "amount": 3}])  # no base rate: not a base rule
    assert (await demo.patch("/api/v1/carriers/1", json={"isActive": False})).status_code == 200
    result = await quotes_for(demo, EXPRESS)
    assert [q["carrierId"] for q in result["quotes"]] == [4]


async def test_a_rule_for_any_carrier_prices_every_active_carrier(demo: httpx.AsyncClient, app: Litestar) -> None:
    body = rule_body(conditions={"serviceType": "Freight"}, pricing={"baseRate": 50, "currency": "EUR"})
    assert (await demo.post(RULES, json=body)).status_code == 201
    active = data_of(await demo.get("/api/v1/carriers/active"))
    quotes = (await quotes_for(demo, {**EXPRESS, "serviceType": "freight"}))["quotes"]
    assert [q["carrierId"] for q in quotes] == sorted(c["id"] for c in active)  # equal totals: by carrier id
    assert {(q["calculation"]["total"], q["calculation"]["currency"]) for q in quotes} == {(50.0, "EUR")}
    assert {q["carrierName"] for q in quotes} == {c["name"] for c in active}
    assert await stored(app) == 0


async def test_no_carrier_can_price_it_is_422_and_stores_nothing(demo: httpx.AsyncClient, app: Litestar) -> None:
    response = await demo.post(QUOTES, json={**EXPRESS, "serviceType": "Ground", "originCountry": "CA"})
    assert response.status_code == 422
    body = response.json()
    assert (body["message"], body["error"]) == ("No pricing rule matches this shipment", "Unprocessable Entity")
    assert await stored(app) == 0


BAD_REQUESTS: list[tuple[str, dict[str, Any], dict[str, list[str]] | set[str]]] = [
    ("a carrier", {**EXPRESS, "carrierId": 1}, {"carrierId": ["property carrierId should not exist"]}),
    ("no weight", {k: v for k, v in EXPRESS.items() if k != "weight"}, {"weight": ["is required"]}),
    ("zero weight", {**EXPRESS, "weight": 0}, {"weight"}),
    ("too heavy", {**EXPRESS, "weight": 1_000_001}, {"weight"}),
    ("negative distance", {**EXPRESS, "distance": -1}, {"distance"}),
    ("bad country", {**EXPRESS, "destinationCountry": "USA"}, {"destinationCountry"}),
    ("blank service type", {**EXPRESS, "serviceType": "   "}, {"serviceType"}),
    ("blank customer type", {**EXPRESS, "customerType": " "}, {"customerType"}),
    ("weight as text", {**EXPRESS, "weight": "heavy"}, {"weight"}),
    ("customer id 0", {**EXPRESS, "customerId": 0}, {"customerId"}),
    ("unknown customer", {**EXPRESS, "customerId": 2_000_000_000}, {"customerId": ["must name an existing customer"]}),
    ("two bad fields", {**EXPRESS, "weight": -1, "originCountry": "U"}, {"weight", "originCountry"}),
]


@pytest.mark.parametrize(("body", "expected"), [pytest.param(b, e, id=name) for name, b, e in BAD_REQUESTS])
async def test_a_bad_request_is_400_and_stores_nothing(
    demo: httpx.AsyncClient, app: Litestar, body: dict[str, Any], expected: dict[str, list[str]] | set[str]
) -> None:
    response = await demo.post(QUOTES, json=body)
    assert response.status_code == 400, response.text
    errors = response.json()["fieldErrors"]
    assert (errors if isinstance(expected, dict) else set(errors)) == expected
    assert await stored(app) == 0


@pytest.mark.parametrize("path", [QUOTES, CALCULATE])
async def test_shape_errors_and_rule_errors_come_in_one_400(demo: httpx.AsyncClient, app: Litestar, path: str) -> None:
    body = {**EXPRESS, "originCountry": 1, "weight": -1, "serviceType": " ", "customerId": 2_000_000_000}
    if path == CALCULATE:
        body["carrierId"] = 4242
    response = await demo.post(path, json=body)
    assert response.status_code == 400, response.text
    errors = response.json()["fieldErrors"]
    expected = {"originCountry", "weight", "serviceType", "customerId"} | (
        {"carrierId"} if path == CALCULATE else set()
    )
    assert set(errors) == expected
    assert errors["weight"] == ["must be greater than 0"]
    assert await stored(app) == 0


async def test_malformed_json_is_400(demo: httpx.AsyncClient) -> None:
    response = await demo.post(QUOTES, content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["fieldErrors"] == {"body": ["is not valid JSON"]}


async def test_quoting_needs_pricing_calculate(demo: httpx.AsyncClient, app: Litestar) -> None:
    demo.headers.pop("Authorization")
    assert (await demo.post(QUOTES, json=EXPRESS)).status_code == 401
    viewer = bearer(token_for(app, permissions=["pricing.view", "pricing.update"]))
    denied = await demo.post(QUOTES, json=EXPRESS, headers=viewer)
    assert (denied.status_code, denied.json()["error"]) == (403, "Forbidden")
    calculator = bearer(token_for(app, permissions=["pricing.calculate"]))
    assert (await demo.post(QUOTES, json=EXPRESS, headers=calculator)).status_code == 200
