"""Profiles (docs/api.md §4 /profiles): one per user, owner or users.update, single envelope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from litestar import Litestar

from tests.conftest import data_of
from tests.user.factories import ADMIN_ID, as_admin, as_user, create_user, seed

Client = httpx.AsyncClient
BASE = "/api/v1/profiles"


def profile_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "dateOfBirth": "1990-02-28",
        "bio": "Ships things",
        "avatar": "https://cdn.example.com/a.png",
        "address": {"street": "1 Main St", "city": "Springfield", "state": "IL", "zipCode": "62701", "country": "US"},
        "socialLinks": {"github": "https://github.com/someone", "website": "https://someone.example.com"},
        "preferences": {"theme": "dark"},
        "metadata": {"source": "import"},
    }
    body.update(overrides)
    return body


async def test_owner_creates_reads_updates_and_deletes_own_profile(client: Client, app: Litestar) -> None:
    await seed(app)
    user = await create_user(client, app)
    own = as_user(app, user["id"])
    assert (await client.get(f"{BASE}/me", headers=own)).status_code == 404
    created = await client.post(f"{BASE}/me", json=profile_body(), headers=own)
    assert created.status_code == 201, created.text
    profile = created.json()["data"]
    assert "data" not in profile
    assert profile["userId"] == user["id"]
    assert profile["dateOfBirth"] == "1990-02-28"
    assert profile["address"]["zipCode"] == "62701"
    assert profile["metadata"] == {"source": "import"}
    assert data_of(await client.get(f"{BASE}/{user['id']}", headers=own)) == profile

    patched = await client.patch(f"{BASE}/me", json={"bio": "Ships more", "dateOfBirth": None}, headers=own)
    assert patched.status_code == 200
    assert data_of(patched)["bio"] == "Ships more"
    assert data_of(patched)["dateOfBirth"] is None
    assert data_of(patched)["socialLinks"] == profile["socialLinks"]

    second = await client.post(f"{BASE}/{user['id']}", json=profile_body(), headers=own)
    assert second.status_code == 409
    assert second.json()["message"] == "Profile already exists"

    assert (await client.delete(f"{BASE}/me", headers=own)).status_code == 204
    assert (await client.get(f"{BASE}/me", headers=own)).json()["message"] == "Profile not found"


async def test_other_users_profile_needs_users_update(client: Client, app: Litestar) -> None:
    await seed(app)
    user = await create_user(client, app)
    stranger = as_user(app, ADMIN_ID, ["users.read"])
    assert (await client.post(f"{BASE}/{user['id']}", json=profile_body(), headers=stranger)).status_code == 403
    editor = as_user(app, ADMIN_ID, ["users.update"])
    created = await client.post(f"{BASE}/{user['id']}", json=profile_body(), headers=editor)
    assert created.status_code == 201
    assert (await client.get(f"{BASE}/{user['id']}", headers=stranger)).status_code == 403
    assert (await client.get(f"{BASE}/{user['id']}", headers=editor)).status_code == 200


async def test_unknown_user_is_404(client: Client, app: Litestar) -> None:
    admin = as_admin(app)
    response = await client.post(f"{BASE}/999999", json=profile_body(), headers=admin)
    assert response.status_code == 404
    assert response.json()["message"] == "User not found"
    assert (await client.get(f"{BASE}/999999", headers=admin)).status_code == 404


async def test_without_permission_unknown_and_known_users_look_the_same(client: Client, app: Litestar) -> None:
    await seed(app)
    user = await create_user(client, app)
    stranger = as_user(app, user["id"] + 1000)
    for target in (ADMIN_ID, 999999):
        assert (await client.get(f"{BASE}/{target}", headers=stranger)).status_code == 403
        assert (await client.get(f"/api/v1/users/{target}", headers=stranger)).status_code == 403
        patched = await client.patch(f"/api/v1/users/{target}", json={"firstName": "Eve"}, headers=stranger)
        assert patched.status_code == 403


async def test_bad_user_id_is_reported_under_its_wire_name(client: Client, app: Litestar) -> None:
    response = await client.get(f"{BASE}/0", headers=as_admin(app))
    assert response.status_code == 400
    assert set(response.json()["fieldErrors"]) == {"userId"}


async def test_deleting_the_user_deletes_the_profile(client: Client, app: Litestar) -> None:
    await seed(app)
    user = await create_user(client, app)
    admin = as_admin(app)
    await client.post(f"{BASE}/{user['id']}", json=profile_body(), headers=admin)
    assert (await client.delete(f"/api/v1/users/{user['id']}", headers=admin)).status_code == 204
    assert (await client.get(f"{BASE}/{user['id']}", headers=admin)).status_code == 404


async def test_profile_validation(client: Client, app: Litestar) -> None:
    await seed(app)
    user = await create_user(client, app)
    own = as_user(app, user["id"])
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    cases: list[tuple[dict[str, Any], set[str]]] = [
        (profile_body(dateOfBirth=tomorrow), {"dateOfBirth"}),
        (profile_body(dateOfBirth="1990-02-30"), {"dateOfBirth"}),
        (profile_body(dateOfBirth="yesterday"), {"dateOfBirth"}),
        (profile_body(bio="b" * 501), {"bio"}),
        (profile_body(avatar="not a url"), {"avatar"}),
        (profile_body(address="Main Street"), {"address"}),
        (profile_body(address={"planet": "Mars"}), {"address.planet"}),
        (profile_body(socialLinks={"github": "ftp://x"}), {"socialLinks.github"}),
        (profile_body(socialLinks={"myspace": "https://myspace.com/x"}), {"socialLinks.myspace"}),
        (profile_body(preferences={"blob": "x" * 2100}), {"preferences"}),
        (profile_body(preferences=nested(11)), {"preferences"}),  # MariaDB's JSON check stops at 32
        (profile_body(metadata={"list": [[[[[[[[[[[1]]]]]]]]]]]}), {"metadata"}),
        (profile_body(metadata=[1, 2]), {"metadata"}),
        (profile_body(colour="red"), {"colour"}),
    ]
    for body, fields in cases:
        response = await client.post(f"{BASE}/me", json=body, headers=own)
        assert response.status_code == 400, (body, response.text)
        assert set(response.json()["fieldErrors"]) == fields, response.text
    assert (await client.get(f"{BASE}/me", headers=own)).status_code == 404
    assert (await client.post(f"{BASE}/me", json=profile_body(), headers=own)).status_code == 201


async def test_free_form_objects_are_empty_not_null(client: Client, app: Litestar) -> None:
    await seed(app)
    user = await create_user(client, app)
    created = await client.post(f"{BASE}/me", json={"bio": "Short"}, headers=as_user(app, user["id"]))
    assert created.status_code == 201, created.text
    profile = created.json()["data"]
    assert profile["preferences"] == {}
    assert profile["metadata"] == {}


def nested(depth: int) -> dict[str, Any]:
    document: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        document = {"a": document}
    return document


async def test_ten_levels_of_nesting_are_accepted(client: Client, app: Litestar) -> None:
    await seed(app)
    user = await create_user(client, app)
    created = await client.post(f"{BASE}/me", json={"preferences": nested(10)}, headers=as_user(app, user["id"]))
    assert created.status_code == 201, created.text
    assert created.json()["data"]["preferences"] == nested(10)
