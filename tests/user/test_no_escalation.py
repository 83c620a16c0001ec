"""The no-escalation rule (docs/api.md §3.7, ADR 0007): no caller gives anyone, another account or itself, a
permission the caller does not hold, nor acts on an account more privileged than itself.

The route-table test reads every write route under /users, /roles and /profiles from the app itself, as
tests/integration/test_route_access.py does: a write route without a scenario here fails it, and each
scenario proves that a caller short of one permission the target or role requires is refused with nothing
changed, while the same caller holding it succeeds."""

from __future__ import annotations

import itertools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from sqlalchemy import select

from kernel.http.access import AUTHENTICATED_ONLY, access_of
from modules.user.internal.models import UserBase, outbox
from tests.conftest import data_of
from tests.helpers import bearer, runtime_of, token_for
from tests.user.factories import (
    ADMIN_ID,
    ALL_PERMISSIONS,
    PASSWORD,
    as_admin,
    create_user,
    role_id,
    seed,
    user_body,
    user_context,
)

Client = httpx.AsyncClient
API = "/api/v1"
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@example.com", "admin123"
GUARDED_PREFIXES = (f"{API}/users", f"{API}/roles", f"{API}/profiles")
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MISSING = "system.backup"
"""The one permission the refused caller lacks: the privileged role below holds it."""
VAULT = frozenset({MISSING, "content.publish"})
"""The permissions of the privileged role the scenarios act on or grant."""
CALLER = 987654
"""The id in the scenario callers' tokens: no account of its own, so never the target itself."""

_names = itertools.count(1)


# ---- reading and seeding


async def snapshot(app: Litestar) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the identity tables, and which events the outbox holds (the relay updates their status)."""
    outbox_table = outbox.record.__table__
    state: dict[str, list[tuple[Any, ...]]] = {}
    async with user_context(app).session_maker() as session:
        for table in UserBase.metadata.sorted_tables:
            if table is outbox_table:
                rows = (await session.execute(select(outbox_table.c.event_id))).all()
            else:
                rows = (await session.execute(select(table))).all()
            state[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return state


async def permission_ids(client: Client, app: Litestar, names: frozenset[str] | set[str]) -> list[int]:
    everything = data_of(await client.get(f"{API}/permissions", headers=as_admin(app)))
    found = [p["id"] for p in everything if p["name"] in names]
    assert len(found) == len(names), names
    return found


async def new_role(client: Client, app: Litestar, permissions: frozenset[str] | set[str]) -> dict[str, Any]:
    body = {"name": f"Role {next(_names)}", "permissionIds": await permission_ids(client, app, permissions)}
    response = await client.post(f"{API}/roles", json=body, headers=as_admin(app))
    assert response.status_code == 201, response.text
    return dict(data_of(response))


async def account(client: Client, app: Litestar, *role_ids: int) -> dict[str, Any]:
    return await create_user(client, app, **({"roleIds": list(role_ids)} if role_ids else {}))


async def login(client: Client, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post(f"{API}/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return bearer(response.json()["data"]["access_token"])


async def signed_in_with(client: Client, app: Litestar, permissions: set[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """A real account holding exactly `permissions` (through a role of its own), signed in through /auth/login."""
    role = await new_role(client, app, permissions)
    user = await account(client, app, role["id"])
    return user, await login(client, user["email"])


async def token_permissions(app: Litestar, headers: dict[str, str]) -> frozenset[str]:
    principal = await runtime_of(app).security.verifier.verify(headers["Authorization"].removeprefix("Bearer "))
    return principal.permissions


# ---- 1. the attack


async def test_users_update_and_read_cannot_take_over_the_admin(client: Client, app: Litestar) -> None:
    await seed(app)
    _, attacker = await signed_in_with(client, app, {"users.update", "users.read"})
    admin_before = data_of(await client.get(f"{API}/users/{ADMIN_ID}", headers=as_admin(app)))
    before = await snapshot(app)

    for body in ({"password": "Taken-Over-Pass-9"}, {"email": "attacker@example.com"}):
        response = await client.patch(f"{API}/users/{ADMIN_ID}", json=body, headers=attacker)
        assert response.status_code == 403, (body, response.text)
        assert response.json()["message"] == "Forbidden"

    assert await snapshot(app) == before
    admin_after = data_of(await client.get(f"{API}/users/{ADMIN_ID}", headers=as_admin(app)))
    assert admin_after["email"] == ADMIN_EMAIL
    assert admin_after["passwordChangedAt"] == admin_before["passwordChangedAt"]
    taken = await client.post(f"{API}/auth/login", json={"email": ADMIN_EMAIL, "password": "Taken-Over-Pass-9"})
    assert taken.status_code == 401
    await login(client, ADMIN_EMAIL, ADMIN_PASSWORD)


# ---- 2. what users.update still may do


async def test_users_update_alone_still_edits_a_less_privileged_account(client: Client, app: Litestar) -> None:
    await seed(app)
    _, editor = await signed_in_with(client, app, {"users.update"})
    plain = await account(client, app)  # the role `user`: what self-registration gives anyone
    assert [r["name"] for r in plain["roles"]] == ["user"]

    for body in (
        {"firstName": "Edited", "phone": "+44 20 7946 0958"},
        {"email": f"moved{plain['id']}@example.com"},
        {"password": "Reset-By-Desk-7"},
        {"isActive": False},
    ):
        response = await client.patch(f"{API}/users/{plain['id']}", json=body, headers=editor)
        assert response.status_code == 200, (body, response.text)
    profile = await client.post(f"{API}/profiles/{plain['id']}", json={"bio": "Edited"}, headers=editor)
    assert profile.status_code == 201, profile.text

    manager = await account(client, app, await role_id(client, app, "manager"))
    refused = await client.patch(f"{API}/users/{manager['id']}", json={"firstName": "Nope"}, headers=editor)
    assert refused.status_code == 403


async def test_self_service_is_unaffected(client: Client, app: Litestar) -> None:
    await seed(app)
    me, own = await signed_in_with(client, app, {"content.read"})
    response = await client.patch(
        f"{API}/users/{me['id']}",
        json={"firstName": "Myself", "password": "Second-Password-2", "currentPassword": PASSWORD},
        headers=own,
    )
    assert response.status_code == 200, response.text
    own = await login(client, me["email"], "Second-Password-2")
    assert (await client.post(f"{API}/profiles/me", json={"bio": "Mine"}, headers=own)).status_code == 201
    assert (await client.patch(f"{API}/profiles/{me['id']}", json={"bio": "Still"}, headers=own)).status_code == 200


# ---- 3. every write route, from the route table


@dataclass(frozen=True)
class Attempt:
    """One write on the route: `enough` is the route's own permission plus what the target or role needs."""

    enough: frozenset[str]
    params: dict[str, int] = field(default_factory=dict)
    body: dict[str, Any] | None = None


