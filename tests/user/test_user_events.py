"""User writes publish their events through the outbox, in the same transaction, with no secrets."""

from __future__ import annotations

import json

import httpx
from litestar import Litestar

from tests.conftest import SECRET_MARKERS
from tests.helpers import outbox_rows
from tests.user.factories import PASSWORD, as_admin, create_user, role_id, seed

BASE = "/api/v1/users"


async def test_each_user_write_leaves_its_event(client: httpx.AsyncClient, app: Litestar) -> None:
    await seed(app)
    admin = as_admin(app)
    moderator = await role_id(client, app, "moderator")
    start = len(await outbox_rows(app, "user"))
    user = await create_user(client, app, email="events@example.com", firstName="Eve", lastName="Ent")
    uid = user["id"]
    await client.patch(f"{BASE}/{uid}", json={"lastName": "Changed", "password": "Second-Password-2"}, headers=admin)
    await client.patch(f"{BASE}/{uid}/roles", json={"roleIds": [moderator]}, headers=admin)
    await client.patch(f"{BASE}/{uid}", json={"isActive": False}, headers=admin)
    await client.patch(f"{BASE}/{uid}", json={"firstName": "Eve"}, headers=admin)  # no change, no event
    await client.delete(f"{BASE}/{uid}", headers=admin)

    rows = (await outbox_rows(app, "user"))[start:]
    assert [r.event_type for r in rows] == [
        "user.created",
        "user.updated",
        "user.roles_changed",
        "user.updated",
        "user.deactivated",
        "user.deleted",
    ]
    payloads = [json.loads(r.payload) for r in rows]
    assert payloads[0] == {
        "userId": uid,
        "email": "events@example.com",
        "firstName": "Eve",
        "lastName": "Ent",
        "roles": ["user"],
    }
    assert payloads[1] == {"userId": uid, "changes": ["lastName", "password"]}
    assert payloads[2] == {"userId": uid, "roles": ["moderator"]}
    assert payloads[3] == {"userId": uid, "changes": ["isActive"]}
    assert payloads[4] == {"userId": uid}
    assert payloads[5] == {"userId": uid, "email": "events@example.com"}
    for row in rows:
        for marker in (*SECRET_MARKERS, PASSWORD):
            assert marker not in row.payload


async def test_a_rejected_write_leaves_no_event(client: httpx.AsyncClient, app: Litestar) -> None:
    await seed(app)
    await create_user(client, app, email="dup@example.com")
    before = len(await outbox_rows(app, "user"))
    response = await client.post(BASE, json={"email": "dup@example.com"}, headers=as_admin(app))
    assert response.status_code == 400
    assert len(await outbox_rows(app, "user")) == before
