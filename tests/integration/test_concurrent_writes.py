"""Simultaneous writes to one row take turns (kernel.db.locking): no 500, no lost rule, no duplicate event.

Each test fires its requests at once through the app's own HTTP interface; on MariaDB they run on separate
connections and really overlap, on SQLite they queue for the database's write lock.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
from litestar import Litestar

from tests.carrier.factories import carrier_body
from tests.conftest import data_of
from tests.helpers import bearer, outbox_rows
from tests.user.factories import ADMIN_ID, ALL_PERMISSIONS, as_admin, create_user, role_id, seed, token

Client = httpx.AsyncClient


async def at_once(*requests: Any) -> Counter[int]:
    responses = await asyncio.gather(*requests)
    return Counter(response.status_code for response in responses)


async def test_twenty_deletes_of_one_carrier_delete_it_once(client: Client, app: Litestar) -> None:
    created = data_of(await client.post("/api/v1/carriers", json=carrier_body()))

    statuses = await at_once(*(client.delete(f"/api/v1/carriers/{created['id']}") for _ in range(20)))

    assert statuses == Counter({204: 1, 404: 19})
    deleted = [row for row in await outbox_rows(app, "carrier") if row.event_type == "carrier.deleted"]
    assert len(deleted) == 1


async def test_simultaneous_role_replacements_all_succeed(client: Client, app: Litestar) -> None:
    await seed(app)
    user = await create_user(client, app)
    sets = [[await role_id(client, app, "moderator")], [await role_id(client, app, "manager")]]
    sets.append(sets[0] + sets[1])

    statuses = await at_once(
        *(
            client.patch(f"/api/v1/users/{user['id']}/roles", json={"roleIds": sets[i % 3]}, headers=as_admin(app))
            for i in range(12)
        )
    )
    also_via_patch = await at_once(
        *(
            client.patch(f"/api/v1/users/{user['id']}", json={"roleIds": sets[i % 3]}, headers=as_admin(app))
            for i in range(12)
        )
    )

    assert statuses == Counter({200: 12})
    assert also_via_patch == Counter({200: 12})


async def test_simultaneous_permission_replacements_of_a_role_all_succeed(client: Client, app: Litestar) -> None:
    await seed(app)
    moderator = await role_id(client, app, "moderator")
    permissions = data_of(await client.get("/api/v1/permissions", headers=as_admin(app)))
    ids = [p["id"] for p in permissions]

    statuses = await at_once(
        *(
            client.patch(f"/api/v1/roles/{moderator}", json={"permissionIds": ids[i : i + 3]}, headers=as_admin(app))
            for i in range(12)
        )
    )

    assert statuses == Counter({200: 12})


async def test_two_administrators_removing_each_other_leave_one(client: Client, app: Litestar) -> None:
    await seed(app)
    admin_role = await role_id(client, app, "admin")
    other = await create_user(client, app, roleIds=[admin_role])
    first_admin = bearer(token(app, ADMIN_ID, ALL_PERMISSIONS))
    second_admin = bearer(token(app, other["id"], ALL_PERMISSIONS))

    statuses = await at_once(
        client.patch(f"/api/v1/users/{other['id']}", json={"isActive": False}, headers=first_admin),
        client.patch(f"/api/v1/users/{ADMIN_ID}", json={"isActive": False}, headers=second_admin),
    )

    assert statuses == Counter({200: 1, 409: 1})
    admins = data_of(await client.get("/api/v1/users/role/admin", headers=as_admin(app)))
    assert sum(1 for user in admins if user["isActive"]) == 1


async def test_two_administrators_deleting_each_other_leave_one(client: Client, app: Litestar) -> None:
    await seed(app)
    admin_role = await role_id(client, app, "admin")
    other = await create_user(client, app, roleIds=[admin_role])

    statuses = await at_once(
        client.delete(f"/api/v1/users/{other['id']}", headers=bearer(token(app, ADMIN_ID, ALL_PERMISSIONS))),
        client.delete(f"/api/v1/users/{ADMIN_ID}", headers=bearer(token(app, other["id"], ALL_PERMISSIONS))),
    )

    assert statuses == Counter({204: 1, 409: 1})
