"""Benchmark `POST /api/v1/pricing/calculate` with a customer in one process and in the split topology.

Starts, side by side and each on fresh MariaDB databases of its own (one per module), the deployment shapes:

- `one-process`: one `freightdesk run` hosting every module; pricing reads the carrier through
  `CarrierDirectory` and the customer through `CustomerDirectory` in process; shared state in process memory;
- `one-process-redis`: the same process with `REDIS_URL` set, as a single process sharing Redis with others
  runs: revocation checks on every authenticated request and events (`FREIGHTDESK_EVENT_TRANSPORT=redis`) go
  to Redis; it separates what Redis costs from what the calls between processes cost;
- `split`: one process per module (`FREIGHTDESK_MODULES=<module>`), started in dependency order, events over
  Redis Streams, `<MODULE>_SERVICE_URL` for every module hosted elsewhere, one shared data dir (the signing
  keys); the pricing process calls the carrier and customer processes over HTTP with service tokens.

and loads the pricing process of each directly: the calculation with a random demo `customerId`, and the
pricing process's trivial route `GET /api/v1/health/live` before and after it, in interleaved rounds (the
shapes' order rotating). Reports per shape the median throughput as a ratio to its trivial route, the same
against the one-process shape, p50/p99 latency and the CPU time per request of every process. Results go to
stdout and to `benchmarks/results/split_calculate.{md,json}`.

Run on demand, not in CI:

    uv run python benchmarks/split_calculate.py [--duration 10] [--rounds 5] [--shapes one-process,split]

Needs `wrk` for comparable figures, the local MariaDB and Redis (`--redis-url`, database 15 by default; keys
under a prefix of the run's own, deleted afterwards). The databases, the servers, the token and the load come
from `harness.py`, the routes and their checks from `business_routes.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from business_routes import (
    BY_KEY,
    CALCULATE_PATH,
    DEMO_CARRIERS,
    DEMO_CUSTOMER_IDS,
    DEMO_CUSTOMERS,
    DEMO_RULES,
    PERMISSIONS,
    WORKED_EXAMPLE,
    WORKED_EXAMPLE_TOTAL,
    round_order,
    stored_calculations,
)
from harness import (
    BenchmarkError,
    CommonOptions,
    LoadResult,
    MySqlServer,
    Server,
    access_token,
    add_common_arguments,
    cell,
    check_identifier,
    comma_list,
    common_options,
    cpu_seconds,
    database_pids,
    expect,
    footer_lines,
    free_port,
    fresh_databases,
    git_describe,
    header_lines,
    http_request,
    load_average,
    log,
    machine_info,
    median_or_none,
    medians,
    module_database_urls,
    process_pids,
    report_date,
    require,
    result_row,
    rounded,
    rss_mb,
    run_and_report,
    run_load,
    run_table_rows,
    running_server,
    standard_notes,
    temporary_workdir,
    total_cpu_seconds,
    wait_ready,
    write_report,
)

from bootstrap.catalog import available_modules, dependency_order, load_descriptor

DEFAULT_DATABASE_PREFIX = "fdbench_split"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"
ROUTE_CHOICES = ("calculate_customer", "calculate", "quotes")  # the routes of the pricing process
MISSING_CUSTOMER = 999_999


@dataclass(frozen=True)
class Shape:
    key: str
    tag: str  # in database names and the temp dir
    split: bool  # one process per module
    redis: bool  # REDIS_URL, FREIGHTDESK_EVENT_TRANSPORT=redis
    what: str


SHAPES = {
    shape.key: shape
    for shape in (
        Shape(
            "one-process",
            "one",
            split=False,
            redis=False,
            what="one process hosting every module; directories in process; shared state in process memory",
        ),
        Shape(
            "one-process-redis",
            "oneredis",
            split=False,
            redis=True,
            what="the same process with REDIS_URL: revocation checks and events in Redis, directories in process",
        ),
        Shape(
            "split",
            "split",
            split=True,
            redis=True,
            what="one process per module, events over Redis Streams, directories over HTTP with service tokens",
        ),
    )
}
BASELINE = "one-process"


# --------------------------------------------------------------------------------------------- options


@dataclass(frozen=True)
class Options(CommonOptions):
    redis_url: str
    database_prefix: str
    shapes: tuple[str, ...]
    routes: tuple[str, ...]

    def databases(self, shape: Shape) -> dict[str, str]:
        """module → database name, for one shape."""
        return {module: f"{self.database_prefix}_{shape.tag}_{module}" for module in available_modules()}


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser, duration=10.0, rounds=5, startup_timeout=240.0)
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("FREIGHTDESK_BENCH_REDIS_URL") or DEFAULT_REDIS_URL,
        help="Redis for the shapes that use it (env FREIGHTDESK_BENCH_REDIS_URL; default %(default)s)",
    )
    parser.add_argument(
        "--database-prefix",
        default=DEFAULT_DATABASE_PREFIX,
        help="Databases <prefix>_<shape>_<module> are created and dropped by the run (default %(default)s)",
    )
    parser.add_argument(
        "--shapes",
        default=",".join(SHAPES),
        help=f"Comma list of the shapes, {BASELINE} first (default: all: %(default)s)",
    )
    parser.add_argument(
        "--routes",
        default=ROUTE_CHOICES[0],
        help=f"Comma list of the pricing routes to load, from {', '.join(ROUTE_CHOICES)} (default %(default)s)",
    )
    args = parser.parse_args(argv)
    check_identifier(parser, "--database-prefix", args.database_prefix, 40)
    shapes = comma_list(args.shapes)
    if not shapes or any(key not in SHAPES for key in shapes) or shapes[0] != BASELINE:
        parser.error(f"--shapes: choose from {', '.join(SHAPES)}, starting with {BASELINE}")
    routes = comma_list(args.routes)
    if not routes or any(key not in ROUTE_CHOICES for key in routes):
        parser.error(f"--routes: choose from {', '.join(ROUTE_CHOICES)}")
    return Options(
        **common_options(parser, args),
        redis_url=args.redis_url,
        database_prefix=args.database_prefix,
        shapes=shapes,
        routes=routes,
    )


def token_lifetime(options: Options) -> int:
    runs = len(options.shapes) * (len(options.routes) + 1) * (options.warmup + options.rounds * 2 * options.duration)
    return int(2 * runs) + 1800


# ----------------------------------------------------------------------------------------------- redis


class RedisKeys:
    """The run's own key prefix on the benchmark Redis, and its cleanup (SCAN, then DEL: nothing else)."""

    def __init__(self, url: str) -> None:
        from redis import Redis

        self.url = url
        self.prefix = f"fdbench:{secrets.token_hex(4)}:"
        self._client = Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)

    def version(self) -> str:
        try:
            info = self._client.info("server")
        except Exception as exc:
            raise BenchmarkError(f"Redis at {self.url} does not answer ({type(exc).__name__}: {exc})") from exc
        return str(info.get("redis_version", "unknown"))

    def delete_all(self) -> int:
        keys = list(self._client.scan_iter(match=f"{self.prefix}*", count=500))
        for start in range(0, len(keys), 500):
            self._client.delete(*keys[start : start + 500])
        return len(keys)

    def close(self) -> None:
        self._client.close()


