"""Who may change what, the last-administrator rule, revocation of tokens on sensitive changes."""

from __future__ import annotations

import httpx
from litestar import Litestar

from kernel.store import MemoryStore, StoreUnavailable
from tests.conftest import data_of
from tests.helpers import bearer, runtime_of
from tests.user.factories import ADMIN_ID, PASSWORD, as_admin, as_user, create_user, role_id, seed, token

Client = httpx.AsyncClient
BASE = "/api/v1/users"


async def test_self_may_change_names_phone_and_password(client: Client, app: Litestar) -> None:
    await seed(app)
    created = await create_user(client, app)
    response = await client.patch(
        f"{BASE}/{created['id']}",
        json={
            "firstName": "Selfie",
            "lastName": "Edited",
            "phone": "+44 20 7946 0958",
            "password": "Second-Password-2",
            "currentPassword": PASSWORD,
        },
        headers=as_user(app, created["id"]),
    )
    assert response.status_code == 200, response.text
    updated = data_of(response)
    assert (updated["firstName"], updated["lastName"]) == ("Selfie", "Edited")
    assert updated["passwordChangedAt"] > created["passwordChangedAt"]


async def test_self_may_not_change_other_fields(client: Client, app: Litestar) -> None:
    await seed(app)
    created = await create_user(client, app)
    own = as_user(app, created["id"])
    for body in ({"isActive": False}, {"email": "me@example.com"}, {"isEmailVerified": True}, {"roleIds": [1]}):
        response = await client.patch(f"{BASE}/{created['id']}", json=body, headers=own)
        assert response.status_code == 403, (body, response.text)
    other = await client.patch(f"{BASE}/{ADMIN_ID}", json={"firstName": "Hacker"}, headers=own)
    assert other.status_code == 403
    assert data_of(await client.get(f"{BASE}/{created['id']}", headers=as_admin(app)))["isActive"] is True


async def test_role_ids_in_patch_need_roles_assign(client: Client, app: Litestar) -> None:
    await seed(app)
    created = await create_user(client, app)
    moderator = await role_id(client, app, "moderator")
    editor = as_user(app, ADMIN_ID, ["users.update"])
    denied = await client.patch(f"{BASE}/{created['id']}", json={"roleIds": [moderator]}, headers=editor)
    assert denied.status_code == 403
    allowed = await client.patch(f"{BASE}/{created['id']}", json={"roleIds": [moderator]}, headers=as_admin(app))
    assert [r["name"] for r in data_of(allowed)["roles"]] == ["moderator"]


async def test_missing_permission_is_403_everywhere(client: Client, app: Litestar) -> None:
    await seed(app)
    created = await create_user(client, app)
    nobody = as_user(app, 4242, [])
    calls = [
        ("GET", BASE),
        ("POST", BASE),
        ("GET", f"{BASE}/active"),
        ("GET", f"{BASE}/count"),
        ("GET", f"{BASE}/email/a@example.com"),
        ("GET", f"{BASE}/exists/a@example.com"),
        ("GET", f"{BASE}/role/user"),
        ("GET", f"{BASE}/{created['id']}"),
        ("PATCH", f"{BASE}/{created['id']}"),
        ("PATCH", f"{BASE}/{created['id']}/roles"),
        ("DELETE", f"{BASE}/{created['id']}"),
        ("GET", "/api/v1/roles"),
        ("POST", "/api/v1/roles"),
        ("GET", "/api/v1/roles/stats"),
        ("GET", "/api/v1/roles/1"),
        ("PATCH", "/api/v1/roles/1"),
        ("DELETE", "/api/v1/roles/1"),
        ("GET", "/api/v1/permissions"),
        ("GET", f"/api/v1/profiles/{created['id']}"),
    ]
    for method, url in calls:
        body = {} if method in {"POST", "PATCH"} else None
        response = await client.request(method, url, json=body, headers=nobody)
        assert response.status_code == 403, (method, url, response.text)
        assert response.json()["message"] == "Forbidden"
    assert (await client.get(BASE, headers={"Authorization": ""})).status_code == 401


async def test_admin_cannot_delete_themselves(client: Client, app: Litestar) -> None:
    await seed(app)
    response = await client.delete(f"{BASE}/{ADMIN_ID}", headers=as_admin(app))
    assert response.status_code == 409
    assert response.json()["message"] == "You cannot delete your own account"


async def test_last_admin_cannot_be_deleted_demoted_or_deactivated(client: Client, app: Litestar) -> None:
    await seed(app)
    other_admin = await create_user(client, app)
    acting = bearer(token(app, other_admin["id"]))
    user_role = await role_id(client, app, "user")
    deleted = await client.delete(f"{BASE}/{ADMIN_ID}", headers=acting)
    assert deleted.status_code == 409
    assert deleted.json()["message"] == "Cannot remove the last administrator"
    demoted = await client.patch(f"{BASE}/{ADMIN_ID}/roles", json={"roleIds": [user_role]}, headers=acting)
    assert demoted.status_code == 409
    deactivated = await client.patch(f"{BASE}/{ADMIN_ID}", json={"isActive": False}, headers=acting)
    assert deactivated.status_code == 409
    admin_role = await role_id(client, app, "admin")
    assert (await client.delete(f"/api/v1/roles/{admin_role}", headers=acting)).status_code == 409
    assert (
        await client.patch(f"/api/v1/roles/{admin_role}", json={"isActive": False}, headers=acting)
    ).status_code == 409

    # With a second administrator, the first may go.
    await client.patch(f"{BASE}/{other_admin['id']}/roles", json={"roleIds": [admin_role]}, headers=acting)
    assert (await client.delete(f"{BASE}/{ADMIN_ID}", headers=bearer(token(app, other_admin["id"])))).status_code == 204