Scenario = Callable[[Client, Litestar], Awaitable[Attempt]]


async def _vault_holder(client: Client, app: Litestar) -> dict[str, Any]:
    return await account(client, app, (await new_role(client, app, VAULT))["id"])


async def create_user_with_privileged_role(client: Client, app: Litestar) -> Attempt:
    vault = await new_role(client, app, VAULT)
    return Attempt(VAULT | {"users.create"}, body=user_body(roleIds=[vault["id"]]))


async def set_privileged_password(client: Client, app: Litestar) -> Attempt:
    target = await _vault_holder(client, app)
    return Attempt(VAULT | {"users.update"}, {"id": target["id"]}, {"password": "Reset-By-Desk-7"})


async def change_privileged_email(client: Client, app: Litestar) -> Attempt:
    target = await _vault_holder(client, app)
    return Attempt(VAULT | {"users.update"}, {"id": target["id"]}, {"email": f"moved{target['id']}@example.com"})


async def deactivate_privileged(client: Client, app: Litestar) -> Attempt:
    target = await _vault_holder(client, app)
    return Attempt(VAULT | {"users.update"}, {"id": target["id"]}, {"isActive": False})


async def rename_privileged(client: Client, app: Litestar) -> Attempt:
    target = await _vault_holder(client, app)
    return Attempt(VAULT | {"users.update"}, {"id": target["id"]}, {"firstName": "Renamed"})


async def grant_privileged_role_in_patch(client: Client, app: Litestar) -> Attempt:
    target, vault = await account(client, app), await new_role(client, app, VAULT)
    return Attempt(VAULT | {"users.update", "roles.assign"}, {"id": target["id"]}, {"roleIds": [vault["id"]]})