def redis_pids() -> list[int]:
    """The local Redis server's processes (their CPU time is an upper bound: others may use the same server)."""
    return process_pids("redis-server")


# --------------------------------------------------------------------------------------------- systems


@dataclass
class Process:
    """One `freightdesk run` of a shape: the modules it hosts and what it measured at start."""

    name: str  # "all" or the module
    modules: tuple[str, ...]
    server: Server
    startup_seconds: float = 0.0
    rss_ready_mb: float = 0.0
    rss_after_mb: float = 0.0


@dataclass
class System:
    shape: Shape
    processes: list[Process]
    databases: dict[str, str]
    seed: dict[str, int] = field(default_factory=dict)
    stored_calculations: int = 0

    def hosting(self, module: str) -> Server:
        return next(p.server for p in self.processes if module in p.modules)

    @property
    def pricing(self) -> Server:
        return self.hosting("pricing")


def process_groups(shape: Shape) -> list[tuple[str, ...]]:
    """Which modules each process hosts, in the order they start (a module after those it depends on)."""
    if not shape.split:
        return [tuple(available_modules())]
    return [(d.name,) for d in dependency_order(load_descriptor(m) for m in available_modules())]


def distinct_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


@contextmanager
def started_system(
    shape: Shape, options: Options, mysql: MySqlServer, redis: RedisKeys, workdir: Path
) -> Iterator[System]:
    """The processes of `shape` on its fresh databases, each ready; stopped (in reverse order) after the block."""
    databases = options.databases(shape)
    settings = module_database_urls(mysql, databases)
    if shape.redis:
        settings |= {
            "REDIS_URL": options.redis_url,
            "FREIGHTDESK_REDIS_KEY_PREFIX": f"{redis.prefix}{shape.tag}:",
            "FREIGHTDESK_EVENT_TRANSPORT": "redis",
        }
    groups = process_groups(shape)
    ports = dict(zip(groups, distinct_ports(len(groups)), strict=True))
    if shape.split:
        for group, port in ports.items():
            settings |= {f"{module.upper()}_SERVICE_URL": f"http://127.0.0.1:{port}" for module in group}
    directory = workdir / shape.tag
    directory.mkdir()
    system = System(shape, [], databases)
    with ExitStack() as stack:
        for group in groups:
            own = {key: value for key, value in settings.items() if key not in _service_urls(group)}
            if shape.split:
                own["FREIGHTDESK_MODULES"] = ",".join(group)
            name = "all" if not shape.split else group[0]
            server = stack.enter_context(
                running_server(directory, own, port=ports[group], data_dir=directory / "data", name=name)
            )
            log(f"{shape.key}: {name} pid {server.process.pid} on port {server.port}; waiting for readiness")
            startup = wait_ready(server, options.startup_timeout)
            system.processes.append(Process(name, group, server, round(startup, 2), rss_mb(server.process.pid)[0]))
            log(f"{shape.key}: {name} ready after {startup:.1f} s")
        yield system


