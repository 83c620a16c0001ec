"""One running system per shape for the whole black-box suite (starting one takes seconds); the tests make
their own data with unique names and never count what they did not make."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.blackbox.topology import System, started_system
from tests.conftest import require_service
from tests.isolation import MYSQL_URL, REDIS_URL

# The shapes the suite runs against (tests/blackbox/topology.py); every test runs once per shape.
BUILT_SHAPES = ["one-process", "split"]

_systems: dict[str, System] = {}


@pytest.fixture(scope="session", params=BUILT_SHAPES)
def system(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    require_service("mysql", bool(MYSQL_URL))
    if request.param == "split":
        require_service("redis", bool(REDIS_URL))
    with started_system(request.param, tmp_path_factory.mktemp(f"system-{request.param}")) as running:
        yield running


@pytest.fixture
def api(system: System) -> Iterator[httpx.Client]:
    with system.client() as client:
        yield client


@pytest.fixture
def admin(api: httpx.Client) -> httpx.Client:
    login = api.post("/api/v1/auth/login", json={"email": "admin@example.com", "password": "admin123"})
    assert login.status_code == 200, login.text
    api.headers["Authorization"] = f"Bearer {login.json()['data']['access_token']}"
    return api


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:10]
