"""Customers follow users through the user module's events (docs/api.md §5): one customer profile per user,
created or linked by email when the user is created, however often the event arrives and however a manual
`POST /customers` races it; names and email follow the user; a deleted user leaves the customer unlinked."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import delete

from kernel.events.envelope import EventEnvelope
from kernel.events.outbox import envelope_of
from kernel.events.transport import BoundSubscription, Subscription, deliver_once
from modules.customer.internal.handlers import UserEventHandlers
from modules.customer.internal.models import Customer
from modules.user.events import UserCreated
from tests.conftest import data_of
from tests.customer.factories import BASE, create_customer, customer_body, customers_with_email, eventually
from tests.helpers import count_rows, outbox_rows, runtime_of
from tests.user.factories import PASSWORD, as_admin, create_user, seed

USERS = "/api/v1/users"


async def register(client: httpx.AsyncClient, email: str, **names: str) -> int:
    body = {"email": email, "password": PASSWORD, "firstName": "Reg", "lastName": "Istered", **names}
    response = await client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["data"]["user"]["id"])


def user_created_subscription(app: Litestar) -> Subscription:
    subscriptions = runtime_of(app).module("customer").assembled.subscriptions
    return next(s for s in subscriptions if s.event is UserCreated)


async def user_created_envelope(app: Litestar, user_id: int) -> EventEnvelope:
    rows = [r for r in await outbox_rows(app, "user") if r.event_type == "user.created"]
    row = next(r for r in rows if json.loads(r.payload)["userId"] == user_id)
    return envelope_of(row)


async def run_handler_directly(app: Litestar, envelope: EventEnvelope) -> None:
    """The handler itself, outside the inbox (as after a lost inbox row): its own checks must hold."""
    subscription = user_created_subscription(app)
    async with runtime_of(app).module("customer").context.session_maker() as session:
        await subscription.handler(session, envelope.open(UserCreated), envelope)
        await session.commit()


async def test_a_registered_user_gets_exactly_one_customer_within_two_seconds(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    await seed(app)
    user_id = await register(client, "New.Comer@Example.com", firstName="New", lastName="Comer")
    customer = await eventually(client, "new.comer@example.com", user_id=user_id, seconds=2.0)
    assert (customer["firstName"], customer["lastName"], customer["isActive"]) == ("New", "Comer", True)
    assert customer["customerType"] is None
    events = [r for r in await outbox_rows(app, "customer") if json.loads(r.payload).get("userId") == user_id]
    assert [r.event_type for r in events] == ["customer.created"]


async def test_a_user_created_by_an_administrator_gets_a_customer_too(client: httpx.AsyncClient, app: Litestar) -> None:
    await seed(app)
    user = await create_user(client, app, email="staff@example.com", phone="+44 20 7946 0958")
    customer = await eventually(client, "staff@example.com", user_id=user["id"])
    assert customer["phone"] == "+44 20 7946 0958"
    admin = await eventually(client, "admin@example.com", user_id=1)  # the seeded administrator's
    assert admin["fullName"] == "System Administrator"


async def test_the_same_user_created_delivered_again_changes_nothing(client: httpx.AsyncClient, app: Litestar) -> None:
    await seed(app)
    user_id = await register(client, "twice@example.com")
    await eventually(client, "twice@example.com", user_id=user_id)
    envelope = await user_created_envelope(app, user_id)
    transport = runtime_of(app).transport
    events_before = len(await outbox_rows(app, "customer"))

    await transport.publish(envelope)  # redelivered through the transport: the inbox has seen it
    await transport.publish(envelope)
    await run_handler_directly(app, envelope)  # and past the inbox: the handler finds the customer linked
    await run_handler_directly(app, envelope)

    assert len(await customers_with_email(client, "twice@example.com")) == 1
    assert len(await outbox_rows(app, "customer")) == events_before


async def test_concurrent_first_deliveries_of_one_event_make_one_customer(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    """Several relays (replicas) hand over the same event at once: one delivery runs the handler."""
    await seed(app)
    user_id = await register(client, "parallel@example.com")
    await eventually(client, "parallel@example.com", user_id=user_id)
    customer = data_of(await client.get(f"{BASE}/email/parallel@example.com"))
    assert (await client.delete(f"{BASE}/{customer['id']}")).status_code == 204  # start over, by hand
    hosted = runtime_of(app).module("customer")
    inbox = hosted.descriptor.database.inbox
    assert inbox is not None
    bound = BoundSubscription("customer", user_created_subscription(app), hosted.context.session_maker, inbox)
    envelope = await user_created_envelope(app, user_id)
    async with hosted.context.session_maker() as session:
        await session.execute(delete(inbox.record).where(inbox.record.event_id == envelope.id))
        await session.commit()

    delivered = await asyncio.gather(*(deliver_once(bound, envelope) for _ in range(5)))
    assert sorted(delivered) == [False] * 4 + [True]
    found = await customers_with_email(client, "parallel@example.com")
    assert [c["userId"] for c in found] == [user_id]


async def test_a_customer_created_by_hand_first_is_linked_not_duplicated(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    await seed(app)
    manual = await create_customer(client, email="early.bird@example.com", firstName="Early", lastName="Bird")
    user_id = await register(client, "Early.Bird@example.com", firstName="Someone", lastName="Else")
    linked = await eventually(client, "early.bird@example.com", user_id=user_id)
    assert linked["id"] == manual["id"]
    assert (linked["firstName"], linked["lastName"]) == ("Early", "Bird")  # linked as it was
    rows = [r for r in await outbox_rows(app, "customer") if json.loads(r.payload)["customerId"] == manual["id"]]
    assert [(r.event_type, json.loads(r.payload).get("changes")) for r in rows] == [
        ("customer.created", None),
        ("customer.updated", ["userId"]),
    ]


async def test_a_manual_create_racing_the_event_leaves_one_customer(client: httpx.AsyncClient, app: Litestar) -> None:
    await seed(app)
    emails = [f"racer{i}@example.com" for i in range(6)]

    async def manual(email: str) -> int:
        return (await client.post(BASE, json=customer_body(email=email))).status_code

    results = await asyncio.gather(*(register(client, email) for email in emails), *(manual(e) for e in emails))
    user_ids, statuses = results[: len(emails)], results[len(emails) :]
    assert set(statuses) <= {201, 409}
    for email, user_id in zip(emails, user_ids, strict=True):
        await eventually(client, email, user_id=user_id)  # exactly one, and it is the user's


async def test_the_handler_that_loses_the_race_links_the_winner_s_customer(
    client: httpx.AsyncClient, app: Litestar, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A manual create commits between the handler's look-up and its insert: the insert fails on the email
    key, and the handler links the customer that won instead of failing or duplicating it."""
    await seed(app)
    user_id = await register(client, "loser@example.com")
    await eventually(client, "loser@example.com", user_id=user_id)
    customer = data_of(await client.get(f"{BASE}/email/loser@example.com"))
    await client.delete(f"{BASE}/{customer['id']}")
    session_maker = runtime_of(app).module("customer").context.session_maker
    original = UserEventHandlers._link_by_email
    calls: list[int] = []

    async def look_up_then_lose(self: UserEventHandlers, service: Any, user: Any) -> bool:
        calls.append(1)
        looked = await original(self, service, user)
        if len(calls) == 1:
            assert looked is False
            winner = Customer(email="loser@example.com", first_name="Won", last_name="First", is_active=True)
            if backend == "mysql":  # a real concurrent writer, committed in its own transaction
                async with session_maker() as other:
                    other.add(winner)
                    await other.commit()
            else:  # SQLite runs one writer at a time: play the winner inside the handler's transaction
                service.session.add(winner)
                await service.session.flush()
        return looked

    monkeypatch.setattr(UserEventHandlers, "_link_by_email", look_up_then_lose)
    await run_handler_directly(app, await user_created_envelope(app, user_id))
    assert len(calls) == 2
    found = await customers_with_email(client, "loser@example.com")
    assert [(c["userId"], c["firstName"]) for c in found] == [(user_id, "Won")]