def _service_urls(group: tuple[str, ...]) -> set[str]:
    return {f"{module.upper()}_SERVICE_URL" for module in group}


def check_system(system: System, token: str) -> dict[str, int]:
    """The demo seed is there (asked of the process hosting each module) and the pricing routes answer as
    documented; a customer that does not exist is refused, so the customer is really read."""
    for process in system.processes:
        process.server.token = token
    try:
        return _check_system(system)
    except (KeyError, TypeError, IndexError) as exc:
        raise BenchmarkError(f"{system.shape.key}: a response did not have the documented shape ({exc!r})") from exc


def _check_system(system: System) -> dict[str, int]:
    shape = system.shape.key
    customers_process, carriers_process, pricing = (system.hosting(m) for m in ("customer", "carrier", "pricing"))
    customers = expect(customers_process, "GET", "/api/v1/customers/count", None, 200)["count"]
    carriers = expect(carriers_process, "GET", "/api/v1/carriers/count", None, 200)["count"]
    rules = expect(pricing, "GET", "/api/v1/pricing/rules/count", None, 200)["count"]
    require(customers >= DEMO_CUSTOMERS, f"{shape}: expected the {DEMO_CUSTOMERS} demo customers, found {customers}")
    require(carriers == DEMO_CARRIERS, f"{shape}: expected the {DEMO_CARRIERS} demo carriers, found {carriers}")
    require(rules == DEMO_RULES, f"{shape}: expected the {DEMO_RULES} demo pricing rules, found {rules}")
    for customer_id in DEMO_CUSTOMER_IDS:
        expect(customers_process, "GET", f"/api/v1/customers/{customer_id}", None, 200)

    calculation = expect(pricing, "POST", CALCULATE_PATH, WORKED_EXAMPLE, 201)
    total = calculation["calculation"]["total"]
    require(total == WORKED_EXAMPLE_TOTAL, f"{shape}: the worked example costs {total}, not {WORKED_EXAMPLE_TOTAL}")
    with_customer = {**WORKED_EXAMPLE, "customerId": DEMO_CUSTOMER_IDS[1]}
    calculation = expect(pricing, "POST", CALCULATE_PATH, with_customer, 201)
    kept = calculation["request"]["customerId"]
    require(kept == DEMO_CUSTOMER_IDS[1], f"{shape}: the calculation names customer {kept}, not the one sent")
    missing = json.dumps({**WORKED_EXAMPLE, "customerId": MISSING_CUSTOMER}).encode()
    status, body = http_request(pricing.url(CALCULATE_PATH), pricing.headers, method="POST", body=missing, timeout=10)
    require(status == 400 and b"customerId" in body, f"{shape}: an unknown customer was accepted: {status} {body!r}")
    expect(pricing, "GET", "/api/v1/health/live", None, 200)
    return {"customers": customers, "carriers": carriers, "pricing_rules": rules, "calculations_by_checks": 2}


