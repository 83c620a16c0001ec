"""Roles and permissions over HTTP (docs/api.md §4 /roles, /permissions) and the seeded reference data."""

from __future__ import annotations

import httpx
from litestar import Litestar

from tests.conftest import data_of
from tests.user.factories import ALL_PERMISSIONS, as_admin, create_user, role_id, seed

Client = httpx.AsyncClient
ROLES = "/api/v1/roles"
PERMISSIONS = "/api/v1/permissions"


async def permission_ids(client: Client, app: Litestar, *names: str) -> list[int]:
    everything = data_of(await client.get(PERMISSIONS, headers=as_admin(app)))
    return [p["id"] for p in everything if p["name"] in names]


async def test_seed_is_idempotent_and_complete(client: Client, app: Litestar) -> None:
    await seed(app)
    await seed(app, demo=True)
    await seed(app, demo=True)
    admin = as_admin(app)
    permissions = data_of(await client.get(PERMISSIONS, headers=admin))
    assert len(permissions) == 40
    assert sorted(p["name"] for p in permissions) == sorted(ALL_PERMISSIONS)
    assert [(p["category"], p["name"]) for p in permissions] == sorted((p["category"], p["name"]) for p in permissions)
    roles = {r["name"]: r for r in data_of(await client.get(f"{ROLES}/active", headers=admin))}
    assert set(roles) == {"admin", "manager", "user", "moderator"}
    assert len(roles["admin"]["permissions"]) == 40
    assert set(roles["user"]["permissions"]) == {"pricing.calculate", "carriers.read", "carriers.list"}
    assert set(roles["moderator"]["permissions"]) == {
        "content.create",
        "content.read",
        "content.update",
        "content.delete",
        "content.publish",
        "users.read",
    }
    assert len(roles["manager"]["permissions"]) == 5 + 5 + 4 + 3
    users = data_of(await client.get("/api/v1/users?limit=100", headers=admin))
    assert users["total"] == 12  # the administrator and eleven demo users, whatever the number of runs
    admins = data_of(await client.get("/api/v1/users/role/admin", headers=admin))
    assert "admin@example.com" in [u["email"] for u in admins]


async def test_categories_and_category_ignoring_case(client: Client, app: Litestar) -> None:
    await seed(app)
    admin = as_admin(app)
    categories = data_of(await client.get(f"{PERMISSIONS}/categories", headers=admin))["categories"]
    assert categories == sorted(
        ["USERS", "ROLES", "CUSTOMERS", "CARRIERS", "PRICING", "SYSTEM", "ANALYTICS", "SETTINGS", "CONTENT"]
    )
    pricing = data_of(await client.get(f"{PERMISSIONS}/category/pricing", headers=admin))
    assert [p["name"] for p in pricing] == ["pricing.approve", "pricing.calculate", "pricing.update", "pricing.view"]
    assert data_of(await client.get(f"{PERMISSIONS}/category/nothing", headers=admin)) == []


async def test_create_get_update_delete_role(client: Client, app: Litestar) -> None:
    await seed(app)
    admin = as_admin(app)
    ids = await permission_ids(client, app, "analytics.view", "analytics.export")
    created = await client.post(
        ROLES, json={"name": "  Analyst ", "description": "Reads numbers", "permissionIds": ids}, headers=admin
    )
    assert created.status_code == 201, created.text
    role = data_of(created)
    assert role["name"] == "Analyst"
    assert role["permissions"] == ["analytics.export", "analytics.view"]
    assert role["isActive"] is True

    detail = data_of(await client.get(f"{ROLES}/{role['id']}", headers=admin))
    assert (detail["usersCount"], detail["permissionsCount"]) == (0, 2)
    assert data_of(await client.get(f"{ROLES}/name/ANALYST", headers=admin))["id"] == role["id"]

    report = await permission_ids(client, app, "analytics.reports")
    patched = await client.patch(f"{ROLES}/{role['id']}", json={"permissionIds": report}, headers=admin)
    assert data_of(patched)["permissions"] == ["analytics.reports"]
    put = await client.put(f"{ROLES}/{role['id']}", json={"description": None}, headers=admin)
    assert put.status_code == 200
    assert data_of(put)["description"] is None

    assert (await client.delete(f"{ROLES}/{role['id']}", headers=admin)).status_code == 204
    missing = await client.get(f"{ROLES}/{role['id']}", headers=admin)
    assert missing.status_code == 404
    assert missing.json()["message"] == "Role not found"


async def test_duplicate_role_name_in_other_case_is_409(client: Client, app: Litestar) -> None:
    await seed(app)
    response = await client.post(ROLES, json={"name": "MANAGER"}, headers=as_admin(app))
    assert response.status_code == 409
    assert response.json()["message"] == "Role name already exists"


