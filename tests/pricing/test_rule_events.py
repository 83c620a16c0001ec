"""Pricing rule writes publish `pricing.rule_changed` through the outbox; a write that changes nothing does not."""

from __future__ import annotations

import json

import httpx
from litestar import Litestar

from tests.conftest import data_of
from tests.helpers import outbox_rows
from tests.pricing.factories import RULES, pricing_headers, rule_body


async def test_each_change_publishes_rule_changed(client: httpx.AsyncClient, app: Litestar) -> None:
    client.headers.update(pricing_headers(app))
    rule = data_of(await client.post(RULES, json=rule_body(), headers={"X-Correlation-ID": "rules-1"}))
    await client.patch(f"{RULES}/{rule['id']}", json={"priority": 11})
    await client.patch(f"{RULES}/{rule['id']}", json={"priority": 11})  # no change, no event
    await client.delete(f"{RULES}/{rule['id']}")

    rows = await outbox_rows(app, "pricing")
    assert [r.event_type for r in rows] == ["pricing.rule_changed"] * 3
    assert [json.loads(r.payload) for r in rows] == [
        {"ruleId": rule["id"], "change": "created"},
        {"ruleId": rule["id"], "change": "updated"},
        {"ruleId": rule["id"], "change": "deleted"},
    ]
    assert rows[0].correlation_id == "rules-1"
