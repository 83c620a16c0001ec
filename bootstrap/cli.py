"""`freightdesk` command line: run, db upgrade|revision|current, seed, events dead-letters|replay|lag|pending,
modules."""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import multiprocessing
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from alembic.util import CommandError
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bootstrap.catalog import available_modules, load_descriptor, select_modules
from bootstrap.migrate import DatabaseUnreachable, head_revision, upgrade, upgrade_one
from bootstrap.runtime import Runtime, build_runtime, build_transport, module_database
from kernel.db.errors import database_error_text, is_missing_table_error, is_transient_database_error
from kernel.events.outbox import Outbox
from kernel.events.redis_streams import DeadLetter, GroupLag, PendingEntry, RedisStreamsTransport, ReplayResult
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
        except Exception as exc:
            if (one_line := as_one_line(exc)) is None:
                raise
            raise one_line from exc


def as_one_line(exc: Exception) -> click.ClickException | None:
    """The one line a command ends with when it meets `exc`; None for a bug (its traceback is worth reading)."""
    if isinstance(exc, SettingsError):
        return click.ClickException(str(exc))
    if isinstance(exc, OSError):  # e.g. a data dir or key file that cannot be created or read
        return click.ClickException(f"{exc} (check FREIGHTDESK_DATA_DIR and the key file settings)")
    if isinstance(exc, CommandError):  # Alembic's: "Target database is not up to date" and the like
        return click.ClickException(f"{exc} (run `freightdesk db upgrade` first?)")
    if isinstance(exc, DBAPIError):  # a command meeting a database that is not migrated or does not answer
        if is_missing_table_error(exc):
            return click.ClickException(
                f"a module's tables are missing (run `freightdesk db upgrade` first): {database_error_text(exc)}"
            )
        if is_transient_database_error(exc):
            return click.ClickException(f"a module's database does not answer: {database_error_text(exc)}")
    return None


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
        _prepare_in_a_child_process(modules)
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
        with _shared_metrics():
            # A worker that has not answered the supervisor's ping within the timeout is killed and replaced.
            # It answers only once its imports are done, which on a busy machine takes longer than uvicorn's
            # 5 s default, and then the workers are killed and restarted for ever.
            uvicorn.run(
                "bootstrap.cli:serving_app",
                factory=True,
                workers=workers,
                timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
                **server_options,
            )


@contextmanager
def _shared_metrics() -> Iterator[None]:
    """Workers count their request metrics in files of one directory, and a scrape answered by any worker sums
    them (prometheus_client's multiprocess mode, kernel.http.metrics). A directory the operator set is kept."""
    from kernel.http.metrics import MULTIPROCESS_DIR_VARIABLE

    if os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="freightdesk-metrics-") as directory:
        os.environ[MULTIPROCESS_DIR_VARIABLE] = directory  # read by each worker as it starts
        try:
            yield
        finally:
            del os.environ[MULTIPROCESS_DIR_VARIABLE]