async def test_role_held_by_users_cannot_be_deleted(client: Client, app: Litestar) -> None:
    await seed(app)
    admin = as_admin(app)
    user_role = await role_id(client, app, "manager")
    created = await create_user(client, app, roleIds=[user_role])
    response = await client.delete(f"{ROLES}/{user_role}", headers=admin)
    assert response.status_code == 409
    assert response.json()["message"] == "Role is assigned to users; remove it from them first"
    members = data_of(await client.get(f"{ROLES}/{user_role}/users", headers=admin))
    assert members == [
        {
            "id": created["id"],
            "email": created["email"],
            "firstName": created["firstName"],
            "lastName": created["lastName"],
            "isActive": True,
        }
    ]
    assert data_of(await client.get(f"{ROLES}/{user_role}", headers=admin))["usersCount"] == 1


async def test_list_roles_key_data_active_only_and_search(client: Client, app: Litestar) -> None:
    await seed(app)
    admin = as_admin(app)
    await client.post(ROLES, json={"name": "Dormant", "isActive": False}, headers=admin)
    everything = data_of(await client.get(f"{ROLES}?activeOnly=false", headers=admin))
    assert set(everything) == {"data", "total", "page", "limit", "totalPages"}
    assert everything["total"] == 5
    active = data_of(await client.get(f"{ROLES}?activeOnly=true&limit=2", headers=admin))
    assert active["total"] == 4
    assert len(active["data"]) == 2
    assert all(r["isActive"] for r in active["data"])
    searched = data_of(await client.get(f"{ROLES}?search=CONTENT", headers=admin))
    assert [r["name"] for r in searched["data"]] == ["moderator"]
    bad = await client.get(f"{ROLES}?activeOnly=maybe", headers=admin)
    assert bad.status_code == 400
    assert set(bad.json()["fieldErrors"]) == {"activeOnly"}


async def test_stats(client: Client, app: Litestar) -> None:
    await seed(app)
    admin = as_admin(app)
    await client.post(ROLES, json={"name": "Dormant", "isActive": False}, headers=admin)
    stats = data_of(await client.get(f"{ROLES}/stats", headers=admin))
    assert stats == {
        "totalRoles": 5,
        "activeRoles": 4,
        "inactiveRoles": 1,
        "totalPermissions": 40,
        "averagePermissionsPerRole": round((40 + 17 + 3 + 6) / 5, 2),
    }


async def test_unknown_permission_ids_are_400(client: Client, app: Litestar) -> None:
    await seed(app)
    response = await client.post(ROLES, json={"name": "Ghost", "permissionIds": [1, 999]}, headers=as_admin(app))
    assert response.status_code == 400
    assert response.json()["fieldErrors"] == {"permissionIds": ["unknown permission id(s): 999"]}


async def test_renaming_a_role_keeps_it_unique(client: Client, app: Litestar) -> None:
    await seed(app)
    admin = as_admin(app)
    moderator = await role_id(client, app, "moderator")
    clash = await client.patch(f"{ROLES}/{moderator}", json={"name": "User"}, headers=admin)
    assert clash.status_code == 409
    renamed = await client.patch(f"{ROLES}/{moderator}", json={"name": "Editor"}, headers=admin)
    assert data_of(renamed)["name"] == "Editor"


async def test_the_admin_role_keeps_every_permission(client: Client, app: Litestar) -> None:
    await seed(app)
    admin = as_admin(app)
    admin_role = await role_id(client, app, "admin")
    all_ids = await permission_ids(client, app, *ALL_PERMISSIONS)
    for kept in ([], all_ids[:-1]):
        response = await client.patch(f"{ROLES}/{admin_role}", json={"permissionIds": kept}, headers=admin)
        assert response.status_code == 409, response.text
        assert response.json()["message"] == "The admin role keeps every permission"
    role = data_of(await client.get(f"{ROLES}/{admin_role}", headers=admin))
    assert role["permissionsCount"] == 40
    unchanged = await client.patch(f"{ROLES}/{admin_role}", json={"permissionIds": all_ids}, headers=admin)
    assert unchanged.status_code == 200
    described = await client.patch(f"{ROLES}/{admin_role}", json={"description": "Runs the place"}, headers=admin)
    assert described.status_code == 200


async def test_the_default_role_cannot_be_deactivated_renamed_or_deleted(client: Client, app: Litestar) -> None:
    await seed(app)
    admin = as_admin(app)
    user_role = await role_id(client, app, "user")
    for change in ({"isActive": False}, {"name": "customer"}):
        response = await client.patch(f"{ROLES}/{user_role}", json=change, headers=admin)
        assert response.status_code == 409, response.text
    assert (await client.delete(f"{ROLES}/{user_role}", headers=admin)).status_code == 409
    assert (await client.patch(f"{ROLES}/{user_role}", json={"name": "USER"}, headers=admin)).status_code == 200
    registered = await client.post(
        "/api/v1/auth/register",
        json={"email": "fresh@example.com", "password": "Correct-Horse-42", "firstName": "Fre", "lastName": "Sh"},
    )
    assert registered.status_code == 201, registered.text
    assert [r["name"] for r in registered.json()["data"]["user"]["roles"]] == ["USER"]
