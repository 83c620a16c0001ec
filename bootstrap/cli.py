"""`freightdesk` command line: run, db upgrade|revision|current, seed, events dead-letters|replay, modules."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from alembic.util import CommandError

from bootstrap.catalog import available_modules, load_descriptor, select_modules
from bootstrap.migrate import DatabaseUnreachable, head_revision, upgrade, upgrade_one
from bootstrap.runtime import build_runtime, module_database
from kernel.logging import configure_logging
from kernel.settings import Settings, SettingsError, redact_url

if TYPE_CHECKING:
    from litestar import Litestar

log = logging.getLogger("freightdesk.cli")

WORKER_HEALTHCHECK_SECONDS = 60


def load_settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc


def _modules_option(value: str | None) -> list[str] | None:
    return [m.strip() for m in value.split(",") if m.strip()] if value else None


class FreightdeskGroup(click.Group):
    """Turns a wrong setting into one line naming it (exit status 1), whichever command meets it."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from exc
        except OSError as exc:  # e.g. a data dir or key file that cannot be created or read
            raise click.ClickException(f"{exc} (check FREIGHTDESK_DATA_DIR and the key file settings)") from exc
        except CommandError as exc:  # Alembic's: "Target database is not up to date" and the like
            raise click.ClickException(f"{exc} (run `freightdesk db upgrade` first?)") from exc


def migrate_for_start(settings: Settings, modules: Sequence[str] | None) -> tuple[list[str], list[str]]:
    """`run` on auto-migrate: upgrade module by module; a module whose database does not answer is logged and
    left behind, so the others still start and health names the broken one.
    Returns (modules whose history was new, modules that are ready)."""
    fresh: list[str] = []
    ready: list[str] = []
    for descriptor in select_modules(settings, modules):
        database = module_database(settings, descriptor)
        try:
            result = upgrade_one(database)
        except DatabaseUnreachable as exc:  # a broken migration on a reachable database still stops the start
            log.error(
                "database unreachable; the module starts unhealthy until its database answers and is migrated",
                extra={"module_name": descriptor.name, "database": redact_url(database.url), "error": repr(exc)},
            )
            continue
        ready.append(descriptor.name)
        if result.fresh:
            fresh.append(descriptor.name)
    return fresh, ready


def migrate_hosted(settings: Settings, modules: Sequence[str] | None = None) -> list[str]:
    """Upgrade every hosted module in dependency order; returns the modules whose history was new."""
    try:
        databases = [module_database(settings, d) for d in select_modules(settings, modules)]
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    results = upgrade(databases)
    for result in results:
        log.info("migrated", extra={"module_name": result.module, "from": result.before, "to": result.after})
    return [r.module for r in results if r.fresh]


async def _seed(
    settings: Settings,
    demo: bool,
    modules: Sequence[str] | None,
    only: Sequence[str] | None,
    tolerate_outages: bool = False,
) -> None:
    runtime = build_runtime(settings, modules)
    try:
        await runtime.seed(demo=demo, only=only, tolerate_outages=tolerate_outages)
    finally:
        await runtime.dispose()


@click.group(cls=FreightdeskGroup)
def main() -> None:
    """Freightdesk: the back office of a freight business."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--modules", "modules_", default=None, help="Comma list of modules to host (default: all).")
@click.option(
    "--workers",
    envvar="FREIGHTDESK_WORKERS",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes sharing the port (env FREIGHTDESK_WORKERS); one per core serves the most.",
)
def run(host: str, port: int, modules_: str | None, workers: int) -> None:
    """Start the HTTP server. On the embedded default it migrates and seeds first."""
    import uvicorn

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)
    modules = _modules_option(modules_)
    asyncio.run(build_runtime(settings, modules).dispose())  # refuse bad settings before touching a database
    if settings.auto_migrate:  # once, before any worker starts
        fresh, ready = migrate_for_start(settings, modules)
        asyncio.run(_seed(settings, demo=False, modules=modules, only=ready, tolerate_outages=True))
        if fresh and not settings.production:
            asyncio.run(_seed(settings, demo=True, modules=modules, only=fresh, tolerate_outages=True))
    if modules:
        os.environ["FREIGHTDESK_MODULES"] = ",".join(modules)  # what every worker process reads
    # uvloop and httptools: the fastest event loop and HTTP parser uvicorn offers (docs/operations.md).
    # proxy_headers off: the app reads X-Forwarded-For itself, from FREIGHTDESK_TRUSTED_PROXIES only
    # (kernel.http.client_address); uvicorn would otherwise believe it from 127.0.0.1 by default.
    server_options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": None,
        "access_log": False,
        "proxy_headers": False,
        "loop": "uvloop",
        "http": "httptools",
    }
    if workers == 1:
        uvicorn.run(serving_app(), **server_options)
    else:
        # A worker that has not answered the supervisor's ping within the timeout is killed and replaced. It
        # answers only once its imports are done, which on a busy machine takes longer than uvicorn's 5 s
        # default, and then the workers are killed and restarted for ever.
        uvicorn.run(
            "bootstrap.cli:serving_app",
            factory=True,
            workers=workers,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
            **server_options,
        )


def serving_app() -> Litestar:
    """The app one server process serves, built from the environment (each worker builds its own)."""
    from bootstrap.app import create_app

    app = create_app(load_settings())
    _freeze_startup_heap()
    return app


def _freeze_startup_heap() -> None:
    # Everything built so far (imported libraries, mappers, the app) lives as long as the process. Left in
    # the collector's oldest generation it is re-scanned by every full collection, which then stalls the
    # event loop for 100 ms and more under load (measured with benchmarks/login_load.py).
    gc.collect()
    gc.freeze()


@main.group()
def db() -> None:
    """Database migrations, one history per module."""


@db.command("upgrade")
@click.option("--modules", "modules_", default=None, help="Comma list of modules (default: hosted ones).")
def db_upgrade(modules_: str | None) -> None:
    """Apply every hosted module's migrations, in dependency order. Safe to run again."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)
    migrate_hosted(settings, _modules_option(modules_))
    click.echo("all hosted modules are at head")