def _prepare_for_start(modules: Sequence[str] | None) -> None:
    """What `run` does first on auto-migrate: migrate, seed, and on a fresh development database add demo data."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)
    try:
        fresh, ready = migrate_for_start(settings, modules)
        asyncio.run(_seed(settings, demo=False, modules=modules, only=ready, tolerate_outages=True))
        if fresh and not settings.production:
            asyncio.run(_seed(settings, demo=True, modules=modules, only=fresh, tolerate_outages=True))
    except Exception as exc:
        if (one_line := as_one_line(exc)) is None:
            raise
        one_line.show()
        sys.exit(one_line.exit_code)


def _prepare_in_a_child_process(modules: Sequence[str] | None) -> None:
    # Alembic, every revision and the demo data would otherwise stay in the serving process's memory for its
    # whole life (about 18 MB after migrating and seeding five fresh databases); a child returns it all.
    child = multiprocessing.get_context("spawn").Process(
        target=_prepare_for_start, args=(list(modules) if modules else None,), name="freightdesk-prepare"
    )
    child.start()
    child.join()
    if child.exitcode:
        raise SystemExit(child.exitcode)


def serving_app() -> Litestar:
    """The app one server process serves, built from the environment (each worker builds its own)."""
    from bootstrap.app import create_app

    app = create_app(load_settings())
    _freeze_startup_heap()
    _return_large_blocks_to_the_system()
    return app


def _freeze_startup_heap() -> None:
    # Everything built so far (imported libraries, mappers, the app) lives as long as the process. Left in
    # the collector's oldest generation it is re-scanned by every full collection, which then stalls the
    # event loop for 100 ms and more under load (measured with benchmarks/login_load.py).
    gc.collect()
    gc.freeze()


M_MMAP_THRESHOLD = -3  # mallopt(3)
LARGE_BLOCK_BYTES = 1 << 20


def _return_large_blocks_to_the_system() -> None:
    # glibc raises its mmap threshold each time a large block is freed, so after the first sign-ins every 12 MiB
    # password hash comes from a thread's arena, which keeps the memory: 30-40 MB more resident for ever. A
    # fixed threshold (which also turns that adjustment off) keeps blocks of 1 MiB and more in mappings of
    # their own, returned to the system when freed.
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(ctypes.c_int(M_MMAP_THRESHOLD), ctypes.c_int(LARGE_BLOCK_BYTES))
    except (OSError, AttributeError):  # not glibc (musl has no mallopt): nothing to tune
        return


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
    """Event delivery: dead letters and replay (outbox and, with the redis transport, streams), lag, pending."""


def _streams(settings: Settings) -> RedisStreamsTransport:
    """The Redis Streams transport of these settings; the stream commands need no database."""
    transport = build_transport(settings)
    if not isinstance(transport, RedisStreamsTransport):
        raise click.ClickException(
            "FREIGHTDESK_EVENT_TRANSPORT: this command reads the Redis streams of the 'redis' transport; with "
            "'inprocess' events go from the outbox straight to the handlers (see `freightdesk events dead-letters`)"
        )
    return transport


def _stream_failure(exc: Exception) -> click.ClickException:
    return click.ClickException(f"Redis does not answer ({type(exc).__name__}); check REDIS_URL")


async def _outbox_dead_letters(runtime: Runtime) -> list[tuple[str, str, str, int, str | None]]:
    from sqlalchemy import select

    from kernel.events.outbox import DEAD

    rows: list[tuple[str, str, str, int, str | None]] = []
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
    return rows


async def _dead_letters(
    settings: Settings, limit: int
) -> tuple[list[tuple[str, str, str, int, str | None]], tuple[list[DeadLetter], int] | None]:
    """The outbox dead letters of the hosted modules and, with the redis transport, the dead-letter streams."""
    runtime = build_runtime(settings)
    try:
        rows = await _outbox_dead_letters(runtime)
        streams = None
        if isinstance(runtime.transport, RedisStreamsTransport):
            try:
                streams = await runtime.transport.dead_letters(limit=limit)
            except RedisError as exc:
                raise _stream_failure(exc) from exc
    finally:
        await runtime.transport.stop()
        await runtime.dispose()
    return rows, streams


@events.command("dead-letters")
@click.option("--limit", default=1000, show_default=True, type=int, help="At most this many per dead-letter stream.")
def dead_letters(limit: int) -> None:
    """List events that exhausted their retries: in the outboxes (not delivered to the transport) and, with the
    redis transport, in the dead-letter streams (handlers of a consuming module gave up)."""
    rows, streams = asyncio.run(_dead_letters(load_settings(), limit))
    if streams is None:
        if not rows:
            click.echo("no dead letters")
        for module, event_id, event_type, attempts, error in rows:
            click.echo(f"{module:10} {event_id} {event_type:28} attempts={attempts} {error or ''}")
        return
    letters, total = streams
    click.echo(f"outbox (producer relays gave up): {len(rows) or 'none'}")
    for module, event_id, event_type, attempts, error in rows:
        click.echo(f"  {module:10} {event_id} {event_type:28} attempts={attempts} {error or ''}")
    click.echo(f"streams (consumer handlers gave up): {total or 'none'}")
    for letter in letters:
        click.echo(
            f"  {letter.module:10} {letter.event_id or '(unreadable)'} {letter.event_type:28} "
            f"deliveries={letter.deliveries} failed={letter.failed_at} entry={letter.origin_id} {letter.error}"
        )
    if total > len(letters):
        click.echo(f"  … and {total - len(letters)} more (--limit)")


async def _replay(
    settings: Settings, module: str, event_ids: list[str], published_since: datetime | None
) -> tuple[int, ReplayResult | None]:
    from kernel.events.relay import replay_dead_letters

    runtime = build_runtime(settings)
    try:
        try:
            hosted = runtime.module(module)
        except KeyError:
            raise click.ClickException(f"--module: {module!r} is not hosted here (FREIGHTDESK_MODULES)") from None
        transport = runtime.transport
        consumes = isinstance(transport, RedisStreamsTransport) and module in transport.consuming_modules
        outbox = hosted.descriptor.database.outbox
        if outbox is None and not consumes:
            raise click.ClickException(f"module {module!r} has no outbox and no dead-letter stream to replay")
        if outbox is None and published_since is not None:
            raise click.ClickException(f"--published-since: module {module!r} has no outbox")
        queued = 0
        if outbox is not None:
            queued = await replay_dead_letters(hosted.context.session_maker, outbox, event_ids or None)
            if published_since is not None:
                queued += await _queue_published_again(hosted.context.session_maker, outbox, published_since)
        streamed = None
        if consumes:
            assert isinstance(transport, RedisStreamsTransport)
            try:
                streamed = await transport.replay_dead_letters(module, event_ids or None)
            except RedisError as exc:
                raise _stream_failure(exc) from exc
        return queued, streamed
    finally:
        await runtime.transport.stop()
        await runtime.dispose()


async def _queue_published_again(
    session_maker: async_sessionmaker[AsyncSession], outbox: Outbox, since: datetime
) -> int:
    """Make the module's published events that occurred at or after `since` due again: the relay publishes them
    once more (to every consumer; those that have them already skip them through their inbox)."""
    from sqlalchemy import update

    from kernel.events.outbox import PENDING, PUBLISHED

    record = outbox.record
    async with session_maker() as session, session.begin():
        result = await session.execute(
            update(record)
            .where(record.status == PUBLISHED, record.occurred_at >= since)
            .values(status=PENDING, attempts=0, available_at=datetime.now(UTC))
        )
    outbox.notify()
    return int(getattr(result, "rowcount", 0) or 0)


def _instant(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"expected an ISO 8601 time such as 2026-12-01T10:00:00Z, got {value!r}") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@events.command("replay")
@click.option("--module", required=True, help="The module whose dead letters to replay.")
@click.option(
    "--published-since",
    default=None,
    help="Also publish again the module's events that occurred at or after this time (ISO 8601, UTC unless "
    "given): for consumers that lost entries the stream no longer holds.",
)
@click.argument("event_ids", nargs=-1)
def replay(module: str, published_since: str | None, event_ids: tuple[str, ...]) -> None:
    """Replay the module's dead letters (all, or the event ids given). Its outbox's dead events are queued
    again for the running relay; with the redis transport, the entries of its dead-letter stream are delivered
    to its handlers by this command, and removed once they all succeed."""
    since = _instant(published_since)
    queued, streamed = asyncio.run(_replay(load_settings(), module, list(event_ids), since))
    click.echo(f"{queued} event(s) queued again")
    if streamed is not None:
        click.echo(f"{streamed.delivered} dead-letter stream event(s) delivered to {module}")
        for event_id, error in streamed.failed:
            click.echo(f"failed again: {event_id} {error}")
        if streamed.failed:
            sys.exit(1)


@events.command("lag")
def lag() -> None:
    """Per stream and consumer group: stream length, last delivered entry, entries not yet delivered, pending."""
    rows = asyncio.run(_lag(load_settings()))
    if not rows:
        click.echo("no event streams yet")
        return
    click.echo(f"{'stream':10} {'group':10} {'length':>8} {'consumers':>9} {'last delivered':22} {'lag':>6} pending")
    for row in rows:
        click.echo(
            f"{row.producer:10} {row.group or '-':10} {row.length:>8} {row.consumers:>9} "
            f"{row.last_delivered_id or '-':22} {'?' if row.lag is None else row.lag:>6} {row.pending}"
        )


async def _lag(settings: Settings) -> list[GroupLag]:
    transport = _streams(settings)
    try:
        return await transport.lag()
    except RedisError as exc:
        raise _stream_failure(exc) from exc
    finally:
        await transport.close()


@events.command("pending")
@click.option("--module", default=None, help="Only this consuming module's group.")
@click.option("--limit", default=100, show_default=True, type=int, help="At most this many per stream and group.")
def pending(module: str | None, limit: int) -> None:
    """Entries delivered to a consumer and not acknowledged: failing (retried after the claim timeout) or held
    by a consumer that stopped (taken over after the same timeout)."""
    entries = asyncio.run(_pending(load_settings(), module, limit))
    if not entries:
        click.echo("no pending entries")
    for entry in entries:
        click.echo(
            f"{entry.producer:10} {entry.group:10} {entry.entry_id:22} idle={entry.idle_ms / 1000:.1f}s "
            f"deliveries={entry.deliveries} consumer={entry.consumer} "
            f"{entry.event_type or '(trimmed)'} {entry.event_id or ''}".rstrip()
        )


async def _pending(settings: Settings, module: str | None, limit: int) -> list[PendingEntry]:
    transport = _streams(settings)
    try:
        return await transport.pending(module=module, limit=limit)
    except RedisError as exc:
        raise _stream_failure(exc) from exc
    finally:
        await transport.close()


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