# ------------------------------------------------------------------------------------------------ load


@dataclass(frozen=True)
class Run:
    """One route of one shape loaded once, with the CPU time every process and server spent meanwhile."""

    round: int  # 0: warm-up
    shape: str
    result: LoadResult
    process_cpu_s: dict[str, float]  # the loaded shape's processes, by name
    idle_shapes_cpu_s: float  # the other shapes' processes (idle: relays, watchers, stream readers)
    database_cpu_s: float
    redis_cpu_s: float

    def per_request_ms(self, seconds: float) -> float:
        return 1000 * seconds / self.result.requests if self.result.requests else 0.0

    @property
    def system_cpu_s(self) -> float:
        return sum(self.process_cpu_s.values())


def _cpu(pids: Mapping[str, int]) -> dict[str, float]:
    return {name: cpu_seconds(pid) for name, pid in pids.items()}


def load_once(
    systems: Mapping[str, System], shape: str, key: str, options: Options, duration: float, workdir: Path, round_: int
) -> Run:
    system = systems[shape]
    mine = {p.name: p.server.process.pid for p in system.processes}
    others = {f"{s}/{p.name}": p.server.process.pid for s, o in systems.items() if s != shape for p in o.processes}
    database, redis = database_pids(), redis_pids()
    before = (_cpu(mine), _cpu(others), total_cpu_seconds(database), total_cpu_seconds(redis))
    result = run_load(system.pricing, BY_KEY[key].route, options.load, duration, workdir)
    after = (_cpu(mine), _cpu(others), total_cpu_seconds(database), total_cpu_seconds(redis))
    run = Run(
        round=round_,
        shape=shape,
        result=result,
        process_cpu_s={name: after[0][name] - before[0][name] for name in mine},
        idle_shapes_cpu_s=sum(after[1].values()) - sum(before[1].values()),
        database_cpu_s=after[2] - before[2],
        redis_cpu_s=after[3] - before[3],
    )
    log(
        f"round {round_} {shape:17} {key:18} {result.rps:8.1f} req/s  p50 {result.p50_ms or 0:6.1f} ms  "
        f"p99 {result.p99_ms or 0:7.1f} ms  pricing cpu {result.cpu_ms_per_request:.2f} ms  "
        f"all cpu {run.per_request_ms(run.system_cpu_s):.2f} ms  errors {result.errors}"
    )
    return run