async def test_password_change_revokes_the_users_tokens(client: Client, app: Litestar) -> None:
    await seed(app)
    created = await create_user(client, app)
    own = as_user(app, created["id"])
    assert (await client.get(f"{BASE}/{created['id']}", headers=own)).status_code == 200
    new_password = {"password": "Second-Password-2", "currentPassword": PASSWORD}
    changed = await client.patch(f"{BASE}/{created['id']}", json=new_password, headers=own)
    assert changed.status_code == 200
    stale = await client.get(f"{BASE}/{created['id']}", headers=own)
    assert stale.status_code == 401
    assert (await client.get(f"{BASE}/{created['id']}", headers=as_user(app, created["id"]))).status_code == 200


async def test_delete_deactivate_and_role_change_revoke_tokens(client: Client, app: Litestar) -> None:
    await seed(app)
    moderator = await role_id(client, app, "moderator")
    admin = as_admin(app)
    for change in ("deactivate", "roles", "role-permissions", "delete"):
        created = await create_user(client, app)
        own = as_user(app, created["id"])
        assert (await client.get(f"{BASE}/{created['id']}", headers=own)).status_code == 200
        if change == "deactivate":
            response = await client.patch(f"{BASE}/{created['id']}", json={"isActive": False}, headers=admin)
        elif change == "roles":
            response = await client.patch(f"{BASE}/{created['id']}/roles", json={"roleIds": [moderator]}, headers=admin)
        elif change == "role-permissions":
            user_role = await role_id(client, app, "user")
            response = await client.patch(f"/api/v1/roles/{user_role}", json={"permissionIds": [1]}, headers=admin)
        else:
            response = await client.delete(f"{BASE}/{created['id']}", headers=admin)
        assert response.status_code in {200, 204}, (change, response.text)
        assert (await client.get("/api/v1/profiles/me", headers=own)).status_code == 401, change


async def test_own_new_password_needs_the_current_one(client: Client, app: Litestar) -> None:
    await seed(app)
    created = await create_user(client, app)
    own = as_user(app, created["id"])
    url = f"{BASE}/{created['id']}"

    missing = await client.patch(url, json={"password": "Second-Password-2"}, headers=own)
    wrong = await client.patch(url, json={"password": "Second-Password-2", "currentPassword": "nope"}, headers=own)

    assert missing.status_code == 400
    assert set(missing.json()["fieldErrors"]) == {"currentPassword"}
    assert wrong.status_code == 400
    assert wrong.json()["fieldErrors"] == {"currentPassword": ["is incorrect"]}
    after = data_of(await client.get(url, headers=as_admin(app)))
    assert after["passwordChangedAt"] == created["passwordChangedAt"]


async def test_wrong_current_passwords_on_patch_are_throttled_like_sign_ins(client: Client, app: Litestar) -> None:
    await seed(app)
    created = await create_user(client, app)
    own = as_user(app, created["id"])
    body = {"password": "Second-Password-2", "currentPassword": "wrong-guess"}

    statuses = [(await client.patch(f"{BASE}/{created['id']}", json=body, headers=own)).status_code for _ in range(6)]

    assert statuses == [400] * 5 + [429]


async def test_an_administrator_resets_another_password_without_the_current_one(client: Client, app: Litestar) -> None:
    await seed(app)
    created = await create_user(client, app)
    response = await client.patch(
        f"{BASE}/{created['id']}", json={"password": "Second-Password-2"}, headers=as_admin(app)
    )
    assert response.status_code == 200, response.text


async def test_a_refused_revocation_leaves_the_change_undone(client: Client, app: Litestar) -> None:
    """Deactivating must not commit while the user's tokens still work: the store refuses, nothing changes."""
    await seed(app)
    created = await create_user(client, app)
    users_token = as_user(app, created["id"])
    revocations = runtime_of(app).security.revocations
    working = revocations.store
    revocations.store = RefusesWrites()
    try:
        refused = await client.patch(f"{BASE}/{created['id']}", json={"isActive": False}, headers=as_admin(app))
    finally:
        revocations.store = working

    assert refused.status_code == 503
    assert data_of(await client.get(f"{BASE}/{created['id']}", headers=as_admin(app)))["isActive"] is True
    retried = await client.patch(f"{BASE}/{created['id']}", json={"isActive": False}, headers=as_admin(app))
    assert data_of(retried)["isActive"] is False
    assert (await client.get("/api/v1/auth/profile", headers=users_token)).status_code == 401


class RefusesWrites(MemoryStore):
    """A shared store that still answers reads but refuses writes (Redis at maxmemory, or mid-failover)."""

    async def set(self, key: str, value: bytes, ttl_seconds: float | None = None) -> None:
        raise StoreUnavailable("write refused")