async def test_a_customer_by_hand_for_a_user_who_has_one_is_409(client: httpx.AsyncClient, app: Litestar) -> None:
    await seed(app)
    user = await create_user(client, app, email="has.one@example.com")
    own = await eventually(client, "has.one@example.com", user_id=user["id"])
    second = await client.post(BASE, json=customer_body(userId=user["id"]))
    assert (second.status_code, second.json()["message"]) == (409, "User already has a customer")
    other = await create_customer(client)
    moved = await client.patch(f"{BASE}/{other['id']}", json={"userId": user["id"]})
    assert moved.status_code == 409
    assert (await client.delete(f"{BASE}/{own['id']}")).status_code == 204
    relinked = data_of(await client.patch(f"{BASE}/{other['id']}", json={"userId": user["id"]}))
    assert relinked["userId"] == user["id"]
    assert data_of(await client.patch(f"{BASE}/{other['id']}", json={"userId": None}))["userId"] is None


async def test_user_updates_carry_email_and_names_to_the_linked_customer(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    await seed(app)
    user = await create_user(client, app, email="mover@example.com", firstName="Mo", lastName="Ver")
    customer = await eventually(client, "mover@example.com", user_id=user["id"])
    await client.patch(f"{BASE}/{customer['id']}", json={"lastName": "Customer Own"})
    response = await client.patch(
        f"{USERS}/{user['id']}", json={"email": "Moved@Example.com", "firstName": "Moe"}, headers=as_admin(app)
    )
    assert response.status_code == 200, response.text
    followed = await eventually(client, "moved@example.com", user_id=user["id"])
    assert followed["id"] == customer["id"]
    assert (followed["firstName"], followed["lastName"]) == ("Moe", "Customer Own")  # lastName did not change
    await client.patch(f"{USERS}/{user['id']}", json={"lastName": "Verr"}, headers=as_admin(app))
    for _ in range(100):
        current = data_of(await client.get(f"{BASE}/{customer['id']}"))
        if current["lastName"] == "Verr":
            break
        await asyncio.sleep(0.02)
    assert current["lastName"] == "Verr"
    assert await customers_with_email(client, "mover@example.com") == []


async def test_a_user_s_new_email_taken_by_another_customer_leaves_the_email(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    await seed(app)
    user = await create_user(client, app, email="first@example.com", firstName="Fir", lastName="St")
    customer = await eventually(client, "first@example.com", user_id=user["id"])
    await create_customer(client, email="second@example.com")
    await client.patch(
        f"{USERS}/{user['id']}", json={"email": "second@example.com", "firstName": "Sec"}, headers=as_admin(app)
    )
    for _ in range(100):
        current = data_of(await client.get(f"{BASE}/{customer['id']}"))
        if current["firstName"] == "Sec":
            break
        await asyncio.sleep(0.02)
    assert (current["firstName"], current["email"]) == ("Sec", "first@example.com")
    assert len(await customers_with_email(client, "second@example.com")) == 1


async def test_a_deleted_user_leaves_the_customer_unlinked(client: httpx.AsyncClient, app: Litestar) -> None:
    await seed(app)
    user = await create_user(client, app, email="leaving@example.com")
    customer = await eventually(client, "leaving@example.com", user_id=user["id"])
    assert (await client.delete(f"{USERS}/{user['id']}", headers=as_admin(app))).status_code == 204
    unlinked = await eventually(client, "leaving@example.com", user_id=None)
    assert unlinked["id"] == customer["id"]
    assert await count_rows(app, "customer", "customers") == 2  # the administrator's and this one
    last = (await outbox_rows(app, "customer"))[-1]
    assert (last.event_type, json.loads(last.payload)) == (
        "customer.updated",
        {"customerId": customer["id"], "changes": ["userId"]},
    )


async def test_a_user_id_must_name_an_existing_user(client: httpx.AsyncClient, app: Litestar) -> None:
    await seed(app)
    user = await create_user(client, app, email="owner@example.com")
    own = await eventually(client, "owner@example.com", user_id=user["id"])
    await client.delete(f"{BASE}/{own['id']}")
    linked = await create_customer(client, email="linked.by.hand@example.com", userId=user["id"])
    assert linked["userId"] == user["id"]
    gone = await client.post(BASE, json=customer_body(userId=user["id"] + 1000))
    assert gone.json()["fieldErrors"] == {"userId": ["must be the id of an existing user"]}
