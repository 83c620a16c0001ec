"""Black-box split mode: two `freightdesk run` processes, pricing in one, the carrier and customer modules (and
user, which customer needs) in the other; pricing reaches them at `CARRIER_SERVICE_URL`/`CUSTOMER_SERVICE_URL`
over HTTP with the development service secret both processes share."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.e2e.test_module_alone import token
from tests.e2e.test_run_command import started, wait_healthy

EXAMPLE = {"carrierId": 1, "serviceType": "Express", "weight": 5.5, "originCountry": "US", "destinationCountry": "US"}


def test_pricing_in_its_own_process_calculates_through_the_other_process(tmp_path: Path) -> None:
    (tmp_path / "provider").mkdir()
    (tmp_path / "pricing").mkdir()
    provider = started(tmp_path / "provider", FREIGHTDESK_MODULES="carrier,customer,user")
    provider_url, _ = provider.__enter__()
    try:
        wait_healthy(provider_url)  # its demo carriers are seeded before it serves
        urls = {"CARRIER_SERVICE_URL": provider_url, "CUSTOMER_SERVICE_URL": provider_url}
        with started(tmp_path / "pricing", FREIGHTDESK_MODULES="pricing", **urls) as (pricing_url, data_dir):
            health = wait_healthy(pricing_url).json()["data"]
            assert set(health["modules"]) == {"pricing"}
            assert {name: d["reachable"] for name, d in health["dependencies"].items()} == {
                "carrier": True,
                "customer": True,
            }
            headers = token(data_dir, ["pricing.calculate", "pricing.view"])
            rules = httpx.get(f"{pricing_url}/api/v1/pricing/rules", headers=headers)
            assert rules.json()["data"]["total"] == 6  # the demo rules, their carriers checked over HTTP

            priced = httpx.post(
                f"{pricing_url}/api/v1/pricing/calculate", json={**EXAMPLE, "customerId": 1}, headers=headers
            )
            assert priced.status_code == 201, priced.text
            assert priced.json()["data"]["calculation"]["total"] == 37.27
            unknown = httpx.post(
                f"{pricing_url}/api/v1/pricing/calculate", json={**EXAMPLE, "customerId": 987654}, headers=headers
            )
            assert unknown.json()["fieldErrors"] == {"customerId": ["must name an existing customer"]}

            provider.__exit__(None, None, None)
            provider = None
            gone = httpx.post(f"{pricing_url}/api/v1/pricing/calculate", json=EXAMPLE, headers=headers)
            assert gone.status_code == 503, gone.text
            assert gone.json()["message"] == "carrier module unavailable"
            assert "retry-after" in gone.headers
            health = httpx.get(f"{pricing_url}/api/v1/health").json()["data"]
            assert health["status"] == "degraded"
            assert health["dependencies"]["carrier"]["reachable"] is False
    finally:
        if provider is not None:
            provider.__exit__(None, None, None)
