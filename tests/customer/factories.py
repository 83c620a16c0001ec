"""Small builders for customer request bodies, and waiting for what the user events cause."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import httpx

from tests.conftest import data_of

BASE = "/api/v1/customers"

_counter = itertools.count(1)


def customer_body(**overrides: Any) -> dict[str, Any]:
    n = next(_counter)
    body: dict[str, Any] = {
        "email": f"customer{n}@shipper.example.com",
        "firstName": "Grace",
        "lastName": f"Hopper{n}",
        "phone": "+1 (555) 010-2030",
        "dateOfBirth": "1985-06-15",
        "address": {"street": "1 Harbor Way", "city": "Rotterdam", "zipCode": "3011 AA", "country": "NL"},
        "preferences": {"company": "Northwind", "industry": "Retail", "preferredContact": "email", "newsletter": True},
    }
    body.update(overrides)
    return body


async def create_customer(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await client.post(BASE, json=customer_body(**overrides))
    assert response.status_code == 201, response.text
    return dict(data_of(response))


async def customers_with_email(client: httpx.AsyncClient, email: str) -> list[dict[str, Any]]:
    listed = data_of(await client.get(BASE, params={"search": email, "limit": 100}))
    return [c for c in listed["customers"] if c["email"] == email.lower()]


async def eventually(
    client: httpx.AsyncClient, email: str, *, user_id: int | None, seconds: float = 2.0
) -> dict[str, Any]:
    """The one customer with `email`, once it is linked to `user_id` (the user events are asynchronous)."""
    found: list[dict[str, Any]] = []
    for _ in range(int(seconds / 0.02)):
        found = await customers_with_email(client, email)
        if len(found) == 1 and found[0]["userId"] == user_id:
            return found[0]
        await asyncio.sleep(0.02)
    raise AssertionError(f"no single customer {email} linked to {user_id} within {seconds}s: {found}")
