"""Revocations are recorded in auth's database and reach every process of a deployment within a second,
without Redis: two app instances on the same databases, each with its own in-memory cache."""

from __future__ import annotations

import asyncio
import time

import httpx
from litestar import Litestar

from bootstrap.app import create_app
from kernel.settings import Settings
from modules.auth.internal.models import UserTokenCutoff
from modules.auth.internal.revocations import RevocationSync
from tests.auth.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.conftest import http_client, running
from tests.helpers import runtime_of

AGREE_WITHIN_SECONDS = 1.0


async def signed_in(client: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    answer = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['data']['access_token']}"}


async def refused(client: httpx.AsyncClient, headers: dict[str, str]) -> bool:
    return (await client.get("/api/v1/auth/profile", headers=headers)).status_code == 401


async def until_recorded(app: Litestar, user_id: int) -> None:
    """Until auth's database holds a token cutoff for the user (the user module voids the tokens in its own
    process's cache at once; the lasting record waits for the event)."""
    session_maker = runtime_of(app).module("auth").context.session_maker
    started = time.monotonic()
    while True:
        async with session_maker() as session:
            if await session.get(UserTokenCutoff, user_id) is not None:
                return
        assert time.monotonic() - started < 10, "never recorded"
        await asyncio.sleep(0.05)


class SyncPasses:
    """Watches one process's revocation sync. The promise is "within a second" because a pass begins every half
    second; on a machine busy with other work the wall clock says more about the load than about the code, so
    the test waits for a whole pass that began after the revocation was recorded and then asks."""

    def __init__(self, app: Litestar) -> None:
        background = runtime_of(app).module("auth").assembled.background
        sync = next(service for service in background if isinstance(service, RevocationSync))
        self.interval = sync._loop.interval
        original = sync.sync
        self._began: list[float] = []
        self._passed = asyncio.Condition()

        async def counted() -> int:
            began = time.monotonic()
            try:
                return await original()
            finally:
                async with self._passed:
                    self._began.append(began)
                    self._passed.notify_all()

        sync.sync = counted  # type: ignore[method-assign]

    async def one_begun_after(self, moment: float) -> None:
        async with self._passed:
            await asyncio.wait_for(self._passed.wait_for(lambda: any(b > moment for b in self._began)), 10)


async def test_a_logout_and_a_deactivation_reach_another_process_within_a_second(settings: Settings) -> None:
    first: Litestar = create_app(settings)
    second: Litestar = create_app(settings)
    assert runtime_of(first).security.store is not runtime_of(second).security.store
    passes_of_second = SyncPasses(second)
    assert passes_of_second.interval * 2 <= AGREE_WITHIN_SECONDS  # a pass begins often enough to agree in time
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
        assert not await refused(b, other)

        deactivated = await a.patch(
            f"/api/v1/users/{created.json()['data']['id']}", json={"isActive": False}, headers=admin
        )
        assert deactivated.status_code == 200
        await until_recorded(first, created.json()["data"]["id"])  # auth handled the deactivation event
        await passes_of_second.one_begun_after(time.monotonic())
        assert await refused(b, other)

        assert not await refused(b, admin)
        assert (await a.post("/api/v1/auth/logout", headers=admin)).status_code == 200
        await passes_of_second.one_begun_after(time.monotonic())
        assert await refused(b, admin)


async def test_a_new_process_starts_with_every_recorded_revocation(settings: Settings) -> None:
    first: Litestar = create_app(settings)
    async with running(first), http_client(first) as a:
        await runtime_of(first).seed(demo=False)
        admin = await signed_in(a, ADMIN_EMAIL, ADMIN_PASSWORD)
        assert (await a.post("/api/v1/auth/logout", headers=admin)).status_code == 200
    later: Litestar = create_app(settings)
    async with running(later), http_client(later) as b:
        assert (await b.get("/api/v1/auth/profile", headers=admin)).status_code == 401
