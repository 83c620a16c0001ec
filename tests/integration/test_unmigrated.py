"""A process started before `freightdesk db upgrade` (production does not migrate on start): requests get
503 in the error shape, as readiness says, never a 500; each relay logs one line, no traceback, and picks up
once the tables exist."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bootstrap.app import create_app
from bootstrap.catalog import available_modules, load_descriptor
from bootstrap.migrate import upgrade
from bootstrap.runtime import module_database
from kernel.settings import Settings
from tests.conftest import BACKENDS, http_client, require_service, running
from tests.helpers import bearer, runtime_of, token_for
from tests.isolation import MYSQL_URL, mysql_database_url, recreate_mysql_databases, run_database_name

RELAYING_MODULES = sorted(name for name in available_modules() if load_descriptor(name).database.outbox is not None)


@pytest.fixture(params=BACKENDS)
async def unmigrated(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """Settings for databases that exist but hold no tables."""
    values = {
        "FREIGHTDESK_DATA_DIR": str(tmp_path / "data"),
        "FREIGHTDESK_LOG_LEVEL": "WARNING",
        "FREIGHTDESK_RELAY_INTERVAL": "0.05",
    }
    if request.param == "mysql":
        require_service("mysql", bool(MYSQL_URL))
        names = {}
        for name in available_modules():
            default_file = load_descriptor(name).database.default_file.removesuffix(".sqlite")
            names[name] = run_database_name(f"unmigrated_{default_file}")
        await recreate_mysql_databases(sorted(set(names.values())))
        values.update({f"{m.upper()}_DATABASE_URL": mysql_database_url(db) for m, db in names.items()})
    return values


async def test_requests_are_503_in_the_error_shape_until_migrated(
    unmigrated: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(Settings.from_mapping(unmigrated))
    async with running(app), http_client(app) as client:
        with caplog.at_level(logging.WARNING):
            login = await client.post("/api/v1/auth/login", json={"email": "a@example.com", "password": "x"})
            carriers = await client.get("/api/v1/carriers", headers=bearer(token_for(app)))
            ready = await client.get("/api/v1/health/ready")
        for response in (login, carriers, ready):
            assert response.status_code == 503, response.text
            assert response.json()["error"] == "Service Unavailable"
        assert login.json()["message"] == "Service Unavailable"
        assert "table" not in login.text.lower()  # no SQL or driver text leaves
        http_lines = [r for r in caplog.records if r.name == "freightdesk.http"]
        assert http_lines
        assert all(r.getMessage() == "database not migrated; run `freightdesk db upgrade`" for r in http_lines)
        assert not [r for r in caplog.records if r.exc_info]


async def test_each_relay_logs_one_line_without_traceback_and_recovers_after_the_upgrade(
    unmigrated: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings.from_mapping(unmigrated)
    app = create_app(settings)
    with caplog.at_level(logging.INFO, logger="freightdesk.events"):
        async with running(app):
            await asyncio.sleep(0.5)  # ten relay passes
            waiting = [r for r in caplog.records if "waits for its tables" in r.getMessage()]
            assert sorted(r.module_name for r in waiting) == RELAYING_MODULES  # one line per relay
            assert not [r for r in caplog.records if r.exc_info]

            databases = [module_database(settings, load_descriptor(name)) for name in available_modules()]
            await asyncio.to_thread(upgrade, databases)
            await runtime_of(app).seed(demo=False)
            for _ in range(100):
                recovered = [r for r in caplog.records if r.getMessage() == "outbox relay recovered"]
                if len(recovered) == len(RELAYING_MODULES):
                    break
                await asyncio.sleep(0.05)
            assert sorted(r.module_name for r in recovered) == RELAYING_MODULES
            async with http_client(app) as client:
                assert (await client.get("/api/v1/health/ready")).status_code == 200
                signed_in = await client.post(
                    "/api/v1/auth/login", json={"email": "admin@example.com", "password": "admin123"}
                )
                assert signed_in.status_code == 200
    assert len([r for r in caplog.records if "waits for its tables" in r.getMessage()]) == len(RELAYING_MODULES)
