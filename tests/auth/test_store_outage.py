"""With REDIS_URL set and Redis down, sign-in fails closed: no tokens that cannot be used, no unthrottled
password guessing, and readiness says so. Each test runs a Redis of its own and stops it."""

from __future__ import annotations

import httpx
import pytest

from bootstrap.app import create_app
from kernel.health import DEGRADED, HEALTHY, UNHEALTHY
from kernel.settings import Settings
from tests.auth.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, login
from tests.conftest import http_client, running
from tests.helpers import runtime_of
from tests.own_redis import OwnRedis, own_redis

__all__ = ["own_redis"]  # the fixture

LOGIN = "/api/v1/auth/login"
WRONG = {"email": ADMIN_EMAIL, "password": "wrong-password"}


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["error"] == "Service Unavailable"
    assert body["statusCode"] == 503
    assert int(response.headers["Retry-After"]) >= 1
    assert "access_token" not in response.text


@pytest.mark.redis
async def test_login_is_503_and_never_unthrottled_while_redis_is_down(
    environment: dict[str, str], own_redis: OwnRedis
) -> None:
    app = create_app(Settings.from_mapping({**environment, "REDIS_URL": own_redis.url}))
    async with running(app), http_client(app) as client:
        await runtime_of(app).seed(demo=False)
        await login(client)

        own_redis.stop()
        assert_unavailable(await client.post(LOGIN, json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
        for _ in range(8):  # guesses are refused, not answered (and not left uncounted)
            assert_unavailable(await client.post(LOGIN, json=WRONG))
        # the rate-limited routes cannot count either: refused, not served unlimited
        body = {"email": "new@example.com", "password": "Correct-Horse-42", "firstName": "N", "lastName": "P"}
        assert_unavailable(await client.post("/api/v1/auth/register", json=body))
        assert_unavailable(await client.post("/api/v1/auth/refresh", json={"refreshToken": "x"}))
        assert_unavailable(await client.post("/api/v1/auth/validate-token", json={"token": "x"}))

        own_redis.start()  # an empty Redis: nothing was counted while it was away, nothing needed to be
        for _ in range(5):
            assert (await client.post(LOGIN, json=WRONG)).status_code == 401
        locked = await client.post(LOGIN, json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        assert locked.status_code == 429
        assert int(locked.headers["Retry-After"]) > 0


@pytest.mark.redis
async def test_readiness_fails_and_health_degrades_while_redis_is_down(
    environment: dict[str, str], own_redis: OwnRedis
) -> None:
    app = create_app(Settings.from_mapping({**environment, "REDIS_URL": own_redis.url}))
    async with running(app), http_client(app) as client:
        ready = await client.get("/api/v1/health/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["data"]["checks"]["redis"]["status"] == HEALTHY

        own_redis.stop()
        ready = await client.get("/api/v1/health/ready")
        assert ready.status_code == 503
        document = ready.json()["data"]
        assert document["status"] == UNHEALTHY
        assert document["checks"]["redis"]["status"] == UNHEALTHY
        assert document["checks"]["redis"]["message"].startswith("unreachable")
        assert all(m["database"]["status"] == HEALTHY for m in document["modules"].values())

        health = await client.get("/api/v1/health")
        assert health.status_code == 200  # the process is degraded, not down: carrier reads need no store
        assert health.json()["data"]["status"] == DEGRADED
        assert health.json()["data"]["checks"]["redis"]["status"] == DEGRADED

        own_redis.start()
        assert (await client.get("/api/v1/health/ready")).status_code == 200


async def test_readiness_has_no_redis_check_without_redis(environment: dict[str, str]) -> None:
    app = create_app(Settings.from_mapping(environment))
    async with running(app), http_client(app) as client:
        ready = await client.get("/api/v1/health/ready")
        assert ready.status_code == 200
        assert "checks" not in ready.json()["data"]
