"""Black-box: `freightdesk run` with two worker processes (FREIGHTDESK_WORKERS=2) on the embedded default:
both serve, what one worker does holds in the other within a second (revocation, a new carrier), and either
worker's metrics count the requests of both."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx

from tests.e2e.test_run_command import started, wait_healthy

REQUESTS = 30  # each on a connection of its own, enough that both workers answer some of them
BY_ID = re.compile(r'freightdesk_requests_total\{([^}]*path="/api/v1/carriers/\{id\}"[^}]*)\} (\S+)')


def served_by_id(metrics: str) -> int:
    """GET /carriers/{id} answered 200, as the metrics count them."""
    return sum(
        int(float(value))
        for labels, value in BY_ID.findall(metrics)
        if 'method="GET"' in labels and 'status_code="200"' in labels
    )


def test_two_workers_agree_on_a_logout_and_on_a_new_carrier(tmp_path: Path) -> None:
    with started(tmp_path, FREIGHTDESK_WORKERS="2") as (base_url, _data_dir):
        wait_healthy(base_url)
        login = httpx.post(f"{base_url}/api/v1/auth/login", json={"email": "admin@example.com", "password": "admin123"})
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}

        created = httpx.post(f"{base_url}/api/v1/carriers", json={"name": "Two Worker Freight"}, headers=headers)
        assert created.status_code == 201, created.text
        carrier = f"{base_url}/api/v1/carriers/{created.json()['data']['id']}"
        for _ in range(REQUESTS):
            assert httpx.get(carrier, headers=headers).status_code == 200

        # Either worker answers a scrape with the requests of both (one metrics directory, summed).
        monitoring = {"Authorization": headers["Authorization"]}
        for _ in range(4):
            assert served_by_id(httpx.get(f"{base_url}/metrics", headers=monitoring).text) == REQUESTS

        assert httpx.post(f"{base_url}/api/v1/auth/logout", headers=headers).status_code == 200
        time.sleep(1.0)
        answers = [httpx.get(carrier, headers=headers).status_code for _ in range(REQUESTS)]
        assert set(answers) == {401}, answers