def measure(systems: Mapping[str, System], options: Options, workdir: Path) -> tuple[list[Run], list[Run]]:
    """Warm-up runs (each route of each shape once), then the rounds: per shape `T A T (B T …)`, the shapes'
    order (and within a shape the routes') rotating from round to round."""
    warmup = []
    if options.warmup > 0:
        log(f"warming up {options.warmup:.0f} s per route and shape")
        for shape in options.shapes:
            for key in ("trivial", *options.routes):
                warmup.append(load_once(systems, shape, key, options, options.warmup, workdir, 0))
    runs = []
    for round_number in range(1, options.rounds + 1):
        shift = (round_number - 1) % len(options.shapes)
        for shape in options.shapes[shift:] + options.shapes[:shift]:
            for key in round_order(options.routes, round_number):
                runs.append(load_once(systems, shape, key, options, options.duration, workdir, round_number))
    return warmup, runs


# --------------------------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class Figures:
    shape: str
    route: str
    runs: int
    requests: int
    errors: int
    rps: float  # medians over the rounds
    ratio: float | None  # median over the rounds of rps / mean of the trivial runs around it
    ratio_min: float | None
    ratio_max: float | None
    vs_baseline: float | None  # median over the rounds of ratio / the one-process shape's ratio in that round
    rps_vs_baseline: float | None  # the same with plain req/s
    p50_ms: float | None
    p99_ms: float | None
    pricing_cpu_ms: float  # the loaded (pricing) process's CPU per request
    system_cpu_ms: float  # every process of the shape
    cpu_by_process_ms: dict[str, float]
    idle_shapes_cpu_ms: float
    database_cpu_ms: float
    redis_cpu_ms: float


def ratios_to_trivial(runs: list[Run]) -> dict[tuple[int, str, str], float]:
    """(round, shape, route) → the run's req/s / the mean req/s of the trivial runs of its shape around it."""
    out: dict[tuple[int, str, str], float] = {}
    for index, run in enumerate(runs):
        if run.result.route == "trivial":
            continue
        around = [runs[index - 1], runs[index + 1]]  # round_order brackets every route with the trivial route
        if any(r.shape != run.shape or r.result.route != "trivial" for r in around):
            raise BenchmarkError("a route's run is not bracketed by trivial runs of its shape")
        trivial_rps = statistics.mean(r.result.rps for r in around)
        if trivial_rps:
            out[(run.round, run.shape, run.result.route)] = run.result.rps / trivial_rps
    return out


def figures(runs: list[Run], options: Options) -> list[Figures]:
    ratios = ratios_to_trivial(runs)
    # the trivial route's "ratio" is 1 by definition; against the baseline it compares the plain req/s
    rps = {(r.round, r.shape, r.result.route): r.result.rps for r in runs if r.result.route != "trivial"}
    trivial: dict[tuple[int, str], list[float]] = {}
    for r in runs:
        if r.result.route == "trivial":
            trivial.setdefault((r.round, r.shape), []).append(r.result.rps)
    out = []
    for shape in options.shapes:
        for route in ("trivial", *options.routes):
            mine = [r for r in runs if r.shape == shape and r.result.route == route]
            summary = medians([r.result for r in mine])
            rounds = sorted({r.round for r in mine})
            if route == "trivial":
                own: list[float] = []
                against = [
                    statistics.mean(trivial[(n, shape)]) / statistics.mean(trivial[(n, BASELINE)]) for n in rounds
                ]
                rps_against = against
            else:
                own = [ratios[(n, shape, route)] for n in rounds if (n, shape, route) in ratios]
                against = [
                    ratios[(n, shape, route)] / ratios[(n, BASELINE, route)]
                    for n in rounds
                    if (n, shape, route) in ratios and (n, BASELINE, route) in ratios
                ]
                rps_against = [rps[(n, shape, route)] / rps[(n, BASELINE, route)] for n in rounds]
            names = sorted({name for r in mine for name in r.process_cpu_s})
            out.append(
                Figures(
                    shape=shape,
                    route=route,
                    runs=summary.runs,
                    requests=summary.requests,
                    errors=summary.errors,
                    rps=summary.rps,
                    ratio=rounded(median_or_none(own), 4),
                    ratio_min=rounded(min(own, default=None), 4),
                    ratio_max=rounded(max(own, default=None), 4),
                    vs_baseline=rounded(median_or_none(against), 4),
                    rps_vs_baseline=rounded(median_or_none(rps_against), 4),
                    p50_ms=summary.p50_ms,
                    p99_ms=summary.p99_ms,
                    pricing_cpu_ms=summary.cpu_ms,
                    system_cpu_ms=round(statistics.median(r.per_request_ms(r.system_cpu_s) for r in mine), 3),
                    cpu_by_process_ms={
                        name: round(statistics.median(r.per_request_ms(r.process_cpu_s[name]) for r in mine), 3)
                        for name in names
                    },
                    idle_shapes_cpu_ms=round(statistics.median(r.per_request_ms(r.idle_shapes_cpu_s) for r in mine), 3),
                    database_cpu_ms=round(statistics.median(r.per_request_ms(r.database_cpu_s) for r in mine), 3),
                    redis_cpu_ms=round(statistics.median(r.per_request_ms(r.redis_cpu_s) for r in mine), 3),
                )
            )
    return out


