"""Black-box: two `freightdesk run` processes on one embedded data directory (as two uvicorn workers would share
it) price with the same rules: a rule changed through one is used by the other within a second."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.e2e.test_revocation_survives_restart import ADMIN, login, serving

EXAMPLE_1 = {"carrierId": 1, "serviceType": "Express", "weight": 5.5, "originCountry": "US", "destinationCountry": "US"}


def total(url: str, headers: dict[str, str]) -> float:
    response = httpx.post(f"{url}/api/v1/pricing/calculate", json=EXAMPLE_1, headers=headers, timeout=10)
    assert response.status_code == 201, response.text
    return float(response.json()["data"]["calculation"]["total"])


def test_a_rule_changed_through_one_process_prices_in_the_other_within_a_second(tmp_path: Path) -> None:
    with serving(tmp_path) as first, serving(tmp_path) as second:
        writer, reader = login(first.url, ADMIN), login(second.url, ADMIN)
        assert total(second.url, reader) == 37.27  # the second process has compiled its rule set
        changed = httpx.patch(
            f"{first.url}/api/v1/pricing/rules/1",
            json={"pricing": {"baseRate": 20, "currency": "USD"}},
            headers=writer,
            timeout=10,
        )
        assert changed.status_code == 200, changed.text
        started = time.monotonic()
        while total(second.url, reader) != 20.0:
            assert time.monotonic() - started < 1.0, "the second process still prices with the old rule"
            time.sleep(0.02)
        assert total(first.url, writer) == 20.0
