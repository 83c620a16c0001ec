"""The whole app on the Redis Streams transport (FREIGHTDESK_EVENT_TRANSPORT=redis), on both backends: the user
module's events reach the customer module through its stream and consumer group, and what the customer's
handlers give up on is listed and replayed by `freightdesk events`."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import httpx
import pytest
from click.testing import CliRunner
from litestar import Litestar
from sqlalchemy.ext.asyncio import AsyncSession

from bootstrap.app import create_app
from bootstrap.cli import main
from kernel.events.envelope import EventEnvelope
from kernel.events.redis_streams import RedisStreamsTransport
from kernel.settings import Settings
from modules.customer.internal.handlers import UserEventHandlers
from modules.user.events import UserCreated
from tests.conftest import data_of, http_client, running
from tests.customer.factories import customers_with_email, eventually
from tests.helpers import bearer, outbox_rows, runtime_of, token_for
from tests.user.factories import PASSWORD, seed

pytestmark = pytest.mark.redis


@pytest.fixture
def streams_environment(redis_environment: dict[str, str]) -> dict[str, str]:
    return {
        **redis_environment,
        "FREIGHTDESK_EVENT_TRANSPORT": "redis",
        "FREIGHTDESK_EVENTS_CLAIM_IDLE_MS": "300",
        "FREIGHTDESK_EVENTS_MAX_DELIVERIES": "2",
    }


@pytest.fixture
async def app_client(streams_environment: dict[str, str]) -> AsyncIterator[tuple[Litestar, httpx.AsyncClient]]:
    app = create_app(Settings.from_mapping(streams_environment))
    async with running(app), http_client(app) as client:
        client.headers.update(bearer(token_for(app)))
        yield app, client


def streams(app: Litestar) -> RedisStreamsTransport:
    transport = runtime_of(app).transport
    assert isinstance(transport, RedisStreamsTransport)
    return transport


async def register(client: httpx.AsyncClient, email: str) -> int:
    body = {"email": email, "password": PASSWORD, "firstName": "Stream", "lastName": "Reader"}
    response = await client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["data"]["user"]["id"])


async def user_created_id(app: Litestar, user_id: int) -> str:
    rows = [r for r in await outbox_rows(app, "user") if r.event_type == "user.created"]
    return str(next(r.event_id for r in rows if json.loads(r.payload)["userId"] == user_id))


async def until(condition: Callable[[], Awaitable[bool]], seconds: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what} not met within {seconds}s")


async def freightdesk(environment: dict[str, str], *args: str) -> str:
    """`freightdesk <args>` in a thread (it runs its own event loop), against the running app's databases."""
    result = await asyncio.to_thread(CliRunner().invoke, main, list(args), env=environment, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


async def test_a_registered_user_gets_a_customer_through_the_user_stream(
    app_client: tuple[Litestar, httpx.AsyncClient],
) -> None:
    app, client = app_client
    await seed(app)
    user_id = await register(client, "streamed@example.com")
    customer = await eventually(client, "streamed@example.com", user_id=user_id, seconds=5.0)
    assert (customer["firstName"], customer["lastName"]) == ("Stream", "Reader")

    rows = {(r.producer, r.group): r for r in await streams(app).lag()}
    user_to_customer = rows[("user", "customer")]
    assert user_to_customer.length >= 2  # the administrator's and the new user's user.created, at least
    assert (user_to_customer.lag, user_to_customer.pending) == (0, 0)
    assert ("user", "auth") in rows  # auth follows the user events in a group of its own

    health = data_of(await client.get("/api/v1/health"))["checks"]["eventBus"]
    assert (health["transport"], health["status"], health["deadLetters"]) == ("redis", "healthy", 0)


async def test_an_event_no_hosted_module_subscribes_to_still_goes_to_its_stream(
    app_client: tuple[Litestar, httpx.AsyncClient],
) -> None:
    """Another process may subscribe to any stream: on this transport every event is the relay's to carry."""
    app, client = app_client
    await seed(app)
    await register(client, "registered@example.com")  # auth.user_registered: no module here subscribes

    async def relayed() -> bool:
        rows = [r for r in await outbox_rows(app, "auth") if r.event_type == "auth.user_registered"]
        return bool(rows) and all(r.status == "published" and r.published_at > r.occurred_at for r in rows)

    await until(relayed, what="auth.user_registered relayed to its stream")
    entries = await streams(app).commands.xrange(streams(app).stream_key("auth"))
    assert b"auth.user_registered" in [fields[b"type"] for _, fields in entries]  # type: ignore[union-attr,index]


async def test_what_the_customer_module_gave_up_on_is_listed_replayed_and_counted_in_health(
    streams_environment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = True
    on_user_created = UserEventHandlers.on_user_created

    async def flaky_on_user_created(
        self: UserEventHandlers, session: AsyncSession, event: UserCreated, envelope: EventEnvelope
    ) -> None:
        if broken:
            raise RuntimeError("customer rules refused the user")
        await on_user_created(self, session, event, envelope)

    # the subscriptions are bound when the app is built: patch first
    monkeypatch.setattr(UserEventHandlers, "on_user_created", flaky_on_user_created)
    app = create_app(Settings.from_mapping(streams_environment))
    async with running(app), http_client(app) as client:
        client.headers.update(bearer(token_for(app)))
        await seed(app)
        user_id = await register(client, "poisoned@example.com")
        event_id = await user_created_id(app, user_id)
        await until(lambda: dead_letter_of(app, event_id), what="the dead letter")
        assert await customers_with_email(client, "poisoned@example.com") == []

        health = data_of(await client.get("/api/v1/health"))["checks"]["eventBus"]
        assert health["status"] == "degraded"
        assert health["deadLetters"] >= 1

        listing = await freightdesk(streams_environment, "events", "dead-letters")
        line = next(line for line in listing.splitlines() if event_id in line)
        assert line.split()[:3] == ["customer", event_id, "user.created"]
        assert "deliveries=2" in line
        assert "RuntimeError: customer rules refused the user" in line

        broken = False  # the cause is fixed
        replayed = await freightdesk(streams_environment, "events", "replay", "--module", "customer", event_id)
        assert "1 dead-letter stream event(s) delivered to customer" in replayed
        await eventually(client, "poisoned@example.com", user_id=user_id)
        assert not await dead_letter_of(app, event_id)
        assert event_id not in await freightdesk(streams_environment, "events", "dead-letters")


async def dead_letter_of(app: Litestar, event_id: str) -> bool:
    letters, _ = await streams(app).dead_letters(module="customer")
    return any(letter.event_id == event_id for letter in letters)


async def test_a_producer_publishes_its_events_since_a_time_again_from_its_outbox(
    app_client: tuple[Litestar, httpx.AsyncClient], streams_environment: dict[str, str]
) -> None:
    app, client = app_client
    await seed(app)
    since = datetime.now(UTC)
    user_id = await register(client, "again@example.com")
    await eventually(client, "again@example.com", user_id=user_id)
    recent = [r for r in await outbox_rows(app, "user") if r.occurred_at.replace(tzinfo=UTC) >= since]
    assert recent  # the new user's user.created (not the seeded administrator's)

    transport = streams(app)
    await transport.commands.delete(transport.stream_key("user"))  # as after a Redis that lost its data
    replayed = await freightdesk(
        streams_environment, "events", "replay", "--module", "user", "--published-since", since.isoformat()
    )
    assert replayed.splitlines()[0] == f"{len(recent)} event(s) queued again"
    await until(lambda: stream_holds(transport, "user", len(recent)), what="the events published again")
    await until(lambda: group_caught_up(transport, "user", "customer"), what="the customer group reading them")
    assert len(await customers_with_email(client, "again@example.com")) == 1  # handled once, skipped again


async def stream_holds(transport: RedisStreamsTransport, producer: str, length: int) -> bool:
    return int(await transport.commands.xlen(transport.stream_key(producer))) == length


async def group_caught_up(transport: RedisStreamsTransport, producer: str, group: str) -> bool:
    rows = {(r.producer, r.group): r for r in await transport.lag()}
    row = rows.get((producer, group))
    return row is not None and row.lag == 0 and row.pending == 0 and (row.entries_read or 0) > 0
