"""Events whose handler fails, seen from outside: retried with backoff, then a dead letter that health and
`freightdesk events dead-letters` show, and that `freightdesk events replay` delivers once the cause is fixed.
Also: a producer's change and its outbox row are committed together or not at all.

The failures are real ones, not a stand-in for the relay: the customer module's `customers` table is renamed
away, so its handler of `user.created` fails in its own database as it would on a broken installation, and
the carrier module's outbox table is renamed away, so a carrier cannot be written with its event.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from litestar import Litestar
from sqlalchemy import text

from bootstrap.app import create_app
from bootstrap.cli import main as cli
from kernel.events.outbox import DEAD, PUBLISHED, envelope_of
from kernel.settings import Settings
from tests.carrier.factories import carrier_body
from tests.conftest import data_of, http_client, running
from tests.customer.factories import customers_with_email, eventually
from tests.helpers import bearer, count_rows, outbox_rows, runtime_of, token_for
from tests.user.factories import ALL_PERMISSIONS, create_user, seed

MAX_ATTEMPTS = 3
HEALTH = "/api/v1/health"
CARRIERS = "/api/v1/carriers"


@pytest.fixture
def cli_environment(environment: dict[str, str]) -> dict[str, str]:
    """The settings of the app under test, which the `freightdesk` commands are given too."""
    return {**environment, "FREIGHTDESK_EVENT_MAX_ATTEMPTS": str(MAX_ATTEMPTS)}


@pytest.fixture
def app(cli_environment: dict[str, str]) -> Litestar:
    return create_app(Settings.from_mapping(cli_environment))


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with running(app), http_client(app) as test_client:
        test_client.headers.update(bearer(token_for(app, permissions=ALL_PERMISSIONS)))
        yield test_client


async def freightdesk(environment: dict[str, str], *arguments: str) -> str:
    """`freightdesk <arguments>` against the app's databases while the app keeps serving; its output.

    The command runs in a thread of this process (with its own event loop, engines and settings read from
    `environment`), which spares a test the seconds a new interpreter takes to import everything."""
    unset: dict[str, str | None] = {k: None for k in os.environ if k.endswith("_DATABASE_URL") or k == "REDIS_URL"}
    result = await asyncio.to_thread(CliRunner().invoke, cli, list(arguments), env={**unset, **environment})
    assert result.exit_code == 0, (arguments, result.output, result.exception)
    return result.output


async def rename_table(app: Litestar, module: str, old: str, new: str) -> None:
    async with runtime_of(app).module(module).context.session_maker() as session:
        await session.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))
        await session.commit()


async def settled(app: Litestar, module: str, seconds: float = 10.0) -> list[Any]:
    """The module's outbox once no row is pending any more."""
    rows: list[Any] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        rows = await outbox_rows(app, module)
        if all(row.status in (PUBLISHED, DEAD) for row in rows):
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError(f"{module} outbox still pending after {seconds}s: {[(r.event_type, r.status) for r in rows]}")


async def user_created_row(app: Litestar, user_id: int) -> Any:
    rows = [r for r in await outbox_rows(app, "user") if r.event_type == "user.created"]
    return next(r for r in rows if json.loads(r.payload)["userId"] == user_id)


async def inbox_entries(app: Litestar, event_id: str) -> list[str]:
    """The handlers the customer module has recorded as done for the event."""
    async with runtime_of(app).module("customer").context.session_maker() as session:
        statement = text("SELECT handler FROM customer_event_inbox WHERE event_id = :event_id")
        return list((await session.scalars(statement, {"event_id": event_id})).all())


