"""Benchmark event delivery latency: from the producer's commit to the start of the consumer's handler.

A producer module ("benchsend") writes an event to its outbox in a transaction; once that transaction has
committed (the session's `after_commit`, before `commit()` has handed the connection back to its pool), the clock
starts. The module's `OutboxRelay` (woken by the commit) claims the row and hands it to the transport; the
consumer module ("benchrecv", its own database) runs its handler through the inbox (`deliver_once`), and the
handler's first line stops the clock. Events go one at a time (the next one a short gap after the previous
delivery ended, i.e. after its handler's transaction committed), so the figures are the latency of an idle
system, not of a saturated one. Both transports are measured in the same run, on the same databases:

- `inprocess`: the relay calls the handler directly;
- `redis`: the relay adds the entry to the producer's stream (XADD), and the consumer module's reader, blocked
  in XREADGROUP, receives it, runs the handler and acknowledges the entry. Producer and consumer share this
  process and its event loop here; in a split deployment they are two processes, which takes nothing away.

Run on demand, not in CI:

    uv run python benchmarks/event_latency.py [--events 500] [--gap-ms 5] [--redis-url redis://127.0.0.1:6379/15]
    uv run python benchmarks/event_latency.py --mysql-url mysql+asyncmy://user:pw@127.0.0.1:3306/fdtest_bench

SQLite files in a temporary directory by default; with `--mysql-url` both modules use that (existing, empty or
throwaway) MariaDB database. Each module has its own engine, built as the process builds it. Redis keys live
under a prefix of the run's own (`fdbench:<random>:`) and are deleted at the end. Results go to stdout and to
`benchmarks/results/event_latency.{md,json}` (`event_latency_mariadb.{md,json}` with `--mysql-url`); exit
code 0 when both targets pass, 2 when one is missed, 1 when the benchmark could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from redis.asyncio import Redis
from sqlalchemy import String, text
from sqlalchemy import event as event_
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kernel.contracts.events import IntegrationEvent
from kernel.db.base import IntPrimaryKey, module_metadata
from kernel.db.config import ModuleDatabase
from kernel.events.envelope import EventEnvelope
from kernel.events.outbox import Inbox, Outbox
from kernel.events.redis_streams import RedisStreamsTransport
from kernel.events.relay import OutboxRelay
from kernel.events.transport import BoundSubscription, EventTransport, InProcessTransport, Subscription

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "benchmarks" / "results"
TARGETS_P99_MS = {"inprocess": 10.0, "redis": 50.0}
HANDLER_TIMEOUT_SECONDS = 5.0


class SendBase(DeclarativeBase):
    metadata = module_metadata("benchsend")


class ReceiveBase(DeclarativeBase):
    metadata = module_metadata("benchrecv")


class Received(IntPrimaryKey, ReceiveBase):
    __tablename__ = "benchrecv_received"
    label: Mapped[str] = mapped_column(String(100))


send_outbox = Outbox.for_base(SendBase)
receive_inbox = Inbox.for_base(ReceiveBase)


class BenchSent(IntegrationEvent, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "benchsend.sent"
    event_version: ClassVar[int] = 1
    label: str


class BenchmarkError(Exception):
    pass


@dataclass(frozen=True)
class Options:
    events: int
    warmup: int
    gap_ms: float
    redis_url: str
    mysql_url: str | None
    data_dir: str | None
    transports: tuple[str, ...]


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=500, help="timed events per transport (default 500)")
    parser.add_argument("--warmup", type=int, default=50, help="untimed events first (default 50)")
    parser.add_argument("--gap-ms", type=float, default=5.0, help="pause after each delivery ends (default 5 ms)")
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("FREIGHTDESK_BENCH_REDIS_URL")
        or os.environ.get("FREIGHTDESK_TEST_REDIS_URL")
        or "redis://127.0.0.1:6379/15",
    )
    parser.add_argument("--mysql-url", default=os.environ.get("FREIGHTDESK_BENCH_MYSQL_DATABASE_URL"))
    parser.add_argument(
        "--data-dir", default=None, help="where the SQLite files go (default: a temporary directory); e.g. /dev/shm"
    )
    parser.add_argument("--transports", default="inprocess,redis", help="comma list (default inprocess,redis)")
    args = parser.parse_args(argv)
    transports = tuple(t.strip() for t in args.transports.split(",") if t.strip())
    unknown = set(transports) - set(TARGETS_P99_MS)
    if unknown:
        parser.error(f"unknown transport(s): {', '.join(sorted(unknown))}")
    return Options(args.events, args.warmup, args.gap_ms, args.redis_url, args.mysql_url, args.data_dir, transports)


class Stopwatch:
    """The handler: notes when it was handed each event (its first line, before any I/O), and when its
    transaction committed (the end of the delivery)."""

    def __init__(self) -> None:
        self.waiting: dict[str, tuple[asyncio.Future[float], asyncio.Future[None]]] = {}

    def expect(self, label: str) -> tuple[asyncio.Future[float], asyncio.Future[None]]:
        loop = asyncio.get_running_loop()
        futures: tuple[asyncio.Future[float], asyncio.Future[None]] = (loop.create_future(), loop.create_future())
        self.waiting[label] = futures
        return futures

    async def __call__(self, session: AsyncSession, event: BenchSent, envelope: EventEnvelope) -> None:
        now = time.perf_counter()
        arrived, delivered = self.waiting.pop(event.label, (None, None))
        session.add(Received(label=event.label))
        if arrived is not None and not arrived.done():
            arrived.set_result(now)
        if delivered is not None:
            event_.listen(session.sync_session, "after_commit", lambda _: _resolve(delivered), once=True)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _note_time(stamps: list[float]) -> Callable[[Any], None]:
    return lambda _session: stamps.append(time.perf_counter())


def percentile(sorted_values: list[float], q: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def summary_ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(s * 1000 for s in samples)
    return {
        "p50_ms": round(percentile(ordered, 0.50), 3),
        "p90_ms": round(percentile(ordered, 0.90), 3),
        "p99_ms": round(percentile(ordered, 0.99), 3),
        "max_ms": round(ordered[-1], 3),
        "mean_ms": round(sum(ordered) / len(ordered), 3),
    }


async def measure(
    name: str,
    transport: EventTransport,
    producer: async_sessionmaker[AsyncSession],
    consumer: async_sessionmaker[AsyncSession],
    options: Options,
) -> list[float]:
    stopwatch = Stopwatch()
    transport.subscribe(BoundSubscription("benchrecv", Subscription(BenchSent, stopwatch), consumer, receive_inbox))
    relay = OutboxRelay(send_outbox, producer, transport, interval=1.0)
    await transport.start()
    relay.start()
    samples: list[float] = []
    try:
        for number in range(options.warmup + options.events):
            label = f"{name}-{number}"
            arrived, delivered = stopwatch.expect(label)
            async with producer() as session:
                # The clock starts when the transaction has committed (the session's `after_commit`, the hook
                # that wakes the relay, registered after this one), not when `commit()` returns: handing the
                # connection back to the pool takes a round trip of its own, which the relay's work overlaps.
                commits: list[float] = []
                event_.listen(session.sync_session, "after_commit", _note_time(commits))
                await send_outbox.publish(session, BenchSent(label=label))
                await session.commit()
            committed = commits[0]
            try:
                handled = await asyncio.wait_for(arrived, HANDLER_TIMEOUT_SECONDS)
                # The next event follows the end of this delivery (the handler's commit), not its start: an
                # idle system, not one still busy with the previous event.
                await asyncio.wait_for(delivered, HANDLER_TIMEOUT_SECONDS)
            except TimeoutError:
                raise BenchmarkError(
                    f"{name}: event {number} was not handled within {HANDLER_TIMEOUT_SECONDS}s"
                ) from None
            if handled < committed:
                raise BenchmarkError(f"{name}: a handler ran before its event's transaction committed")
            if number >= options.warmup:
                samples.append(handled - committed)
            await asyncio.sleep(options.gap_ms / 1000)
    finally:
        await relay.stop()
        await transport.stop()
    return samples


def engine_for(module: str, url: str, base: type[DeclarativeBase]) -> AsyncEngine:
    """The module's engine as the process builds it (`ModuleDatabase.create_engine`: pool, timeouts, READ
    COMMITTED and the server's limits on MariaDB, the pragmas on SQLite), one per module even on one database."""
    return ModuleDatabase(module=module, url=url, metadata=base.metadata, setting="bench").create_engine()