async def grant_privileged_role(client: Client, app: Litestar) -> Attempt:
    target, vault = await account(client, app), await new_role(client, app, VAULT)
    return Attempt(VAULT | {"roles.assign"}, {"id": target["id"]}, {"roleIds": [vault["id"]]})


async def demote_privileged(client: Client, app: Litestar) -> Attempt:
    target = await _vault_holder(client, app)
    plain = await role_id(client, app, "user")
    return Attempt(VAULT | {"roles.assign"}, {"id": target["id"]}, {"roleIds": [plain]})


async def delete_privileged(client: Client, app: Litestar) -> Attempt:
    target = await _vault_holder(client, app)
    return Attempt(VAULT | {"users.delete"}, {"id": target["id"]})


async def create_privileged_role(client: Client, app: Litestar) -> Attempt:
    body = {"name": f"Role {next(_names)}", "permissionIds": await permission_ids(client, app, VAULT)}
    return Attempt(VAULT | {"roles.create"}, body=body)


async def add_permission_to_role(client: Client, app: Litestar) -> Attempt:
    role = await new_role(client, app, VAULT - {MISSING})
    body = {"permissionIds": await permission_ids(client, app, VAULT)}
    return Attempt(frozenset({MISSING, "roles.update"}), {"id": role["id"]}, body)


async def remove_permission_from_role(client: Client, app: Litestar) -> Attempt:
    role = await new_role(client, app, VAULT)
    body = {"permissionIds": await permission_ids(client, app, VAULT - {MISSING})}
    return Attempt(frozenset({MISSING, "roles.update"}), {"id": role["id"]}, body)


async def deactivate_privileged_role(client: Client, app: Litestar) -> Attempt:
    role = await new_role(client, app, VAULT)
    await account(client, app, role["id"])
    return Attempt(VAULT | {"roles.update"}, {"id": role["id"]}, {"isActive": False})


async def delete_privileged_role(client: Client, app: Litestar) -> Attempt:
    role = await new_role(client, app, VAULT)
    return Attempt(VAULT | {"roles.delete"}, {"id": role["id"]})


async def create_privileged_profile(client: Client, app: Litestar) -> Attempt:
    target = await _vault_holder(client, app)
    return Attempt(VAULT | {"users.update"}, {"user_id": target["id"]}, {"bio": "Written by the desk"})


async def _vault_holder_with_profile(client: Client, app: Litestar) -> dict[str, Any]:
    target = await _vault_holder(client, app)
    created = await client.post(f"{API}/profiles/{target['id']}", json={"bio": "Own"}, headers=as_admin(app))
    assert created.status_code == 201, created.text
    return target


async def change_privileged_profile(client: Client, app: Litestar) -> Attempt:
    target = await _vault_holder_with_profile(client, app)
    return Attempt(VAULT | {"users.update"}, {"user_id": target["id"]}, {"bio": "Changed by the desk"})


async def delete_privileged_profile(client: Client, app: Litestar) -> Attempt:
    target = await _vault_holder_with_profile(client, app)
    return Attempt(VAULT | {"users.update"}, {"user_id": target["id"]})


ROLE_CHANGES = [add_permission_to_role, remove_permission_from_role, deactivate_privileged_role]
SCENARIOS: dict[str, list[Scenario]] = {
    "POST /api/v1/users": [create_user_with_privileged_role],
    "PATCH /api/v1/users/{id:int}": [
        set_privileged_password,
        change_privileged_email,
        deactivate_privileged,
        rename_privileged,
        grant_privileged_role_in_patch,
    ],
    "PATCH /api/v1/users/{id:int}/roles": [grant_privileged_role, demote_privileged],
    "DELETE /api/v1/users/{id:int}": [delete_privileged],
    "POST /api/v1/roles": [create_privileged_role],
    "PATCH /api/v1/roles/{id:int}": ROLE_CHANGES,
    "PUT /api/v1/roles/{id:int}": ROLE_CHANGES,
    "DELETE /api/v1/roles/{id:int}": [delete_privileged_role],
    "POST /api/v1/profiles/{user_id:int}": [create_privileged_profile],
    "PATCH /api/v1/profiles/{user_id:int}": [change_privileged_profile],
    "DELETE /api/v1/profiles/{user_id:int}": [delete_privileged_profile],
}
SELF_ONLY = {"POST /api/v1/profiles/me", "PATCH /api/v1/profiles/me", "DELETE /api/v1/profiles/me"}
"""Routes on the caller's own account only: they name no other account and grant no permission."""


