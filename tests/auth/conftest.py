"""Auth tests start from the seeded reference data: permissions, roles and the default admin."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar

from tests.conftest import http_client, running
from tests.helpers import runtime_of

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin123"


@pytest.fixture
async def anonymous(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A client without a token, on an app whose identity data is seeded."""
    async with running(app), http_client(app) as client:
        await runtime_of(app).seed(demo=False)
        yield client


async def login(
    client: httpx.AsyncClient, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD
) -> dict[str, object]:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    data: dict[str, object] = response.json()["data"]
    return data


async def register(client: httpx.AsyncClient, email: str, password: str = "Correct-Horse-42") -> dict[str, object]:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": password, "firstName": "Test", "lastName": "Person"},
    )
    assert response.status_code == 201, response.text
    data: dict[str, object] = response.json()["data"]
    return data
