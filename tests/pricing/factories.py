"""Small builders for pricing request bodies and the permissions pricing routes need."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from litestar import Litestar
from sqlalchemy import update

from modules.pricing.internal.models import PriceCalculation
from tests.helpers import ADMIN_PERMISSIONS, bearer, runtime_of, token_for

PRICING_PERMISSIONS = ["pricing.view", "pricing.update", "pricing.calculate"]
RULES = "/api/v1/pricing/rules"

_counter = itertools.count(1)


def pricing_headers(app: Litestar) -> dict[str, str]:
    """A token with every carrier and pricing permission."""
    return bearer(token_for(app, permissions=[*ADMIN_PERMISSIONS, *PRICING_PERMISSIONS]))


def rule_body(**overrides: Any) -> dict[str, Any]:
    n = next(_counter)
    body: dict[str, Any] = {
        "name": f"Rule {n:04d}",
        "description": f"Test rule number {n}",
        "priority": 10,
        "conditions": {"serviceType": "Express", "originCountry": "US", "destinationCountry": "US"},
        "pricing": {
            "baseRate": 10.0,
            "currency": "USD",
            "perKgRate": 1.5,
            "surcharges": [{"type": "Fuel", "percentage": 5}],
            "discounts": [{"type": "Loyalty", "amount": 1.25}],
        },
    }
    body.update(overrides)
    return body


async def seed_demo(app: Litestar) -> None:
    """The demo carriers (ids 1-25), customers (ids from 1) and pricing rules (ids 1-6), as on a fresh
    installation."""
    await runtime_of(app).seed(True, only=["carrier", "customer", "pricing"])


async def stamp(app: Litestar, calculation_id: int, moment: str) -> None:
    """Date a stored calculation (its calculatedAt, createdAt and updatedAt) as if it had been made then."""
    at = datetime.fromisoformat(moment)
    engine = runtime_of(app).module("pricing").context.engine
    async with engine.begin() as connection:
        await connection.execute(
            update(PriceCalculation)
            .where(PriceCalculation.id == calculation_id)
            .values(calculated_at=at, created_at=at, updated_at=at)
        )
