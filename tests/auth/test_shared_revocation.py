"""Logout in one process is honoured by another process sharing the same Redis and database."""

from __future__ import annotations

import pytest

from bootstrap.app import create_app
from kernel.settings import Settings
from tests.auth.conftest import login
from tests.conftest import http_client, running
from tests.helpers import bearer, runtime_of
from tests.isolation import redis_keys


@pytest.mark.redis
async def test_logout_in_one_instance_is_rejected_by_another(redis_environment: dict[str, str]) -> None:
    shared = Settings.from_mapping(redis_environment)
    first, second = create_app(shared), create_app(shared)
    async with running(first), running(second), http_client(first) as one, http_client(second) as two:
        await runtime_of(first).seed(demo=False)
        signed_in = await login(one)
        headers = bearer(str(signed_in["access_token"]))
        assert (await two.get("/api/v1/auth/profile", headers=headers)).status_code == 200
        assert (await one.post("/api/v1/auth/logout", headers=headers)).status_code == 200
        assert (await two.get("/api/v1/auth/profile", headers=headers)).status_code == 401
        refresh = await two.post("/api/v1/auth/refresh", json={"refreshToken": signed_in["refresh_token"]})
        assert refresh.status_code == 401


@pytest.mark.redis
async def test_lockout_counts_are_shared_between_instances(redis_environment: dict[str, str]) -> None:
    shared = Settings.from_mapping(redis_environment)
    first, second = create_app(shared), create_app(shared)
    async with running(first), running(second), http_client(first) as one, http_client(second) as two:
        await runtime_of(first).seed(demo=False)
        await runtime_of(first).security.store.delete("auth:login-failures:email:admin@example.com")
        for client in (one, two, one, two, one):
            wrong = {"email": "admin@example.com", "password": "wrong-pass"}
            assert (await client.post("/api/v1/auth/login", json=wrong)).status_code == 401
        locked = await two.post("/api/v1/auth/login", json={"email": "admin@example.com", "password": "admin123"})
        assert locked.status_code == 429
        prefix = redis_environment["FREIGHTDESK_REDIS_KEY_PREFIX"]
        assert f"{prefix}auth:login-failures:email:admin@example.com".encode() in await redis_keys(prefix)
        await runtime_of(first).security.store.delete("auth:login-failures:email:admin@example.com")