async def event_bus(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get(HEALTH)
    assert response.status_code == 200, response.text
    health = data_of(response)
    assert health["modules"]["user"]["checks"]["outbox"]["deadLetters"] == health["checks"]["eventBus"]["deadLetters"]
    return {"status": health["status"], **health["checks"]["eventBus"]}


async def test_a_failing_handler_is_retried_then_dead_lettered_shown_replayed_and_applied(
    client: httpx.AsyncClient, app: Litestar, cli_environment: dict[str, str]
) -> None:
    await seed(app)
    await settled(app, "user")  # the administrator's user.created has reached the customer module
    assert (await event_bus(client))["deadLetters"] == 0

    await rename_table(app, "customer", "customers", "customers_away")
    started = time.monotonic()
    user = await create_user(client, app, email="stranded@example.com")  # the user module is not affected
    await settled(app, "user", seconds=30.0)
    took = time.monotonic() - started

    row = await user_created_row(app, user["id"])
    assert row.status == DEAD
    assert row.attempts == MAX_ATTEMPTS
    assert "modules.customer.internal.handlers.UserEventHandlers.on_user_created" in row.last_error
    assert "customers" in row.last_error  # the handler's own failure: its table is missing
    assert took >= 1.0 + 2.0  # two retries, after 1 s and after 2 s

    bus = await event_bus(client)
    assert (bus["deadLetters"], bus["status"], bus["outboxBacklog"]) == (1, "degraded", 0)
    assert (await event_bus(client))["deadLetters"] == 1
    listed = await freightdesk(cli_environment, "events", "dead-letters")
    [line] = [line for line in listed.splitlines() if row.event_id in line]
    assert line.split()[:3] == ["user", row.event_id, "user.created"]
    assert f"attempts={MAX_ATTEMPTS}" in line
    assert "on_user_created" in line

    await rename_table(app, "customer", "customers_away", "customers")
    await asyncio.sleep(0.5)  # ten relay passes: a dead letter stays dead until someone replays it
    assert await customers_with_email(client, "stranded@example.com") == []
    assert (await user_created_row(app, user["id"])).status == DEAD

    replayed = await freightdesk(cli_environment, "events", "replay", "--module", "user", row.event_id)
    assert replayed.strip() == "1 event(s) queued again"
    await eventually(client, "stranded@example.com", user_id=user["id"], seconds=10.0)
    await settled(app, "user")
    assert (await user_created_row(app, user["id"])).status == PUBLISHED
    bus = await event_bus(client)
    assert (bus["deadLetters"], bus["status"]) == (0, "healthy")
    assert (await freightdesk(cli_environment, "events", "dead-letters")).strip() == "no dead letters"

    # Delivered once more (at least once allows it): the inbox has the event, so nothing happens twice.
    await runtime_of(app).transport.publish(envelope_of(await user_created_row(app, user["id"])))
    assert len(await customers_with_email(client, "stranded@example.com")) == 1
    assert await inbox_entries(app, row.event_id) == [
        "modules.customer.internal.handlers.UserEventHandlers.on_user_created"
    ]


async def test_a_change_and_its_event_are_committed_together_or_not_at_all(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    kept = await client.post(CARRIERS, json=carrier_body())
    assert kept.status_code == 201, kept.text
    carrier = data_of(kept)
    carrier_id = carrier["id"]
    [event] = [json.loads(row.payload) for row in await outbox_rows(app, "carrier")]
    assert event["carrierId"] == carrier_id

    await rename_table(app, "carrier", "carrier_event_outbox", "carrier_event_outbox_away")
    try:
        refused = await client.post(CARRIERS, json=carrier_body(name="Never Stored"))
        assert refused.status_code == 503, refused.text  # a table missing: as before `freightdesk db upgrade`
        changed = await client.patch(f"{CARRIERS}/{carrier_id}", json={"description": "never stored either"})
        assert changed.status_code == 503, changed.text
    finally:
        await rename_table(app, "carrier", "carrier_event_outbox_away", "carrier_event_outbox")

    assert await count_rows(app, "carrier", "carriers") == 1  # the carrier went with its event
    assert data_of(await client.get(f"{CARRIERS}/{carrier_id}"))["description"] == carrier["description"]
    assert len(await outbox_rows(app, "carrier")) == 1
