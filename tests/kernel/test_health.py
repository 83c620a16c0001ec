"""Health: real checks, per-module isolation, readiness before and after migrations, Redis degradation."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from bootstrap.app import create_app
from bootstrap.catalog import available_modules
from kernel.health import DEGRADED, HEALTHY, UNHEALTHY, HealthRegistry, ModuleProbe
from kernel.settings import Settings
from tests.conftest import REDIS_URL, http_client, require_service, running
from tests.helpers import bearer, token_for

UNREACHABLE_MYSQL = "mysql+asyncmy://nobody:x@127.0.0.1:1/nothing"


def health_data(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert response.headers["cache-control"] == "no-store"
    data: dict[str, Any] = body["data"]
    return data


async def test_process_health_lists_every_module_with_its_database_check(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/health")
    assert response.status_code == 200
    data = health_data(response)
    assert data["status"] == HEALTHY
    assert set(data["modules"]) == set(available_modules())
    database = data["modules"]["carrier"]["checks"]["database"]
    assert database["status"] == HEALTHY
    assert isinstance(database["latencyMs"], float)
    event_bus = data["checks"]["eventBus"]
    assert {"outboxBacklog", "oldestPendingSeconds", "status"} <= set(event_bus)
    assert data["version"]
    assert data["uptime"] >= 0


async def test_module_health_route_and_liveness(client: httpx.AsyncClient) -> None:
    module = await client.get("/api/v1/carriers/health")
    assert module.status_code == 200
    for stamp in (module.json()["timestamp"], health_data(module)["timestamp"]):
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", stamp), stamp
    assert health_data(module)["checks"]["outbox"]["outboxBacklog"] == 0
    live = await client.get("/api/v1/health/live")
    assert live.status_code == 200
    ready = await client.get("/api/v1/health/ready")
    assert ready.status_code == 200


async def test_unreachable_module_database_is_503_on_its_route_in_the_error_shape(tmp_path: Path) -> None:
    settings = Settings.from_mapping({"FREIGHTDESK_DATA_DIR": str(tmp_path), "CARRIER_DATABASE_URL": UNREACHABLE_MYSQL})
    app = create_app(settings)
    async with running(app), http_client(app) as client:
        response = await client.get("/api/v1/carriers/health")
        assert response.status_code == 503
        body = response.json()
        assert body["message"] == "Service Unavailable"
        assert body["error"] == "Service Unavailable"
        check = body["data"]["checks"]["database"]
        assert check["status"] == UNHEALTHY
        assert "nobody" not in check["message"]  # no credentials or hosts in health output
        event_bus = (await client.get("/api/v1/health")).json()["data"]["checks"]["eventBus"]
        assert event_bus["status"] == DEGRADED  # a backlog nobody can count is not an empty one
        assert "carrier" in event_bus["unreadableOutboxes"]  # (the others are not migrated here)
        assert (await client.get("/api/v1/health/ready")).status_code == 503
        assert (await client.get("/api/v1/health/live")).status_code == 200


async def test_metrics_drop_the_figures_of_an_outbox_they_cannot_read(tmp_path: Path) -> None:
    settings = Settings.from_mapping({"FREIGHTDESK_DATA_DIR": str(tmp_path), "CARRIER_DATABASE_URL": UNREACHABLE_MYSQL})
    app = create_app(settings)
    async with running(app), http_client(app) as client:
        monitoring = bearer(token_for(app, permissions=["system.monitoring"]))
        text_ = (await client.get("/metrics", headers=monitoring)).text
    assert 'freightdesk_outbox_readable{module="carrier"} 0.0' in text_
    assert 'freightdesk_outbox_backlog{module="carrier"}' not in text_


async def test_one_broken_module_degrades_the_process_but_others_stay_healthy(tmp_path: Path) -> None:
    good = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'good.sqlite'}")
    bad = create_async_engine(UNREACHABLE_MYSQL)
    async with good.begin() as connection:
        await connection.execute(text("CREATE TABLE good_alembic_version (version_num VARCHAR(32))"))
        await connection.execute(text("INSERT INTO good_alembic_version VALUES ('rev1')"))
    registry = HealthRegistry(version="test")
    for name, engine in (("good", good), ("bad", bad)):
        registry.modules[name] = ModuleProbe(
            module=name,
            engine=engine,
            session_maker=async_sessionmaker(engine, expire_on_commit=False),
            outbox=None,
            version_table=f"{name}_alembic_version",
            head="rev1",
        )
    try:
        document = await registry.everything()
        assert document["status"] == DEGRADED
        assert document["modules"]["bad"]["status"] == UNHEALTHY
        assert document["modules"]["good"]["status"] == HEALTHY
    finally:
        await good.dispose()
        await bad.dispose()


async def test_ready_is_503_until_migrations_are_applied(tmp_path: Path) -> None:
    settings = Settings.from_mapping({"FREIGHTDESK_DATA_DIR": str(tmp_path)})
    app = create_app(settings)
    async with running(app), http_client(app) as client:
        response = await client.get("/api/v1/health/ready")
        assert response.status_code == 503
        migrations = response.json()["data"]["modules"]["carrier"]["migrations"]
        assert migrations["status"] == UNHEALTHY
        assert (await client.get("/api/v1/carriers/health")).status_code == 503


@pytest.mark.redis
async def test_redis_is_checked_when_configured(redis_environment: dict[str, str]) -> None:
    app = create_app(Settings.from_mapping(redis_environment))
    async with running(app), http_client(app) as client:
        data = health_data(await client.get("/api/v1/health"))
        assert data["checks"]["redis"]["status"] == HEALTHY
        assert data["status"] == HEALTHY


@pytest.mark.redis
async def test_unreachable_redis_degrades_but_does_not_take_the_process_down(
    environment: dict[str, str],
) -> None:
    require_service("redis", bool(REDIS_URL))  # the suite is about Redis behaviour; keep it with the others
    app = create_app(Settings.from_mapping({**environment, "REDIS_URL": "redis://127.0.0.1:1/0"}))
    async with running(app), http_client(app) as client:
        response = await client.get("/api/v1/health")
        assert response.status_code == 200
        data = health_data(response)
        assert data["status"] == DEGRADED
        assert data["checks"]["redis"]["status"] == DEGRADED
        assert (await client.get("/api/v1/carriers/health")).status_code == 200  # needs no store: served
        # Revocation cannot be checked without the store: authenticated requests fail closed.
        refused = await client.get("/api/v1/carriers/1", headers=bearer(token_for(app)))
        assert refused.status_code == 503
        assert refused.json()["error"] == "Service Unavailable"
