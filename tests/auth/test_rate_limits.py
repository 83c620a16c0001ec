"""Register, refresh and validate-token are rate limited per client IP (docs/api.md §3.8), over HTTP."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import select

from bootstrap.app import create_app
from kernel.security.throttle import RateLimit, RateLimiter
from kernel.settings import Settings
from modules.auth.internal.controllers import REFRESH_LIMIT, REGISTER_LIMIT, VALIDATE_TOKEN_LIMIT
from modules.auth.internal.models import AuthSession
from tests.auth.conftest import login
from tests.conftest import http_client, running
from tests.helpers import runtime_of

AUTH = "/api/v1/auth"
# Bodies that are cheap to refuse: a limit counts every request, malformed ones included.
ROUTES = [
    ("register", REGISTER_LIMIT, {"email": "not-an-email"}),
    ("refresh", REFRESH_LIMIT, {"refreshToken": "unknown"}),
    ("validate-token", VALIDATE_TOKEN_LIMIT, {"token": "not-a-token"}),
]


def assert_limited(response: httpx.Response, limit: RateLimit) -> None:
    assert response.status_code == 429, response.text
    body = response.json()
    assert (body["statusCode"], body["error"]) == (429, "Too Many Requests")
    assert body["message"] == "Too many requests; try again later"
    assert 1 <= int(response.headers["Retry-After"]) <= limit.window_seconds


async def use_up(client: httpx.AsyncClient, route: str, limit: RateLimit, body: dict[str, str], **kw: object) -> None:
    for _ in range(limit.limit):
        response = await client.post(f"{AUTH}/{route}", json=body, **kw)
        assert response.status_code in (400, 401), response.text


@pytest.mark.parametrize(("route", "limit", "body"), ROUTES, ids=[r[0] for r in ROUTES])
async def test_each_route_answers_429_past_its_limit(
    anonymous: httpx.AsyncClient, route: str, limit: RateLimit, body: dict[str, str]
) -> None:
    await use_up(anonymous, route, limit, body)
    assert_limited(await anonymous.post(f"{AUTH}/{route}", json=body), limit)
    # the other routes keep their own counts, and login is not rate limited this way
    others = [r for r in ROUTES if r[0] != route]
    assert (await anonymous.post(f"{AUTH}/{others[0][0]}", json=others[0][2])).status_code in (400, 401)
    assert (await login(anonymous))["access_token"]


async def test_a_valid_request_counts_and_is_refused_past_the_limit_too(
    anonymous: httpx.AsyncClient, app: Litestar
) -> None:
    signed_in = await login(anonymous)
    store, key = runtime_of(app).security.store, RateLimiter.key(VALIDATE_TOKEN_LIMIT, "127.0.0.1")
    for _ in range(VALIDATE_TOKEN_LIMIT.limit - 1):  # the test client's earlier requests, without sending them
        await store.increment(key, VALIDATE_TOKEN_LIMIT.window_seconds)
    valid = {"token": str(signed_in["access_token"])}
    assert (await anonymous.post(f"{AUTH}/validate-token", json=valid)).status_code == 200
    assert_limited(await anonymous.post(f"{AUTH}/validate-token", json=valid), VALIDATE_TOKEN_LIMIT)


async def test_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(anonymous: httpx.AsyncClient) -> None:
    # A client cannot escape its limit by writing a new X-Forwarded-For into every request.
    for number in range(REGISTER_LIMIT.limit):
        spoofed = {"X-Forwarded-For": f"203.0.113.{number}"}
        assert (await anonymous.post(f"{AUTH}/register", json={}, headers=spoofed)).status_code == 400
    limited = await anonymous.post(f"{AUTH}/register", json={}, headers={"X-Forwarded-For": "198.51.100.1"})
    assert_limited(limited, REGISTER_LIMIT)


async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(environment: dict[str, str]) -> None:
    # The test client connects from 127.0.0.1: here that is the reverse proxy.
    app = create_app(Settings.from_mapping({**environment, "FREIGHTDESK_TRUSTED_PROXIES": "127.0.0.1"}))
    async with running(app), http_client(app) as client:
        await runtime_of(app).seed(demo=False)
        first = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}  # the client's own prefix proves nothing
        await use_up(client, "register", REGISTER_LIMIT, {}, headers=first)
        assert_limited(await client.post(f"{AUTH}/register", json={}, headers=first), REGISTER_LIMIT)
        again = {"X-Forwarded-For": "198.51.100.2, 203.0.113.7"}
        assert_limited(await client.post(f"{AUTH}/register", json={}, headers=again), REGISTER_LIMIT)
        other = {"X-Forwarded-For": "203.0.113.8"}
        assert (await client.post(f"{AUTH}/register", json={}, headers=other)).status_code == 400
        # the session records the address the limits count by
        response = await client.post(
            f"{AUTH}/login", json={"email": "admin@example.com", "password": "admin123"}, headers=other
        )
        assert response.status_code == 200
        async with runtime_of(app).module("auth").context.session_maker() as session:
            assert list(await session.scalars(select(AuthSession.client_ip))) == ["203.0.113.8"]
