"""An event is written already published only when no module of the application subscribes to it: a process
hosting some modules (the hybrid shape's `freightdesk seed --modules user`, on the in-process transport beside
servers on Redis) leaves `user.created` pending for the relay of the server that publishes it."""

from __future__ import annotations

from litestar import Litestar

from bootstrap.app import create_app
from bootstrap.cli import _seed
from kernel.settings import Settings
from tests.conftest import running
from tests.helpers import outbox_rows, runtime_of


async def test_a_seed_in_a_process_of_some_modules_leaves_the_admins_creation_to_the_relay(settings: Settings) -> None:
    whole: Litestar = create_app(settings)
    async with running(whole):  # migrates every module's database; seeds nothing
        pass
    await _seed(settings, demo=False, modules=["auth", "user"], only=["user"])

    later: Litestar = create_app(settings, ["auth", "user"])  # not running: no relay has touched the rows
    try:
        created = [row for row in await outbox_rows(later, "user") if row.event_type == "user.created"]
    finally:
        await runtime_of(later).dispose()
    assert [(row.status, row.published_at) for row in created] == [("pending", None)]
