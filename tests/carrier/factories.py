"""Small builders for carrier request bodies."""

from __future__ import annotations

import itertools
from typing import Any

_counter = itertools.count(1)


def carrier_body(**overrides: Any) -> dict[str, Any]:
    n = next(_counter)
    body: dict[str, Any] = {
        "name": f"Carrier {n:04d}",
        "description": f"Test carrier number {n}",
        "contactEmail": f"ops{n}@carrier.example.com",
        "contactPhone": "+1 (555) 010-2030",
        "metadata": {
            "code": f"C{n}",
            "website": "https://carrier.example.com",
            "trackingUrl": "https://carrier.example.com/track/{trackingNumber}",
            "serviceTypes": ["Express", "Ground"],
            "coverage": ["US", "CA"],
            "pricing": {"baseRate": 12.5, "currency": "USD", "perKgRate": 1.25},
        },
    }
    body.update(overrides)
    return body