def write_routes(app: Litestar) -> dict[str, tuple[str, str, str]]:
    """`"METHOD path"` → (method, path, declared access) for every write route under the guarded prefixes."""
    routes = {}
    for route in app.routes:
        if not route.path.startswith(GUARDED_PREFIXES):
            continue
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler):
                continue
            for method in sorted(handler.http_methods & WRITES):
                decision = access_of(handler)
                assert decision is not None, route.path
                routes[f"{method} {route.path}"] = (method, route.path, decision)
    return routes


def fill(path: str, params: dict[str, int]) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: str(params[m.group(1)]), path)


async def test_every_write_route_refuses_a_caller_short_of_one_permission(client: Client, app: Litestar) -> None:
    await seed(app)
    routes = write_routes(app)
    unchecked = sorted(set(routes) - set(SCENARIOS) - SELF_ONLY)
    assert not unchecked, f"write routes with no no-escalation scenario: {unchecked}"
    assert not (set(SCENARIOS) | SELF_ONLY) - set(routes), "scenarios for routes the app no longer has"
    for key in SELF_ONLY:
        assert "{" not in routes[key][1], f"{key} names an account: it needs scenarios"

    checked = []
    for key in sorted(set(routes) - SELF_ONLY):
        method, path, decision = routes[key]
        for scenario in SCENARIOS[key]:
            attempt = await scenario(client, app)
            case = (key, scenario.__name__)
            assert MISSING in attempt.enough, case
            if decision != AUTHENTICATED_ONLY:
                assert decision in attempt.enough, case  # the refused caller holds the route's own permission
            url = fill(path, attempt.params)
            short = bearer(token_for(app, permissions=sorted(attempt.enough - {MISSING}), user_id=CALLER))
            before = await snapshot(app)

            refused = await client.request(method, url, json=attempt.body, headers=short)

            assert refused.status_code == 403, (*case, refused.status_code, refused.text)
            assert refused.json()["message"] == "Forbidden", (case, refused.text)
            assert await snapshot(app) == before, f"{case}: a refused write changed the database"
            enough = bearer(token_for(app, permissions=sorted(attempt.enough), user_id=CALLER))
            allowed = await client.request(method, url, json=attempt.body, headers=enough)
            assert allowed.status_code in {200, 201, 204}, (case, allowed.status_code, allowed.text)
            checked.append(case)
    assert len(checked) >= len(routes) - len(SELF_ONLY)


# ---- 4. no combination short of admin's reaches a permission it did not have


async def test_role_and_user_powers_together_cannot_raise_the_caller(client: Client, app: Litestar) -> None:
    await seed(app)
    admin_role = await role_id(client, app, "admin")
    powers = {"roles.update", "roles.assign", "users.update", "users.create", "users.read", "roles.read"}
    me, own = await signed_in_with(client, app, powers)
    my_role = me["roles"][0]["id"]
    held = await token_permissions(app, own)
    assert held == powers
    before = await snapshot(app)

    attempts: list[tuple[str, str, dict[str, Any]]] = [
        ("PATCH", f"/roles/{my_role}", {"permissionIds": await permission_ids(client, app, powers | {MISSING})}),
        ("PUT", f"/roles/{my_role}", {"permissionIds": await permission_ids(client, app, set(ALL_PERMISSIONS))}),
        ("PATCH", f"/users/{me['id']}/roles", {"roleIds": [admin_role]}),
        ("PATCH", f"/users/{me['id']}/roles", {"roleIds": [my_role, admin_role]}),
        ("PATCH", f"/users/{me['id']}", {"roleIds": [admin_role]}),
        ("POST", "/users", user_body(roleIds=[admin_role])),
        ("POST", "/users", user_body(roleIds=[admin_role, 999_999])),  # 403 before naming the unknown id
        ("PATCH", f"/users/{ADMIN_ID}", {"password": "Taken-Over-Pass-9"}),
        ("PATCH", f"/users/{ADMIN_ID}", {"roleIds": [my_role]}),
    ]
    for method, path, body in attempts:
        response = await client.request(method, f"{API}{path}", json=body, headers=own)
        assert response.status_code == 403, (method, path, body, response.text)
    assert await snapshot(app) == before
    assert await token_permissions(app, await login(client, me["email"])) == held


