"""Pricing rule create/read/update/list/search/delete over HTTP, on SQLite and MariaDB alike."""

from __future__ import annotations

from typing import Any

import httpx
from litestar import Litestar

from tests.carrier.factories import carrier_body
from tests.conftest import data_of
from tests.pricing.factories import RULES, pricing_headers, rule_body, seed_demo

Client = httpx.AsyncClient


async def create(client: Client, **overrides: Any) -> dict[str, Any]:
    response = await client.post(RULES, json=rule_body(**overrides))
    assert response.status_code == 201, response.text
    return dict(data_of(response))


async def test_create_returns_201_with_the_rule(client: Client, app: Litestar) -> None:
    client.headers.update(pricing_headers(app))
    carrier = data_of(await client.post("/api/v1/carriers", json=carrier_body()))
    response = await client.post(
        RULES,
        json=rule_body(
            name="  Express US  ",
            validFrom="2026-01-01",
            validTo="2027-01-01",
            conditions={
                "carrierId": carrier["id"],
                "serviceType": " Express ",
                "originCountry": "us",
                "weightRange": {"min": 0, "max": 30.5},
            },
        ),
    )
    assert response.status_code == 201, response.text
    assert response.json()["message"] == "Created successfully"
    rule = response.json()["data"]
    assert rule["name"] == "Express US"
    assert rule["isActive"] is True
    assert rule["validFrom"] == "2026-01-01"
    assert rule["validTo"] == "2027-01-01"
    assert rule["conditions"] == {
        "carrierId": carrier["id"],
        "serviceType": "Express",
        "originCountry": "US",
        "weightRange": {"min": 0, "max": 30.5},
    }
    assert rule["pricing"] == {
        "baseRate": 10.0,
        "currency": "USD",
        "perKgRate": 1.5,
        "surcharges": [{"type": "Fuel", "percentage": 5}],
        "discounts": [{"type": "Loyalty", "amount": 1.25}],
    }
    assert data_of(await client.get(f"{RULES}/{rule['id']}")) == rule


async def test_unknown_id_is_404(client: Client, app: Litestar) -> None:
    client.headers.update(pricing_headers(app))
    response = await client.get(f"{RULES}/999999")
    assert response.status_code == 404
    assert response.json()["message"] == "Pricing rule not found"
    assert (await client.patch(f"{RULES}/999999", json={"priority": 1})).status_code == 404
    assert (await client.delete(f"{RULES}/999999")).status_code == 404


async def test_patch_changes_only_the_fields_sent_and_replaces_documents(client: Client, app: Litestar) -> None:
    client.headers.update(pricing_headers(app))
    rule = await create(client)
    response = await client.patch(
        f"{RULES}/{rule['id']}",
        json={
            "priority": 500,
            "conditions": {"customerType": "premium"},
            "pricing": {"baseRate": 0, "currency": "EUR"},
        },
    )
    assert response.status_code == 200, response.text
    changed = data_of(response)
    assert changed["priority"] == 500
    assert changed["name"] == rule["name"]
    assert changed["conditions"] == {"customerType": "premium"}
    assert changed["pricing"] == {"baseRate": 0, "currency": "EUR", "surcharges": [], "discounts": []}
    put = await client.put(f"{RULES}/{rule['id']}", json={"isActive": False, "description": None})
    assert put.status_code == 200
    assert put.json()["message"] == "Updated successfully"
    assert data_of(put)["isActive"] is False
    assert data_of(put)["description"] is None


async def test_list_searches_filters_and_counts(client: Client, app: Litestar) -> None:
    client.headers.update(pricing_headers(app))
    carrier = data_of(await client.post("/api/v1/carriers", json=carrier_body()))
    await create(client, name="Alpha Express")
    await create(client, name="Beta Ground", description="slow 100%", isActive=False)
    await create(client, name="Gamma", conditions={"carrierId": carrier["id"]})

    page = data_of(await client.get(RULES, params={"sortBy": "name", "sortOrder": "asc"}))
    assert [r["name"] for r in page["pricingRules"]] == ["Alpha Express", "Beta Ground", "Gamma"]
    assert (page["total"], page["page"], page["limit"], page["totalPages"]) == (3, 1, 10, 1)
    searched = data_of(await client.get(RULES, params={"search": "100%"}))
    assert [r["name"] for r in searched["pricingRules"]] == ["Beta Ground"]
    active = data_of(await client.get(RULES, params={"isActive": "true"}))
    assert {r["name"] for r in active["pricingRules"]} == {"Alpha Express", "Gamma"}
    by_carrier = data_of(await client.get(RULES, params={"carrierId": str(carrier["id"])}))
    assert [r["name"] for r in by_carrier["pricingRules"]] == ["Gamma"]
    assert data_of(await client.get(f"{RULES}/count")) == {"count": 3}
    assert data_of(await client.get(f"{RULES}/count", params={"isActive": "false"})) == {"count": 1}

    bad = await client.get(RULES, params={"isActive": "maybe", "carrierId": "x", "sortBy": "colour"})
    assert bad.status_code == 400
    assert set(bad.json()["fieldErrors"]) == {"isActive", "carrierId", "sortBy"}


async def test_delete_removes_the_rule(client: Client, app: Litestar) -> None:
    client.headers.update(pricing_headers(app))
    rule = await create(client)
    response = await client.delete(f"{RULES}/{rule['id']}")
    assert response.status_code == 204
    assert (await client.get(f"{RULES}/{rule['id']}")).status_code == 404


async def test_rules_need_the_pricing_permissions(client: Client, app: Litestar) -> None:
    assert (await client.get(RULES)).status_code == 403  # the default token holds no pricing permission
    assert (await client.post(RULES, json=rule_body())).status_code == 403


async def test_demo_seed_adds_the_six_reference_rules(client: Client, app: Litestar) -> None:
    client.headers.update(pricing_headers(app))
    await seed_demo(app)
    await seed_demo(app)  # idempotent
    page = data_of(await client.get(RULES, params={"sortBy": "id", "sortOrder": "asc"}))
    assert [(r["id"], r["name"], r["priority"]) for r in page["pricingRules"]] == [
        (1, "FedEx Express Domestic", 100),
        (2, "UPS Ground Domestic", 90),
        (3, "DHL International Express", 95),
        (4, "USPS Priority Mail", 80),
        (5, "Heavy Package Surcharge", 50),
        (6, "Premium Customer Discount", 200),
    ]
    fedex = page["pricingRules"][0]
    assert fedex["conditions"] == {
        "carrierId": 1,
        "serviceType": "Express",
        "originCountry": "US",
        "destinationCountry": "US",
    }
    assert fedex["pricing"]["surcharges"] == [
        {"type": "Fuel Surcharge", "percentage": 8.5},
        {"type": "Weekend Delivery", "amount": 5.0},
    ]
