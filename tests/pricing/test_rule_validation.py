"""Every pricing rule rule of docs/api.md §6.2 answers 400 at the request's field name and stores nothing."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest
from litestar import Litestar

from tests.conftest import data_of
from tests.helpers import count_rows, outbox_rows
from tests.pricing.factories import RULES, pricing_headers, rule_body


def with_pricing(**changes: Any) -> dict[str, Any]:
    body = rule_body()
    body["pricing"] = {**body["pricing"], **changes}
    return body


def with_conditions(**changes: Any) -> dict[str, Any]:
    body = rule_body()
    body["conditions"] = {**body["conditions"], **changes}
    return body


BAD_BODIES: list[tuple[str, dict[str, Any], set[str]]] = [
    ("missing name", {k: v for k, v in rule_body().items() if k != "name"}, {"name"}),
    ("missing pricing", {k: v for k, v in rule_body().items() if k != "pricing"}, {"pricing"}),
    ("name too short after trim", rule_body(name=" a "), {"name"}),
    ("unknown field", rule_body(colour="red"), {"colour"}),
    ("unknown conditions key", with_conditions(planet="Mars"), {"conditions.planet"}),
    ("unknown pricing key", with_pricing(tip=1), {"pricing.tip"}),
    (
        "unknown surcharge key",
        with_pricing(surcharges=[{"type": "x", "amount": 1, "why": 1}]),
        {"pricing.surcharges.0.why"},
    ),
    ("priority below 0", rule_body(priority=-1), {"priority"}),
    ("priority above 1000", rule_body(priority=1001), {"priority"}),
    ("validFrom not before validTo", rule_body(validFrom="2026-05-01", validTo="2026-05-01"), {"validTo"}),
    ("bad date", rule_body(validFrom="01/05/2026"), {"validFrom"}),
    ("weight min above max", with_conditions(weightRange={"min": 10, "max": 5}), {"conditions.weightRange.min"}),
    ("distance min above max", with_conditions(distanceRange={"min": 3, "max": 1}), {"conditions.distanceRange.min"}),
    ("negative range", with_conditions(weightRange={"min": -1, "max": 5}), {"conditions.weightRange.min"}),
    ("bad country", with_conditions(originCountry="USA"), {"conditions.originCountry"}),
    ("blank service type", with_conditions(serviceType="   "), {"conditions.serviceType"}),
    ("carrierId out of range", with_conditions(carrierId=0), {"conditions.carrierId"}),
    ("carrierId of no carrier", with_conditions(carrierId=424242), {"conditions.carrierId"}),
    ("currency not ISO 4217", with_pricing(currency="ABC"), {"pricing.currency"}),
    ("currency in lower case", with_pricing(currency="usd"), {"pricing.currency"}),
    ("negative base rate", with_pricing(baseRate=-1), {"pricing.baseRate"}),
    ("rate as a string", with_pricing(perKgRate="abc"), {"pricing.perKgRate"}),
    (
        "surcharge with both",
        with_pricing(surcharges=[{"type": "x", "amount": 1, "percentage": 2}]),
        {"pricing.surcharges.0"},
    ),
    ("discount with neither", with_pricing(discounts=[{"type": "x"}]), {"pricing.discounts.0"}),
    (
        "percentage above 100",
        with_pricing(discounts=[{"type": "x", "percentage": 100.5}]),
        {"pricing.discounts.0.percentage"},
    ),
    (
        "negative percentage",
        with_pricing(surcharges=[{"type": "x", "percentage": -1}]),
        {"pricing.surcharges.0.percentage"},
    ),
]


@pytest.mark.parametrize(("body", "fields"), [pytest.param(b, f, id=name) for name, b, f in BAD_BODIES])
async def test_bad_rule_is_400_and_stores_nothing(
    client: httpx.AsyncClient, app: Litestar, body: dict[str, Any], fields: set[str]
) -> None:
    client.headers.update(pricing_headers(app))
    response = await client.post(RULES, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["message"] == "Validation failed"
    assert set(response.json()["fieldErrors"]) == fields
    assert await count_rows(app, "pricing", "pricing_rules") == 0
    assert await outbox_rows(app, "pricing") == []


async def test_every_broken_rule_is_reported_at_once(client: httpx.AsyncClient, app: Litestar) -> None:
    client.headers.update(pricing_headers(app))
    body = rule_body(validFrom="2027-01-01", validTo="2026-01-01")
    body["conditions"] = {"carrierId": 999, "weightRange": {"min": 9, "max": 1}}
    body["pricing"] = {"baseRate": 1, "currency": "XYZ", "surcharges": [{"type": "a", "percentage": 101}]}
    response = await client.post(RULES, json=body)
    assert response.status_code == 400
    assert set(response.json()["fieldErrors"]) == {
        "validTo",
        "conditions.carrierId",
        "conditions.weightRange.min",
        "pricing.currency",
        "pricing.surcharges.0.percentage",
    }


async def test_bad_patch_is_400_and_changes_nothing(client: httpx.AsyncClient, app: Litestar) -> None:
    client.headers.update(pricing_headers(app))
    rule = data_of(await client.post(RULES, json=rule_body(validFrom="2026-06-01")))
    before = await outbox_rows(app, "pricing")
    patches = [
        {"validTo": "2026-05-01"},  # before the stored validFrom
        {"conditions": {"carrierId": 31337}},
        {"pricing": {"baseRate": 1, "currency": "USD", "discounts": [{"type": "x", "amount": 1, "percentage": 1}]}},
        {"pricing": None},
        {"priority": 2000},
        {"shape": "round"},
    ]
    for patch in patches:
        response = await client.patch(f"{RULES}/{rule['id']}", json=copy.deepcopy(patch))
        assert response.status_code == 400, (patch, response.text)
    assert data_of(await client.get(f"{RULES}/{rule['id']}")) == rule
    assert len(await outbox_rows(app, "pricing")) == len(before)