@db.command("revision")
@click.option("--module", "module", required=True, help="The module whose history gets the revision.")
@click.option("-m", "--message", required=True, help="What the revision changes.")
@click.option("--empty", is_flag=True, help="Write an empty revision instead of autogenerating.")
def db_revision(module: str, message: str, empty: bool) -> None:
    """Create a revision in one module's history (autogenerated from its models by default)."""
    from bootstrap.migrate import revision

    settings = load_settings()
    if module not in available_modules():
        raise click.ClickException(f"--module: unknown module {module!r}; available: {', '.join(available_modules())}")
    # One module's history only: its dependencies need not be hosted (or reachable) to write a revision.
    revision(module_database(settings, load_descriptor(module)), message, autogenerate=not empty)


@db.command("current")
def db_current() -> None:
    """Show each hosted module's database and revision."""
    from bootstrap.migrate import current

    settings = load_settings()
    for descriptor in select_modules(settings):
        database = module_database(settings, descriptor)
        head = head_revision(descriptor.name)
        try:
            at = current(database)
            state = "up to date" if at == head else "needs upgrade"
        except DatabaseUnreachable:
            at, state = None, "unreachable"
        click.echo(f"{descriptor.name:10} {at or '-':14} head {head or '-':14} {state:14} {redact_url(database.url)}")


@main.command()
@click.option("--demo", is_flag=True, help="Also add demo data (into empty tables only).")
@click.option("--modules", "modules_", default=None, help="Comma list of modules (default: hosted ones).")
def seed(demo: bool, modules_: str | None) -> None:
    """Add reference data (and with --demo, demo data). Idempotent."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)
    modules = _modules_option(modules_)
    asyncio.run(_seed(settings, demo=demo, modules=modules, only=None))
    click.echo("seeded" + (" (with demo data)" if demo else ""))


@main.group()
def events() -> None:
    """The event outbox: dead letters and replay."""


async def _dead_letters(settings: Settings) -> list[tuple[str, str, str, int, str | None]]:
    from sqlalchemy import select

    from kernel.events.outbox import DEAD

    runtime = build_runtime(settings)
    rows: list[tuple[str, str, str, int, str | None]] = []
    try:
        for hosted in runtime.modules:
            outbox = hosted.descriptor.database.outbox
            if outbox is None:
                continue
            record = outbox.record
            async with hosted.context.session_maker() as session:
                found = await session.execute(
                    select(record.event_id, record.event_type, record.attempts, record.last_error)
                    .where(record.status == DEAD)
                    .order_by(record.id)
                )
                rows.extend((hosted.descriptor.name, *row) for row in found.all())
    finally:
        await runtime.dispose()
    return rows


@events.command("dead-letters")
def dead_letters() -> None:
    """List events that exhausted their retries."""
    rows = asyncio.run(_dead_letters(load_settings()))
    if not rows:
        click.echo("no dead letters")
    for module, event_id, event_type, attempts, error in rows:
        click.echo(f"{module:10} {event_id} {event_type:28} attempts={attempts} {error or ''}")


async def _replay(settings: Settings, module: str, event_ids: list[str]) -> int:
    from kernel.events.relay import replay_dead_letters

    runtime = build_runtime(settings)
    try:
        hosted = runtime.module(module)
        outbox = hosted.descriptor.database.outbox
        if outbox is None:
            raise click.ClickException(f"module {module!r} has no outbox")
        return await replay_dead_letters(hosted.context.session_maker, outbox, event_ids or None)
    finally:
        await runtime.dispose()


@events.command("replay")
@click.option("--module", required=True, help="The producing module.")
@click.argument("event_ids", nargs=-1)
def replay(module: str, event_ids: tuple[str, ...]) -> None:
    """Queue dead events again (all of the module's, or the ids given); the running relay delivers them."""
    count = asyncio.run(_replay(load_settings(), module, list(event_ids)))
    click.echo(f"{count} event(s) queued again")


@main.command("modules")
def list_modules() -> None:
    """Show the hosted modules in start order with their dependencies."""
    for descriptor in select_modules(load_settings()):
        click.echo(f"{descriptor.name:10} depends on: {', '.join(descriptor.depends_on) or '-'}")


@main.command("docs")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None, help="Folder (default docs/).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when a generated file is stale.")
def docs(out: Path | None, check: bool) -> None:
    """Regenerate the module map and the event catalogue (docs/modules.md, docs/events.md)."""
    from bootstrap.docs import DOCS_DIR, stale_files, write_docs

    folder = out or DOCS_DIR
    if check:
        stale = stale_files(folder)
        for name in stale:
            click.echo(f"{folder / name} is stale: run `freightdesk docs`", err=True)
        sys.exit(1 if stale else 0)
    for path in write_docs(folder):
        click.echo(f"wrote {path}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