async def test_every_permission_but_one_is_still_short_of_admin(client: Client, app: Litestar) -> None:
    await seed(app)
    admin_role = await role_id(client, app, "admin")
    almost = set(ALL_PERMISSIONS) - {MISSING}
    me, own = await signed_in_with(client, app, almost)
    my_role = me["roles"][0]["id"]
    before = await snapshot(app)

    attempts: list[tuple[str, str, dict[str, Any] | None]] = [
        ("PATCH", f"/roles/{my_role}", {"permissionIds": await permission_ids(client, app, set(ALL_PERMISSIONS))}),
        ("POST", "/roles", {"name": "Backdoor", "permissionIds": await permission_ids(client, app, {MISSING})}),
        ("PATCH", f"/users/{me['id']}/roles", {"roleIds": [admin_role]}),
        ("POST", "/users", user_body(roleIds=[admin_role])),
        ("PATCH", f"/users/{ADMIN_ID}", {"email": "attacker@example.com"}),
        ("PATCH", f"/users/{ADMIN_ID}", {"isActive": False}),
        ("DELETE", f"/users/{ADMIN_ID}", None),
        ("POST", f"/profiles/{ADMIN_ID}", {"bio": "Owned"}),
        ("DELETE", f"/roles/{admin_role}", None),
    ]
    for method, path, body in attempts:
        response = await client.request(method, f"{API}{path}", json=body, headers=own)
        assert response.status_code == 403, (method, path, body, response.text)
    assert await snapshot(app) == before
    assert await token_permissions(app, await login(client, me["email"])) == almost


async def test_a_held_or_dormant_role_is_not_a_way_up(client: Client, app: Litestar) -> None:
    """Reactivating a role gives its holders its permissions, and a role the caller holds itself is edited
    only by a caller holding all of it."""
    await seed(app)
    powers = {"roles.update", "content.read"}
    me, own = await signed_in_with(client, app, powers)
    dormant = await new_role(client, app, {MISSING, "content.read"})
    assigned = await client.patch(
        f"{API}/users/{me['id']}/roles", json={"roleIds": [me["roles"][0]["id"], dormant["id"]]}, headers=as_admin(app)
    )
    assert assigned.status_code == 200, assigned.text
    off = await client.patch(f"{API}/roles/{dormant['id']}", json={"isActive": False}, headers=as_admin(app))
    assert off.status_code == 200, off.text
    own = await login(client, me["email"])
    assert await token_permissions(app, own) == powers
    before = await snapshot(app)

    reactivate = await client.patch(f"{API}/roles/{dormant['id']}", json={"isActive": True}, headers=own)
    assert reactivate.status_code == 403, reactivate.text
    # Removing content.read (held) from a role the caller holds, which also holds one the caller does not.
    only_missing = {"permissionIds": await permission_ids(client, app, {MISSING})}
    trimmed = await client.patch(f"{API}/roles/{dormant['id']}", json=only_missing, headers=own)
    assert trimmed.status_code == 403, trimmed.text
    assert await snapshot(app) == before

    # The same change on a role the caller does not hold is within its permissions.
    other = await new_role(client, app, {MISSING, "content.read"})
    allowed = await client.patch(f"{API}/roles/{other['id']}", json=only_missing, headers=own)
    assert allowed.status_code == 200, allowed.text


async def test_the_admin_changes_anything(client: Client, app: Litestar) -> None:
    """Holding every permission, the administrator is refused nothing by the rule."""
    await seed(app)
    admin = await login(client, ADMIN_EMAIL, ADMIN_PASSWORD)
    other_admin = await account(client, app, await role_id(client, app, "admin"))
    for body in ({"firstName": "Second"}, {"password": "Reset-By-Admin-7"}, {"isActive": False}):
        response = await client.patch(f"{API}/users/{other_admin['id']}", json=body, headers=admin)
        assert response.status_code == 200, (body, response.text)
    assert (await client.delete(f"{API}/users/{other_admin['id']}", headers=admin)).status_code == 204