async def round_trip_ms(engine: AsyncEngine, count: int = 200) -> float:
    """Median of `SELECT 1` on one connection: the price of one database round trip on this machine right now
    (the relay and the inbox make two or three before a handler starts)."""
    samples = []
    async with engine.connect() as connection:
        for _ in range(count):
            started = time.perf_counter()
            await connection.execute(text("SELECT 1"))
            samples.append((time.perf_counter() - started) * 1000)
    return round(sorted(samples)[len(samples) // 2], 3)


async def prepare(engine: AsyncEngine, base: type[DeclarativeBase]) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(base.metadata.drop_all)
        await connection.run_sync(base.metadata.create_all)


def machine_info() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def git_describe() -> str:
    """The revision, `-dirty` when files other than the results themselves (which every run rewrites) differ."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False, timeout=10)
        return done.stdout.strip()

    revision = git("describe", "--always") or "unknown"
    changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)benchmarks/results")
    return f"{revision}-dirty" if changed else revision


async def redis_version(url: str) -> str:
    client = Redis.from_url(url)
    try:
        info: Any = await client.info("server")
        return str(info.get("redis_version", "?"))
    finally:
        await client.aclose()


async def delete_prefix(url: str, prefix: str) -> None:
    client = Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@dataclass
class Report:
    date: str
    git: str
    machine: dict[str, str]
    settings: dict[str, Any]
    results: dict[str, dict[str, float]] = field(default_factory=dict)
    targets_p99_ms: dict[str, float] = field(default_factory=dict)
    verdicts: dict[str, str] = field(default_factory=dict)
    verdict: str = "fail"
    notes: list[str] = field(default_factory=list)


async def run(options: Options) -> Report:
    machine = machine_info()
    prefix = f"fdbench:{secrets.token_hex(4)}:"
    with tempfile.TemporaryDirectory(prefix="fdbench-events-", dir=options.data_dir) as folder:
        if options.mysql_url:
            producer_engine = engine_for("benchsend", options.mysql_url, SendBase)
            consumer_engine = engine_for("benchrecv", options.mysql_url, ReceiveBase)
            database = "MariaDB/MySQL (one database for both modules, an engine each)"
        else:
            producer_engine = engine_for("benchsend", f"sqlite+aiosqlite:///{Path(folder) / 'send.sqlite'}", SendBase)
            consumer_engine = engine_for(
                "benchrecv", f"sqlite+aiosqlite:///{Path(folder) / 'receive.sqlite'}", ReceiveBase
            )
            database = f"SQLite, one file per module, in {Path(folder).parent}"
        producer = async_sessionmaker(producer_engine, expire_on_commit=False)
        consumer = async_sessionmaker(consumer_engine, expire_on_commit=False)
        builders: dict[str, Callable[[], EventTransport]] = {
            "inprocess": InProcessTransport,
            "redis": lambda: RedisStreamsTransport(
                options.redis_url, key_prefix=prefix, max_length=100_000, claim_idle_ms=30_000, max_deliveries=8
            ),
        }
        report = Report(
            date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            git=git_describe(),
            machine=machine,
            settings={
                "events": options.events,
                "warmup": options.warmup,
                "gap_ms": options.gap_ms,
                "database": database,
                "transports": list(options.transports),
            },
            targets_p99_ms={t: TARGETS_P99_MS[t] for t in options.transports},
        )
        try:
            if "redis" in options.transports:
                report.settings["redis"] = await redis_version(options.redis_url)
            report.settings["round_trip_ms"] = await round_trip_ms(producer_engine)
            for name in options.transports:
                await prepare(producer_engine, SendBase)
                await prepare(consumer_engine, ReceiveBase)
                # As a served process does once it is built (`freightdesk run`): what exists now lives as long
                # as the process, and full collections should not rescan it in the middle of the measurement.
                gc.collect()
                gc.freeze()
                log(f"{name}: {options.warmup} untimed, then {options.events} timed events")
                samples = await measure(name, builders[name](), producer, consumer, options)
                report.results[name] = summary_ms(samples)
                passed = report.results[name]["p99_ms"] <= TARGETS_P99_MS[name]
                report.verdicts[name] = "pass" if passed else "fail"
        finally:
            if "redis" in options.transports:
                await delete_prefix(options.redis_url, prefix)
            await producer_engine.dispose()
            await consumer_engine.dispose()
            if options.mysql_url:
                await drop_tables(options.mysql_url)
    report.machine["loadavg_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    report.verdict = "pass" if all(v == "pass" for v in report.verdicts.values()) else "fail"
    if report.git.endswith("-dirty"):
        report.notes.append("The working tree had uncommitted changes when this ran.")
    return report


async def drop_tables(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            for base in (SendBase, ReceiveBase):
                await connection.run_sync(base.metadata.drop_all)
    finally:
        await engine.dispose()


def markdown(report: Report) -> str:
    m, s = report.machine, report.settings
    lines = [
        "# Event delivery latency benchmark",
        "",
        f"- Date: {report.date}",
        f"- Revision: `{report.git}`",
        f"- Machine: {m['nproc']} CPU(s), {m['cpu']}, Linux {m['kernel']}",
        f"- {m['python']}; load average before the run {m['loadavg']}, after it {m.get('loadavg_after', '?')} "
        "(1/5/15 min; the machine may be shared)",
        f"- Databases: {s['database']}" + (f"; Redis {s['redis']}" if "redis" in s else ""),
        f"- One database round trip (`SELECT 1`, median, before the run): {s['round_trip_ms']:.3f} ms; before a "
        "handler starts the relay and the inbox make two on MariaDB (the lease's commit overlaps the delivery) and "
        "three hops to the driver's thread on SQLite, so a busy machine shows here first",
        f"- Workload: {s['warmup']} untimed events, then {s['events']} timed ones per transport, one at a time "
        f"({s['gap_ms']} ms from the end of one delivery, its handler's commit, to the commit of the next); the "
        "clock runs from the "
        "producer's transaction having committed (`after_commit`) to the first line of the consumer's handler",
        "",
        "## Result",
        "",
        "| transport | p50 | p90 | p99 | max | mean | p99 target | verdict |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for name, result in report.results.items():
        verdict = report.verdicts[name] if report.verdicts[name] == "pass" else "**fail**"
        lines.append(
            f"| {name} | {result['p50_ms']:.2f} ms | {result['p90_ms']:.2f} ms | {result['p99_ms']:.2f} ms | "
            f"{result['max_ms']:.2f} ms | {result['mean_ms']:.2f} ms | <= {report.targets_p99_ms[name]:.0f} ms "
            f"| {verdict} |"
        )
    lines += ["", f"Verdict: **{report.verdict}**.", ""]
    lines += [f"Note: {note}" for note in report.notes]
    lines += ["Rerun: `uv run python benchmarks/event_latency.py` (see benchmarks/README.md).", ""]
    return "\n".join(lines)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    try:
        report = asyncio.run(run(options))
    except (BenchmarkError, OSError) as exc:
        log(f"benchmark could not run: {exc}")
        return 1
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    text_ = markdown(report)
    stem = "event_latency_mariadb" if options.mysql_url else "event_latency"
    (RESULTS_DIR / f"{stem}.md").write_text(text_, encoding="utf-8")
    (RESULTS_DIR / f"{stem}.json").write_text(json.dumps(asdict(report), indent=2) + "\n", encoding="utf-8")
    print(text_)
    return 0 if report.verdict == "pass" else 2


if __name__ == "__main__":
    sys.exit(main())