# --------------------------------------------------------------------------------------------- report


@dataclass
class Report:
    date: str
    git: str
    machine: dict[str, str]
    settings: dict[str, str | float | int]
    shapes: dict[str, dict[str, Any]]
    figures: list[Figures]
    runs: list[dict[str, Any]]
    notes: list[str]


def run_rows(runs: list[Run]) -> list[dict[str, Any]]:
    return [
        {
            "round": run.round,
            "shape": run.shape,
            "route": run.result.route,
            **result_row(run.result),  # cpu_ms: the loaded (pricing) process's
            "system_cpu_ms": round(run.per_request_ms(run.system_cpu_s), 3),
            "cpu_by_process_ms": {name: round(run.per_request_ms(s), 3) for name, s in run.process_cpu_s.items()},
            "idle_shapes_cpu_ms": round(run.per_request_ms(run.idle_shapes_cpu_s), 3),
            "database_cpu_ms": round(run.per_request_ms(run.database_cpu_s), 3),
            "redis_cpu_ms": round(run.per_request_ms(run.redis_cpu_s), 3),
        }
        for run in runs
    ]


def render_markdown(report: Report) -> str:
    settings, machine = report.settings, report.machine
    lines = [
        *header_lines(
            "One process vs. the split topology: `POST /pricing/calculate` with a customer",
            report.date,
            report.git,
            machine,
            str(settings["loadavg_after"]),
        ),
        f"- Load generator: {machine['load_generator']}, {settings['connections']} connections, "
        f"{settings['threads']} threads, {settings['duration_s']} s per run, {settings['warmup_s']} s warm-up "
        f"per route and shape, {settings['rounds']} rounds",
        "- Every process: `freightdesk run`, one uvicorn worker on 127.0.0.1, FREIGHTDESK_LOG_LEVEL=WARNING, "
        "development mode (the documented development service secret), every module on a fresh MariaDB database "
        "of its shape's own, migrated and seeded by the processes: "
        + "; ".join(
            f"{shape} {info['seed']['carriers']} carriers, {info['seed']['pricing_rules']} rules, "
            f"{info['seed']['customers']} customers"
            for shape, info in report.shapes.items()
        ),
        f"- Every request carries a signed access token ({', '.join(f'`{p}`' for p in PERMISSIONS)}); the "
        "trivial route is public and ignores it. The load goes straight to the pricing process of each shape.",
        "",
        "## Shapes",
        "",
        "| shape | processes (modules, port) | what the calculation's reads cross | RSS when ready, MB "
        "| start-up to ready, s |",
        "| --- | --- | --- | ---: | ---: |",
    ]
    for shape, info in report.shapes.items():
        processes = ", ".join(f"{p['name']} :{p['port']}" for p in info["processes"])
        rss = sum(p["rss_ready_mb"] for p in info["processes"])
        startup = sum(p["startup_seconds"] for p in info["processes"])
        lines.append(f"| {shape} | {processes} | {info['what']} | {rss:.0f} | {startup:.1f} |")
    lines += [
        "",
        "## Why ratios",
        "",
        "The machine is shared and noisy (other test runs, the load generator, MariaDB and Redis on the same 2 "
        "CPUs), so absolute requests/s move from minute to minute. Every shape runs side by side for the whole "
        "benchmark; a round loads each shape's pricing process in turn (the shapes' order rotating from round to "
        "round), its trivial route before and after the calculation, and the calculation's throughput is divided "
        "by the mean of the two trivial runs around it. *vs one process* is the median over the rounds of that "
        "ratio divided by the one-process shape's in the same round (for the trivial route: the plain req/s). "
        "Latencies are the medians over the rounds of each run's p50 and p99 (wrk's, at the given connections: "
        "they include queueing). CPU is user + system time per request from `/proc/<pid>/stat`: of the loaded "
        "pricing process, and of all the processes of the shape (in the split shape the carrier and customer "
        "processes answer the directory calls); MariaDB and Redis are whole servers, so upper bounds.",
        "",
        "## Result",
        "",
        "| shape | route | / trivial req/s (median, range) | vs one process | req/s | p50 ms | p99 ms "
        "| pricing process CPU ms/req | all processes CPU ms/req | MariaDB CPU ms/req | Redis CPU ms/req | errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for f in report.figures:
        ratio = (
            "1"
            if f.route == "trivial"
            else f"**{cell(f.ratio, '.3f')}** ({cell(f.ratio_min, '.3f')}-{cell(f.ratio_max, '.3f')})"
        )
        versus = "1" if f.shape == BASELINE else cell(f.vs_baseline, ".3f")
        lines.append(
            f"| {f.shape} | {f.route} | {ratio} | {versus} | {f.rps:.0f} | {cell(f.p50_ms, '.1f')} | "
            f"{cell(f.p99_ms, '.1f')} | {f.pricing_cpu_ms:.3f} | {f.system_cpu_ms:.3f} | {f.database_cpu_ms:.3f} | "
            f"{f.redis_cpu_ms:.3f} | {f.errors} |"
        )
    split = [f for f in report.figures if len(f.cpu_by_process_ms) > 1]
    if split:
        names = sorted({name for f in split for name in f.cpu_by_process_ms})
        lines += [
            "",
            "CPU ms per request by process (medians over the rounds):",
            "",
            "| shape | route | " + " | ".join(names) + " |",
            "| --- | --- | " + " | ".join("---:" for _ in names) + " |",
            *(
                f"| {f.shape} | {f.route} | "
                + " | ".join(cell(f.cpu_by_process_ms.get(name), ".3f") for name in names)
                + " |"
                for f in split
            ),
        ]
    lines += [
        "",
        "- Calculations stored at the end (the load generator's completed calculations, warm-up and checks "
        "included; requests still in flight when a run ended are stored but not counted): "
        + "; ".join(
            f"{shape} {info['stored_calculations']} stored, {info['calculate_requests_counted']} counted"
            for shape, info in report.shapes.items()
        ),
        "- While one shape is loaded the others idle (relays, rule-set watchers, stream readers); their CPU over "
        "the run, per loaded request, is in the JSON (`idle_shapes_cpu_ms`), median "
        + ", ".join(f"{f.shape} {f.idle_shapes_cpu_ms:.3f} ms" for f in report.figures if f.route != "trivial"),
        "",
        "## Runs",
        "",
        "| round | shape | route | requests | seconds | req/s | p50 ms | p99 ms | pricing CPU ms/req "
        "| all processes CPU ms/req | MariaDB CPU ms/req | Redis CPU ms/req | errors |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    keys = (
        "round",
        "shape",
        "route",
        "requests",
        "seconds",
        "rps",
        "p50_ms",
        "p99_ms",
        "cpu_ms",
        "system_cpu_ms",
        "database_cpu_ms",
        "redis_cpu_ms",
        "errors",
    )
    lines += run_table_rows(report.runs, keys)
    lines += footer_lines(report.notes, "split_calculate.py")
    return "\n".join(lines)


def write_results(report: Report, directory: Path) -> tuple[Path, Path]:
    return write_report(directory, "split_calculate", render_markdown(report), asdict(report))


# ------------------------------------------------------------------------------------------------ main


def shape_info(system: System, runs: list[Run]) -> dict[str, Any]:
    counted = system.seed["calculations_by_checks"] + sum(
        r.result.requests for r in runs if r.shape == system.shape.key and r.result.route.startswith("calculate")
    )
    return {
        "what": system.shape.what,
        "databases": system.databases,
        "seed": {k: v for k, v in system.seed.items() if k != "calculations_by_checks"},
        "processes": [
            {
                "name": p.name,
                "modules": list(p.modules),
                "port": p.server.port,
                "startup_seconds": p.startup_seconds,
                "rss_ready_mb": round(p.rss_ready_mb, 1),
                "rss_after_load_mb": round(p.rss_after_mb, 1),
            }
            for p in system.processes
        ],
        "stored_calculations": system.stored_calculations,
        "calculate_requests_counted": counted,
    }


def run(options: Options) -> Report:
    mysql = MySqlServer.from_url(options.mysql_url)
    redis = RedisKeys(options.redis_url)
    shapes = [SHAPES[key] for key in options.shapes]
    names = [name for shape in shapes for name in options.databases(shape).values()]
    try:
        redis_version = redis.version()
        log(f"creating {len(names)} databases ({'root socket' if mysql.root_socket else 'URL'}); Redis {redis.prefix}*")
        with (
            temporary_workdir("fdbench-split-") as workdir,
            fresh_databases(mysql, names) as databases,
            ExitStack() as stack,
        ):
            machine = machine_info(databases[0].version(), options.load_generator) | {"redis": redis_version}
            systems: dict[str, System] = {}
            for shape in shapes:
                systems[shape.key] = stack.enter_context(started_system(shape, options, mysql, redis, workdir))
            for system in systems.values():
                token = access_token(system.pricing.env, token_lifetime(options), PERMISSIONS)
                system.seed = check_system(system, token)
                log(f"{system.shape.key}: seed {system.seed}")
            time.sleep(2)  # let the start-up's events settle before the first measurement
            warmup, runs = measure(systems, options, workdir)
            for system in systems.values():
                for process in system.processes:
                    process.rss_after_mb = rss_mb(process.server.process.pid)[0]
                system.stored_calculations = stored_calculations(system.pricing)
            loadavg_after = load_average()
            infos = {key: shape_info(system, [*warmup, *runs]) for key, system in systems.items()}
        return build_report(options, machine, infos, loadavg_after, warmup, runs)
    finally:
        try:
            deleted = redis.delete_all()
            log(f"deleted {deleted} Redis keys under {redis.prefix}")
        except Exception as exc:  # cleanup must not hide the original error
            log(f"could not delete the Redis keys under {redis.prefix}: {exc}")
        redis.close()


def build_report(
    options: Options,
    machine: dict[str, str],
    shapes: dict[str, dict[str, Any]],
    loadavg_after: str,
    warmup: list[Run],
    runs: list[Run],
) -> Report:
    git = git_describe()
    notes = standard_notes(any(r.result.errors for r in [*warmup, *runs]), git)
    return Report(
        date=report_date(),
        git=git,
        machine=machine,
        settings={
            **options.load_record(),
            "shapes": ",".join(options.shapes),
            "routes": ",".join(options.routes),
            "loadavg_after": loadavg_after,
        },
        shapes=shapes,
        figures=figures(runs, options),
        runs=run_rows([*warmup, *runs]),
        notes=notes,
    )


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    return run_and_report(
        lambda: run(options),
        render_markdown,
        lambda report: write_results(report, options.results_dir),
        lambda report: 2 if any(f.errors for f in report.figures) else 0,
    )


if __name__ == "__main__":
    sys.exit(main())
