"""Users over HTTP (docs/api.md §4 /users), on SQLite and MariaDB alike."""

from __future__ import annotations

import httpx
from litestar import Litestar

from tests.conftest import data_of
from tests.user.factories import ADMIN_ID, as_admin, as_user, create_user, role_id, seed, user_body

Client = httpx.AsyncClient
BASE = "/api/v1/users"
USER_KEYS = {
    "id",
    "email",
    "firstName",
    "lastName",
    "fullName",
    "phone",
    "isActive",
    "isEmailVerified",
    "lastLoginAt",
    "passwordChangedAt",
    "roles",
    "createdAt",
    "updatedAt",
}


async def test_create_returns_201_with_the_user_and_role_user(client: Client, app: Litestar) -> None:
    await seed(app)
    response = await client.post(
        BASE, json=user_body(email="  Grace.Hopper@Example.COM ".strip(), firstName="  Grace "), headers=as_admin(app)
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["message"] == "Created successfully"
    user = body["data"]
    assert set(user) == USER_KEYS
    assert user["email"] == "grace.hopper@example.com"
    assert user["firstName"] == "Grace"
    assert user["fullName"] == f"Grace {user['lastName']}"
    assert user["isActive"] is True
    assert user["isEmailVerified"] is False
    assert user["createdAt"].endswith("Z")
    assert user["passwordChangedAt"].endswith("Z")
    assert [r["name"] for r in user["roles"]] == ["user"]
    assert set(user["roles"][0]["permissions"]) == {"pricing.calculate", "carriers.read", "carriers.list"}


async def test_create_with_role_ids(client: Client, app: Litestar) -> None:
    await seed(app)
    manager = await role_id(client, app, "manager")
    moderator = await role_id(client, app, "moderator")
    user = await create_user(client, app, roleIds=[moderator, manager, manager], isEmailVerified=True)
    assert sorted(r["name"] for r in user["roles"]) == ["manager", "moderator"]
    assert user["isEmailVerified"] is True


async def test_duplicate_email_in_other_case_is_409(client: Client, app: Litestar) -> None:
    await seed(app)
    await create_user(client, app, email="twice@example.com")
    response = await client.post(BASE, json=user_body(email="TWICE@example.com"), headers=as_admin(app))
    assert response.status_code == 409
    assert response.json()["message"] == "Email already exists"


async def test_get_by_id_email_exists_and_count(client: Client, app: Litestar) -> None:
    await seed(app)
    created = await create_user(client, app, email="find.me@example.com")
    admin = as_admin(app)
    assert data_of(await client.get(f"{BASE}/{created['id']}", headers=admin)) == created
    by_email = await client.get(f"{BASE}/email/FIND.ME@example.com", headers=admin)
    assert data_of(by_email)["id"] == created["id"]
    assert data_of(await client.get(f"{BASE}/exists/find.me@example.com", headers=admin)) == {"exists": True}
    assert data_of(await client.get(f"{BASE}/exists/nobody@example.com", headers=admin)) == {"exists": False}
    assert data_of(await client.get(f"{BASE}/count", headers=admin)) == {"count": 2}
    assert data_of(await client.get(f"{BASE}/count?isActive=false", headers=admin)) == {"count": 0}


async def test_unknown_user_is_404(client: Client, app: Litestar) -> None:
    admin = as_admin(app)
    missing = await client.get(f"{BASE}/999999", headers=admin)
    assert missing.status_code == 404
    assert missing.json()["message"] == "User not found"
    assert (await client.get(f"{BASE}/email/nobody@example.com", headers=admin)).status_code == 404
    assert (await client.patch(f"{BASE}/999999", json={"firstName": "Nobody"}, headers=admin)).status_code == 404
    assert (await client.delete(f"{BASE}/999999", headers=admin)).status_code == 404


async def test_list_search_filters_and_paging(client: Client, app: Litestar) -> None:
    await seed(app)
    admin = as_admin(app)
    moderator = await role_id(client, app, "moderator")
    await create_user(client, app, firstName="Zelda", email="zelda@example.com")
    await create_user(client, app, lastName="Zimmerman", roleIds=[moderator])
    inactive = await create_user(client, app, firstName="Quiet", isActive=False)

    page = data_of(await client.get(f"{BASE}?limit=2&page=1&sortBy=id&sortOrder=asc", headers=admin))
    assert set(page) == {"users", "total", "page", "limit", "totalPages"}
    assert page["total"] == 4
    assert page["totalPages"] == 2
    assert [u["id"] for u in page["users"]] == [ADMIN_ID, ADMIN_ID + 1]

    found = data_of(await client.get(f"{BASE}?search=ZEL", headers=admin))
    assert [u["email"] for u in found["users"]] == ["zelda@example.com"]
    by_last = data_of(await client.get(f"{BASE}?search=zimmer", headers=admin))
    assert by_last["total"] == 1
    by_email = data_of(await client.get(f"{BASE}?search=admin@", headers=admin))
    assert [u["id"] for u in by_email["users"]] == [ADMIN_ID]

    inactive_only = data_of(await client.get(f"{BASE}?isActive=false", headers=admin))
    assert [u["id"] for u in inactive_only["users"]] == [inactive["id"]]
    moderators = data_of(await client.get(f"{BASE}?role=MODERATOR", headers=admin))
    assert [u["lastName"] for u in moderators["users"]] == ["Zimmerman"]

    active = data_of(await client.get(f"{BASE}/active", headers=admin))
    assert inactive["id"] not in [u["id"] for u in active]
    assert len(active) == 3


async def test_users_by_role_name(client: Client, app: Litestar) -> None:
    await seed(app)
    admin = as_admin(app)
    created = await create_user(client, app)
    response = await client.get(f"{BASE}/role/User", headers=admin)
    assert response.status_code == 200
    assert [u["id"] for u in data_of(response)] == [created["id"]]
    assert [u["id"] for u in data_of(await client.get(f"{BASE}/role/admin", headers=admin))] == [ADMIN_ID]
    unknown = await client.get(f"{BASE}/role/nosuchrole", headers=admin)
    assert unknown.status_code == 200
    assert data_of(unknown) == []  # like the list's `role` filter: nobody holds an unknown role


async def test_admin_patch_changes_sent_fields_and_lowercases_email(client: Client, app: Litestar) -> None:
    await seed(app)
    created = await create_user(client, app)
    response = await client.patch(
        f"{BASE}/{created['id']}",
        json={"email": "New.Address@Example.com", "isEmailVerified": True, "phone": None},
        headers=as_admin(app),
    )
    assert response.status_code == 200, response.text
    assert response.json()["message"] == "Updated successfully"
    updated = data_of(response)
    assert updated["email"] == "new.address@example.com"
    assert updated["isEmailVerified"] is True
    assert updated["phone"] is None
    assert updated["firstName"] == created["firstName"]
    assert updated["passwordChangedAt"] == created["passwordChangedAt"]


async def test_patch_email_to_a_taken_one_is_409(client: Client, app: Litestar) -> None:
    await seed(app)
    await create_user(client, app, email="taken@example.com")
    other = await create_user(client, app)
    response = await client.patch(f"{BASE}/{other['id']}", json={"email": "Taken@Example.com"}, headers=as_admin(app))
    assert response.status_code == 409
    assert response.json()["message"] == "Email already exists"


async def test_delete_is_204_and_the_user_is_gone(client: Client, app: Litestar) -> None:
    await seed(app)
    created = await create_user(client, app)
    admin = as_admin(app)
    response = await client.delete(f"{BASE}/{created['id']}", headers=admin)
    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"{BASE}/{created['id']}", headers=admin)).status_code == 404


