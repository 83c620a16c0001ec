"""Every user route given bad input answers 4xx in the error shape and writes nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from litestar import Litestar

from tests.helpers import count_rows, outbox_rows
from tests.user.factories import ADMIN_ID, as_admin, create_user, seed, user_body

BASE = "/api/v1/users"
ERROR_KEYS = {"message", "statusCode", "error", "timestamp", "path"}


def field_errors(response: httpx.Response) -> dict[str, list[str]]:
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    assert set(body) >= ERROR_KEYS
    assert body["message"] == "Validation failed"
    errors: dict[str, list[str]] = body["fieldErrors"]
    return errors


BAD_CREATE_BODIES: list[tuple[str, dict[str, Any], set[str]]] = [
    ("missing email", {k: v for k, v in user_body().items() if k != "email"}, {"email"}),
    ("missing password", {k: v for k, v in user_body().items() if k != "password"}, {"password"}),
    ("bad email", user_body(email="not-an-email"), {"email"}),
    ("email too long", user_body(email="a" * 250 + "@example.com"), {"email"}),
    ("first name too short after trim", user_body(firstName="  A "), {"firstName"}),
    ("last name too long", user_body(lastName="L" * 51), {"lastName"}),
    ("last name far too long", user_body(lastName="L" * 5000), {"lastName"}),
    ("name of NULs", user_body(firstName="\u0000\u0000\u0000"), {"firstName"}),
    ("name with a line break", user_body(firstName="Ada\nLovelace"), {"firstName"}),
    ("name wrong type", user_body(firstName=42), {"firstName"}),
    ("bad phone", user_body(phone="12"), {"phone"}),
    ("isActive not a boolean", user_body(isActive="yes"), {"isActive"}),
    ("unknown field", user_body(role="admin"), {"role"}),
    ("role ids not integers", user_body(roleIds=["admin"]), {"roleIds.0"}),
    ("unknown role id", user_body(roleIds=[999]), {"roleIds"}),
    ("empty role ids", user_body(roleIds=[]), {"roleIds"}),
    ("role id out of range", user_body(roleIds=[0]), {"roleIds.0"}),
]


@pytest.mark.parametrize(("case", "body", "fields"), BAD_CREATE_BODIES, ids=[c[0] for c in BAD_CREATE_BODIES])
async def test_bad_create_body_is_400_and_writes_nothing(
    client: httpx.AsyncClient, app: Litestar, case: str, body: dict[str, Any], fields: set[str]
) -> None:
    await seed(app)
    response = await client.post(BASE, json=body, headers=as_admin(app))
    assert set(field_errors(response)) == fields, case
    assert await count_rows(app, "user", "users") == 1
    assert [r.event_type for r in await outbox_rows(app, "user")] == ["user.created"]  # the seeded admin only


PASSWORD_CASES = [
    ("short", "Ab1-xyz", "must be at least 8 characters"),
    ("long", "x" * 129, "must be at most 128 characters"),
    ("common", "Password123", "is too common"),
    ("common any case", "QWERTY123", "is too common"),
    ("same as email", "Same.As@Example.com", "must not be the same as the email"),
    ("only spaces", " " * 12, "must not be only spaces"),
    ("far too long", "x" * 5000, "must be at most 128 characters"),
]


@pytest.mark.parametrize(("case", "password", "message"), PASSWORD_CASES, ids=[c[0] for c in PASSWORD_CASES])
async def test_password_policy_on_create_and_patch(
    client: httpx.AsyncClient, app: Litestar, case: str, password: str, message: str
) -> None:
    await seed(app)
    response = await client.post(
        BASE, json=user_body(email="same.as@example.com", password=password), headers=as_admin(app)
    )
    assert field_errors(response) == {"password": [message]}, case
    for_admin = "Admin@Example.com" if case == "same as email" else password
    patched = await client.patch(f"{BASE}/{ADMIN_ID}", json={"password": for_admin}, headers=as_admin(app))
    assert message in field_errors(patched)["password"]


async def test_name_messages_are_the_same_at_any_length(client: httpx.AsyncClient, app: Litestar) -> None:
    await seed(app)
    for length in (51, 201, 5000):
        response = await client.post(BASE, json=user_body(lastName="L" * length), headers=as_admin(app))
        assert field_errors(response) == {"lastName": ["must be 2-50 characters (after trimming spaces)"]}


async def test_malformed_json_and_bad_ids(client: httpx.AsyncClient, app: Litestar) -> None:
    await seed(app)
    admin = as_admin(app)
    malformed = await client.post(BASE, content=b"{not json", headers={**admin, "content-type": "application/json"})
    assert malformed.status_code == 400
    for url in (f"{BASE}/0", f"{BASE}/-1", f"{BASE}/abc", f"{BASE}/99999999999", "/api/v1/roles/0"):
        response = await client.get(url, headers=admin)
        assert response.status_code in {400, 404}, (url, response.text)
        assert set(response.json()) >= ERROR_KEYS
    assert await count_rows(app, "user", "users") == 1


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("page=0", {"page"}),
        ("limit=101", {"limit"}),
        ("limit=-5", {"limit"}),
        ("page=abc", {"page"}),
        ("sortBy=password", {"sortBy"}),
        ("sortBy=passwordHash", {"sortBy"}),
        ("sortOrder=sideways", {"sortOrder"}),
        ("isActive=maybe", {"isActive"}),
        ("search=" + "s" * 101, {"search"}),
        ("page=0&limit=0&isActive=x", {"page", "limit", "isActive"}),
    ],
)
async def test_bad_list_parameters_are_400(
    client: httpx.AsyncClient, app: Litestar, query: str, fields: set[str]
) -> None:
    response = await client.get(f"{BASE}?{query}", headers=as_admin(app))
    assert set(field_errors(response)) == fields


async def test_bad_patch_and_roles_bodies(client: httpx.AsyncClient, app: Litestar) -> None:
    await seed(app)
    admin = as_admin(app)
    user = await create_user(client, app)
    before = len(await outbox_rows(app, "user"))
    cases: list[tuple[str, dict[str, Any], set[str]]] = [
        (f"{BASE}/{user['id']}", {"email": "bad"}, {"email"}),
        (f"{BASE}/{user['id']}", {"firstName": "x"}, {"firstName"}),
        (f"{BASE}/{user['id']}", {"passwordHash": "x"}, {"passwordHash"}),
        (f"{BASE}/{user['id']}/roles", {}, {"roleIds"}),
        (f"{BASE}/{user['id']}/roles", {"roleIds": []}, {"roleIds"}),
        (f"{BASE}/{user['id']}/roles", {"roleIds": [12345]}, {"roleIds"}),
        (f"{BASE}/{user['id']}/roles", {"roleIds": "1"}, {"roleIds"}),
        ("/api/v1/roles", {"name": "x"}, {"name"}),
        ("/api/v1/roles", {"name": "Valid", "description": "d" * 256}, {"description"}),
        ("/api/v1/roles", {"name": "Valid", "permissionIds": [0]}, {"permissionIds.0"}),
    ]
    for url, body, fields in cases:
        method = "POST" if url.endswith("/roles") and url.startswith("/api/v1/roles") else "PATCH"
        response = await client.request(method, url, json=body, headers=admin)
        assert set(field_errors(response)) == fields, (url, body, response.text)
    assert len(await outbox_rows(app, "user")) == before
    assert await count_rows(app, "user", "roles") == 4


async def test_inactive_role_cannot_be_assigned(client: httpx.AsyncClient, app: Litestar) -> None:
    await seed(app)
    admin = as_admin(app)
    user = await create_user(client, app)
    dormant = (await client.post("/api/v1/roles", json={"name": "Dormant", "isActive": False}, headers=admin)).json()
    response = await client.patch(
        f"{BASE}/{user['id']}/roles", json={"roleIds": [dormant["data"]["id"]]}, headers=admin
    )
    assert "roleIds" in field_errors(response)
