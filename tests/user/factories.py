"""Small builders for user-module requests, tokens and seeded data."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
from litestar import Litestar

from kernel.modules import ModuleContext
from modules.user.internal.seed import PERMISSIONS, seed_users
from tests.conftest import data_of
from tests.helpers import bearer, runtime_of, token_for

ALL_PERMISSIONS = [name for name, _, _ in PERMISSIONS]
PASSWORD = "Correct-Horse-42"
ADMIN_ID = 1
"""The seeded default administrator is the first user of a fresh database."""

_counter = itertools.count(1)


def user_context(app: Litestar) -> ModuleContext:
    return runtime_of(app).module("user").context


async def seed(app: Litestar, demo: bool = False) -> None:
    await seed_users(user_context(app), demo)


def token(app: Litestar, user_id: int = ADMIN_ID, permissions: list[str] | None = None) -> str:
    return token_for(
        app,
        permissions=ALL_PERMISSIONS if permissions is None else permissions,
        user_id=user_id,
        roles=["admin"] if permissions is None else ["user"],
        session_id=f"session-{user_id}",
    )


def as_admin(app: Litestar) -> dict[str, str]:
    return bearer(token(app))


def as_user(app: Litestar, user_id: int, permissions: list[str] | None = None) -> dict[str, str]:
    return bearer(token(app, user_id, permissions or []))


def user_body(**overrides: Any) -> dict[str, Any]:
    n = next(_counter)
    body: dict[str, Any] = {
        "email": f"person{n}@example.com",
        "password": PASSWORD,
        "firstName": "Ada",
        "lastName": f"Lovelace{n}",
        "phone": "+1 (555) 010-2030",
    }
    body.update(overrides)
    return body


async def create_user(client: httpx.AsyncClient, app: Litestar, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/users", json=user_body(**overrides), headers=as_admin(app))
    assert response.status_code == 201, response.text
    return dict(data_of(response))


async def role_id(client: httpx.AsyncClient, app: Litestar, name: str) -> int:
    response = await client.get(f"/api/v1/roles/name/{name}", headers=as_admin(app))
    assert response.status_code == 200, response.text
    return int(data_of(response)["id"])