async def test_set_roles_replaces_the_set(client: Client, app: Litestar) -> None:
    await seed(app)
    created = await create_user(client, app)
    manager = await role_id(client, app, "manager")
    moderator = await role_id(client, app, "moderator")
    response = await client.patch(
        f"{BASE}/{created['id']}/roles", json={"roleIds": [manager, moderator]}, headers=as_admin(app)
    )
    assert response.status_code == 200, response.text
    assert sorted(r["name"] for r in data_of(response)["roles"]) == ["manager", "moderator"]
    again = await client.patch(f"{BASE}/{created['id']}/roles", json={"roleIds": [moderator]}, headers=as_admin(app))
    assert [r["name"] for r in data_of(again)["roles"]] == ["moderator"]


async def test_self_can_read_own_record_without_users_read(client: Client, app: Litestar) -> None:
    await seed(app)
    created = await create_user(client, app)
    own = await client.get(f"{BASE}/{created['id']}", headers=as_user(app, created["id"]))
    assert own.status_code == 200
    assert data_of(own)["id"] == created["id"]
    other = await client.get(f"{BASE}/{ADMIN_ID}", headers=as_user(app, created["id"]))
    assert other.status_code == 403
    assert other.json()["message"] == "Forbidden"


async def test_health_is_public(client: Client) -> None:
    response = await client.get(f"{BASE}/health", headers={"Authorization": ""})
    assert response.status_code == 200
    assert data_of(response)["module"] == "user"
