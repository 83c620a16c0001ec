"""Revocations are recorded in auth's database and reach every process of a deployment within a second,
without Redis: two app instances on the same databases, each with its own in-memory cache."""

from __future__ import annotations

import asyncio
import time

import httpx
from litestar import Litestar

from bootstrap.app import create_app
from kernel.settings import Settings
from tests.auth.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.conftest import http_client, running
from tests.helpers import runtime_of

AGREE_WITHIN_SECONDS = 1.0


async def signed_in(client: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    answer = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['data']['access_token']}"}


async def seconds_until_refused(client: httpx.AsyncClient, headers: dict[str, str]) -> float:
    started = time.monotonic()
    while (await client.get("/api/v1/auth/profile", headers=headers)).status_code != 401:
        assert time.monotonic() - started < 5, "never refused"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def test_a_logout_and_a_deactivation_reach_another_process_within_a_second(settings: Settings) -> None:
    first: Litestar = create_app(settings)
    second: Litestar = create_app(settings)
    assert runtime_of(first).security.store is not runtime_of(second).security.store
    async with running(first), running(second), http_client(first) as a, http_client(second) as b:
        await runtime_of(first).seed(demo=False)
        admin = await signed_in(a, ADMIN_EMAIL, ADMIN_PASSWORD)
        created = await a.post(
            "/api/v1/users",
            json={
                "email": "elsewhere@example.com",
                "password": "Correct-Horse-42",
                "firstName": "El",
                "lastName": "Se",
            },
            headers=admin,
        )
        assert created.status_code == 201, created.text
        other = await signed_in(a, "elsewhere@example.com", "Correct-Horse-42")
        assert (await b.get("/api/v1/auth/profile", headers=other)).status_code == 200

        deactivated = await a.patch(
            f"/api/v1/users/{created.json()['data']['id']}", json={"isActive": False}, headers=admin
        )
        assert deactivated.status_code == 200
        assert await seconds_until_refused(b, other) <= AGREE_WITHIN_SECONDS

        assert (await b.get("/api/v1/auth/profile", headers=admin)).status_code == 200
        assert (await a.post("/api/v1/auth/logout", headers=admin)).status_code == 200
        assert await seconds_until_refused(b, admin) <= AGREE_WITHIN_SECONDS


async def test_a_new_process_starts_with_every_recorded_revocation(settings: Settings) -> None:
    first: Litestar = create_app(settings)
    async with running(first), http_client(first) as a:
        await runtime_of(first).seed(demo=False)
        admin = await signed_in(a, ADMIN_EMAIL, ADMIN_PASSWORD)
        assert (await a.post("/api/v1/auth/logout", headers=admin)).status_code == 200
    later: Litestar = create_app(settings)
    async with running(later), http_client(later) as b:
        assert (await b.get("/api/v1/auth/profile", headers=admin)).status_code == 401
