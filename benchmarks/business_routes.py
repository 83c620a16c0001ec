"""Benchmark the business routes on MariaDB (pricing, customers) against the trivial route, one server worker.

Starts the real server (`freightdesk run`, one uvicorn worker) with every module on its own fresh MariaDB
database, so the demo seed runs (25 carriers, the demo pricing rules, 250 customers), and loads, each in
turn and in interleaved rounds:

- `POST /api/v1/pricing/calculate` with the worked example of docs/api.md §6.5 (stores a calculation), and
  the same body with a random demo `customerId` (the customer is read through `CustomerDirectory`);
- `POST /api/v1/pricing/quotes`, the same shipment without `carrierId` (nothing stored);
- `GET /api/v1/customers/{id}` (a random demo customer) and `GET /api/v1/customers?page=1&limit=10`;

with `GET /api/v1/health/live` (no I/O, same middleware stack and envelope) before and after each of them.
Reports, per route, the median over the rounds of its throughput as a ratio to the trivial runs around it,
p50/p99 latency and the server's CPU time per request. Results go to stdout and to
`benchmarks/results/business_routes.{md,json}`.

Run on demand, not in CI:

    uv run python benchmarks/business_routes.py [--duration 10] [--rounds 5] [--connections 32]

Uses `wrk` when it is on PATH (`apt-get install wrk`), otherwise a built-in asyncio keep-alive client. The
databases, the server, the token and the load come from `harness.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import (
    DEFAULT_MYSQL_URL,
    RESULTS_DIR,
    TRIVIAL_PATH,
    WRK_DONE,
    WRK_SEEDED,
    BenchmarkError,
    LoadResult,
    LoadSettings,
    MySqlServer,
    Route,
    Server,
    access_token,
    cpu_seconds,
    fresh_databases,
    git_describe,
    http_request,
    load_average,
    log,
    lua_string,
    machine_info,
    resolve_load_generator,
    rss_mb,
    run_load,
    running_server,
    shown_path,
    wait_ready,
    write_text_atomically,
)

# Every module on its own database: `<prefix>_<module>`, named by `<MODULE>_DATABASE_URL`.
MODULES = ("auth", "user", "customer", "carrier", "pricing")
DEFAULT_DATABASE_PREFIX = "fdbench_biz"
DEMO_CUSTOMER_IDS = (1, 250)
DEMO_CUSTOMERS = 250
DEMO_CARRIERS = 25
DEMO_RULES = 6
FIRST_DEMO_CUSTOMER = "hannah.smith@example.net"
PERMISSIONS = ("pricing.calculate", "pricing.view", "customers.read", "customers.list", "carriers.list")
# docs/api.md §6.5, first worked example: base rule "FedEx Express Domestic", total 37.27 USD.
WORKED_EXAMPLE: dict[str, Any] = {
    "carrierId": 1,
    "serviceType": "Express",
    "weight": 5.5,
    "originCountry": "US",
    "destinationCountry": "US",
}
WORKED_EXAMPLE_TOTAL = 37.27
QUOTE_BODY = {key: value for key, value in WORKED_EXAMPLE.items() if key != "carrierId"}
CALCULATE_PATH = "/api/v1/pricing/calculate"
QUOTES_PATH = "/api/v1/pricing/quotes"
CUSTOMER_PATH = "/api/v1/customers/{id}"
CUSTOMER_LIST_PATH = "/api/v1/customers?page=1&limit=10"


def _json(body: Mapping[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"))


def wrk_script(method: str, path: str, body: str | None = None, *, seeded: bool = False) -> str:
    """A wrk script whose `request()` builds each request with `wrk.format` (as carrier_read's do); `path` and
    `body` are Lua expressions. The server's headers (the token) come from the command line."""
    parts = [WRK_SEEDED if seeded else ""]
    arguments = f"{lua_string(method)}, {path}"
    if body is not None:
        parts.append('wrk.headers["Content-Type"] = "application/json"\n')
        arguments += f", nil, {body}"
    parts.append(f"request = function()\n  return wrk.format({arguments})\nend\n")
    return "".join(parts) + WRK_DONE


def _random_customer_id() -> int:
    return random.randint(*DEMO_CUSTOMER_IDS)


# The body with a customer: the worked example's JSON with `"customerId":<random demo id>` added at the end.
_CUSTOMER_BODY_HEAD = _json(WORKED_EXAMPLE)[:-1] + ',"customerId":'
_LUA_RANDOM_CUSTOMER = f"math.random({DEMO_CUSTOMER_IDS[0]}, {DEMO_CUSTOMER_IDS[1]})"


@dataclass(frozen=True)
class BusinessRoute:
    """A measured route: what the report calls it, and how it is loaded."""

    key: str
    request: str  # as shown in the report
    what: str
    route: Route


def _fixed(method: str, path: str, body: str | None) -> Callable[[], tuple[str, str, bytes | None]]:
    data = None if body is None else body.encode()
    return lambda: (method, path, data)


TRIVIAL = BusinessRoute(
    "trivial",
    f"GET {TRIVIAL_PATH}",
    "no I/O: the same middleware stack, guards and envelope",
    Route("trivial", wrk_script("GET", lua_string(TRIVIAL_PATH)), _fixed("GET", TRIVIAL_PATH, None)),
)
ROUTES: tuple[BusinessRoute, ...] = (
    BusinessRoute(
        "calculate",
        f"POST {CALCULATE_PATH}",
        f"worked example `{_json(WORKED_EXAMPLE)}`: carrier checked through `CarrierDirectory`, rule set priced, "
        "one calculation and its applied rule stored (201)",
        Route(
            "calculate",
            wrk_script("POST", lua_string(CALCULATE_PATH), lua_string(_json(WORKED_EXAMPLE))),
            _fixed("POST", CALCULATE_PATH, _json(WORKED_EXAMPLE)),
        ),
    ),
    BusinessRoute(
        "calculate_customer",
        f"POST {CALCULATE_PATH} (customerId)",
        "the same with `customerId` a random demo customer (1..250), read through `CustomerDirectory`",
        Route(
            "calculate_customer",
            wrk_script(
                "POST",
                lua_string(CALCULATE_PATH),
                f'{lua_string(_CUSTOMER_BODY_HEAD)} .. {_LUA_RANDOM_CUSTOMER} .. "}}"',
                seeded=True,
            ),
            lambda: ("POST", CALCULATE_PATH, f"{_CUSTOMER_BODY_HEAD}{_random_customer_id()}}}".encode()),
        ),
    ),
    BusinessRoute(
        "quotes",
        f"POST {QUOTES_PATH}",
        f"`{_json(QUOTE_BODY)}`: every active carrier priced from the compiled rule set, nothing stored (200)",
        Route(
            "quotes",
            wrk_script("POST", lua_string(QUOTES_PATH), lua_string(_json(QUOTE_BODY))),
            _fixed("POST", QUOTES_PATH, _json(QUOTE_BODY)),
        ),
    ),
    BusinessRoute(
        "customer",
        f"GET {CUSTOMER_PATH}",
        "a random demo customer (1..250) per request",
        Route(
            "customer",
            wrk_script("GET", f'"/api/v1/customers/" .. {_LUA_RANDOM_CUSTOMER}', seeded=True),
            lambda: ("GET", CUSTOMER_PATH.format(id=_random_customer_id()), None),
        ),
    ),
    BusinessRoute(
        "customer_list",
        f"GET {CUSTOMER_LIST_PATH}",
        "first page of 10, default order (createdAt DESC): a count and a page select",
        Route(
            "customer_list",
            wrk_script("GET", lua_string(CUSTOMER_LIST_PATH)),
            _fixed("GET", CUSTOMER_LIST_PATH, None),
        ),
    ),
)
ROUTE_KEYS = tuple(r.key for r in ROUTES)
BY_KEY = {r.key: r for r in (TRIVIAL, *ROUTES)}


# --------------------------------------------------------------------------------------------- options


@dataclass(frozen=True)
class Options:
    mysql_url: str
    database_prefix: str
    duration: float
    connections: int
    threads: int
    rounds: int
    warmup: float
    startup_timeout: float
    results_dir: Path
    load_generator: str
    routes: tuple[str, ...]

    @property
    def load(self) -> LoadSettings:
        return LoadSettings(self.load_generator, self.connections, self.threads)

    def databases(self) -> dict[str, str]:
        """module → database name."""
        return {module: f"{self.database_prefix}_{module}" for module in MODULES}


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--mysql-url",
        default=os.environ.get("FREIGHTDESK_BENCH_MYSQL_URL", DEFAULT_MYSQL_URL),
        help="MariaDB server URL without a database (env FREIGHTDESK_BENCH_MYSQL_URL; default %(default)s)",
    )
    parser.add_argument(
        "--database-prefix",
        default=DEFAULT_DATABASE_PREFIX,
        help="Databases <prefix>_<module> are created and dropped by the run (default %(default)s)",
    )
    parser.add_argument("--duration", type=float, default=10.0, help="Seconds per route per round")
    parser.add_argument("--connections", type=int, default=32, help="Concurrent keep-alive connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--rounds", type=int, default=5, help="Interleaved rounds; medians are reported")
    parser.add_argument("--warmup", type=float, default=3.0, help="Seconds of load per route before measuring")
    parser.add_argument("--startup-timeout", type=float, default=120.0, help="Seconds to wait for readiness")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="Where the .md and .json go")
    parser.add_argument(
        "--load-generator", choices=("auto", "wrk", "builtin"), default="auto", help="auto: wrk if on PATH"
    )
    parser.add_argument(
        "--routes",
        default=",".join(ROUTE_KEYS),
        help="Comma list of the routes to measure, in this order (default: all: %(default)s)",
    )
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[A-Za-z0-9_]{1,50}", args.database_prefix):
        parser.error("--database-prefix: letters, digits and underscores only, at most 50")
    if args.duration <= 0 or args.duration > 600 or args.rounds < 1 or args.connections < 1 or args.threads < 1:
        parser.error("--duration must be in (0, 600]; --rounds, --connections and --threads at least 1")
    routes = tuple(dict.fromkeys(key.strip() for key in args.routes.split(",") if key.strip()))
    unknown = [key for key in routes if key not in ROUTE_KEYS]
    if unknown or not routes:
        parser.error(f"--routes: choose from {', '.join(ROUTE_KEYS)}")
    try:
        generator = resolve_load_generator(args.load_generator)
    except BenchmarkError as exc:
        parser.error(str(exc))
    return Options(
        mysql_url=args.mysql_url,
        database_prefix=args.database_prefix,
        duration=args.duration,
        connections=args.connections,
        threads=min(args.threads, args.connections),
        rounds=args.rounds,
        warmup=args.warmup,
        startup_timeout=args.startup_timeout,
        results_dir=args.results_dir,
        load_generator=generator,
        routes=routes,
    )


def token_lifetime(options: Options) -> int:
    runs = (len(options.routes) + 1) * (options.warmup + options.rounds * 2 * options.duration)
    return int(2 * runs) + 600


# ---------------------------------------------------------------------------------------------- checks


def _call(server: Server, method: str, path: str, body: Mapping[str, Any] | None = None) -> tuple[int, Any]:
    data = None if body is None else _json(body).encode()
    status, raw = http_request(server.url(path), server.headers, method=method, body=data, timeout=10.0)
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def expect(server: Server, method: str, path: str, body: Mapping[str, Any] | None, status: int) -> Any:
    answered, document = _call(server, method, path, body)
    if answered != status or not isinstance(document, dict):
        raise BenchmarkError(f"{method} {path} answered {answered}, expected {status}: {document}\n{server.log_tail()}")
    return document.get("data")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise BenchmarkError(message)


def check_seed_and_routes(server: Server) -> dict[str, int]:
    """The demo seed is there and every measured route answers as documented; returns the seed's counts."""
    try:
        return _check_seed_and_routes(server)
    except (KeyError, TypeError, IndexError) as exc:
        raise BenchmarkError(f"a response did not have the documented shape ({exc!r})") from exc


def _check_seed_and_routes(server: Server) -> dict[str, int]:
    customers = expect(server, "GET", "/api/v1/customers/count", None, 200)["count"]
    carriers = expect(server, "GET", "/api/v1/carriers/count", None, 200)["count"]
    rules = expect(server, "GET", "/api/v1/pricing/rules/count", None, 200)["count"]
    _require(customers >= DEMO_CUSTOMERS, f"expected the {DEMO_CUSTOMERS} demo customers, found {customers}")
    _require(carriers == DEMO_CARRIERS, f"expected the {DEMO_CARRIERS} demo carriers, found {carriers}")
    _require(rules == DEMO_RULES, f"expected the {DEMO_RULES} demo pricing rules, found {rules}")
    first = expect(server, "GET", CUSTOMER_PATH.format(id=1), None, 200)
    _require(first["email"] == FIRST_DEMO_CUSTOMER, f"customer 1 is {first['email']}, not the first demo customer")
    last = expect(server, "GET", CUSTOMER_PATH.format(id=DEMO_CUSTOMER_IDS[1]), None, 200)
    _require(last["userId"] is None, f"customer {DEMO_CUSTOMER_IDS[1]} is a user's profile, not a demo customer")

    calculation = expect(server, "POST", CALCULATE_PATH, WORKED_EXAMPLE, 201)
    total = calculation["calculation"]["total"]
    _require(total == WORKED_EXAMPLE_TOTAL, f"the worked example costs {total}, expected {WORKED_EXAMPLE_TOTAL}")
    with_customer = {**WORKED_EXAMPLE, "customerId": DEMO_CUSTOMER_IDS[1]}
    calculation = expect(server, "POST", CALCULATE_PATH, with_customer, 201)
    _require(calculation["request"]["customerId"] == DEMO_CUSTOMER_IDS[1], "the calculation lost its customerId")
    quotes = expect(server, "POST", QUOTES_PATH, QUOTE_BODY, 200)["quotes"]
    totals = {q["carrierId"]: q["calculation"]["total"] for q in quotes}
    _require(totals.get(1) == WORKED_EXAMPLE_TOTAL, f"the quotes do not price carrier 1 at 37.27: {totals}")
    page = expect(server, "GET", CUSTOMER_LIST_PATH, None, 200)
    _require(len(page["customers"]) == 10, f"the first page holds {len(page['customers'])} customers, not 10")
    expect(server, "GET", TRIVIAL_PATH, None, 200)
    return {
        "customers": customers,
        "carriers": carriers,
        "pricing_rules": rules,
        "calculations_by_checks": 2,
    }


def stored_calculations(server: Server) -> int:
    count: int = expect(server, "GET", "/api/v1/pricing/calculations/count", None, 200)["count"]
    return count


def database_pids() -> list[int]:
    """The local MariaDB server's process (its CPU time is read like the server's; it may serve others too)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in {"mariadbd", "mysqld"}:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def database_cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except OSError:
            continue
    return total


# ------------------------------------------------------------------------------------------------ load


@dataclass(frozen=True)
class Run:
    """One route loaded once: its round (0 for the warm-up) and the MariaDB CPU time spent meanwhile."""

    round: int
    result: LoadResult
    database_cpu_s: float

    @property
    def database_cpu_ms(self) -> float:
        return 1000 * self.database_cpu_s / self.result.requests if self.result.requests else 0.0


def load_once(server: Server, key: str, options: Options, duration: float, workdir: Path, round_: int) -> Run:
    pids = database_pids()
    before = database_cpu_seconds(pids)
    result = run_load(server, BY_KEY[key].route, options.load, duration, workdir)
    run = Run(round_, result, database_cpu_seconds(pids) - before)
    log(
        f"round {round_} {key:18} {result.rps:8.1f} req/s  p50 {result.p50_ms or 0:6.1f} ms  "
        f"p99 {result.p99_ms or 0:7.1f} ms  cpu {result.cpu_ms_per_request:.3f} ms  errors {result.errors}"
    )
    return run


def round_order(routes: tuple[str, ...], round_number: int) -> list[str]:
    """Trivial, then each route followed by trivial; the routes' order rotates from round to round."""
    shift = (round_number - 1) % len(routes)
    order = ["trivial"]
    for key in routes[shift:] + routes[:shift]:
        order += [key, "trivial"]
    return order


def measure(server: Server, options: Options, workdir: Path) -> tuple[list[Run], list[Run]]:
    """Warm-up runs (each route once), then the interleaved rounds."""
    warmup = []
    if options.warmup > 0:
        log(f"warming up {options.warmup:.0f} s per route")
        warmup = [load_once(server, key, options, options.warmup, workdir, 0) for key in ("trivial", *options.routes)]
    runs = []
    for round_number in range(1, options.rounds + 1):
        for key in round_order(options.routes, round_number):
            runs.append(load_once(server, key, options, options.duration, workdir, round_number))
    return warmup, runs


# --------------------------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class RouteFigures:
    key: str
    request: str
    what: str
    runs: int
    requests: int
    errors: int
    rps: float  # median over the rounds
    ratio: float | None  # median over the rounds of rps / mean of the trivial runs around it
    ratio_min: float | None
    ratio_max: float | None
    p50_ms: float | None  # medians over the rounds
    p99_ms: float | None
    cpu_ms: float
    cpu_ratio: float | None  # median of (trivial CPU ms around it) / (this run's CPU ms)
    database_cpu_ms: float


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def figures(runs: list[Run], keys: tuple[str, ...]) -> list[RouteFigures]:
    ratios: dict[str, list[float]] = {key: [] for key in keys}
    cpu_ratios: dict[str, list[float]] = {key: [] for key in keys}
    for index, run in enumerate(runs):
        if run.result.route == "trivial":
            continue
        around = [runs[index - 1].result, runs[index + 1].result]  # round_order brackets every route
        trivial_rps = statistics.mean(r.rps for r in around)
        trivial_cpu = statistics.mean(r.cpu_ms_per_request for r in around)
        if trivial_rps:
            ratios[run.result.route].append(run.result.rps / trivial_rps)
        if run.result.cpu_ms_per_request:
            cpu_ratios[run.result.route].append(trivial_cpu / run.result.cpu_ms_per_request)
    out = []
    for key in ("trivial", *keys):
        mine = [r for r in runs if r.result.route == key]
        results = [r.result for r in mine]
        route = BY_KEY[key]
        out.append(
            RouteFigures(
                key=key,
                request=route.request,
                what=route.what,
                runs=len(mine),
                requests=sum(r.requests for r in results),
                errors=sum(r.errors for r in results),
                rps=round(statistics.median(r.rps for r in results), 1),
                ratio=_rounded(_median(ratios.get(key, [])), 4),
                ratio_min=_rounded(min(ratios.get(key, []), default=None), 4),
                ratio_max=_rounded(max(ratios.get(key, []), default=None), 4),
                p50_ms=_rounded(_median([r.p50_ms for r in results if r.p50_ms is not None]), 2),
                p99_ms=_rounded(_median([r.p99_ms for r in results if r.p99_ms is not None]), 2),
                cpu_ms=round(statistics.median(r.cpu_ms_per_request for r in results), 3),
                cpu_ratio=_rounded(_median(cpu_ratios.get(key, [])), 4),
                database_cpu_ms=round(statistics.median(r.database_cpu_ms for r in mine), 3),
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
    databases: dict[str, str]
    seed: dict[str, int]
    startup_seconds: float
    rss_ready_mb: float
    rss_after_load_mb: float
    stored_calculations: int
    calculate_requests_counted: int
    routes: list[RouteFigures]
    runs: list[dict[str, float | int | str | None]]
    notes: list[str]


def run_rows(runs: list[Run]) -> list[dict[str, float | int | str | None]]:
    return [
        {
            "round": run.round,
            "route": run.result.route,
            "requests": run.result.requests,
            "seconds": round(run.result.seconds, 2),
            "rps": round(run.result.rps, 1),
            "p50_ms": _rounded(run.result.p50_ms, 2),
            "p99_ms": _rounded(run.result.p99_ms, 2),
            "cpu_ms": round(run.result.cpu_ms_per_request, 3),
            "database_cpu_ms": round(run.database_cpu_ms, 3),
            "errors": run.result.errors,
        }
        for run in runs
    ]


def _cell(value: float | int | str | None, spec: str = "") -> str:
    return "-" if value is None else format(value, spec)


def render_markdown(report: Report) -> str:
    settings, machine = report.settings, report.machine
    seed = report.seed
    lines = [
        "# Business routes benchmark",
        "",
        f"- Date: {report.date}",
        f"- Revision: `{report.git}`",
        f"- Machine: {machine['nproc']} CPU(s), {machine['cpu']}, Linux {machine['kernel']}",
        f"- Python {machine['python']}, MariaDB {machine['mariadb']}; load average {machine['loadavg']} before the "
        f"run and {settings['loadavg_after']} after it (1/5/15 min): the machine is shared with other work",
        f"- Load generator: {machine['load_generator']}, {settings['connections']} connections, "
        f"{settings['threads']} threads, {settings['duration_s']} s per run, {settings['warmup_s']} s warm-up "
        f"per route, {settings['rounds']} rounds",
        "- Server: `freightdesk run`, one uvicorn worker on 127.0.0.1, FREIGHTDESK_LOG_LEVEL=WARNING; every module "
        "on its own fresh MariaDB database ("
        + ", ".join(f"{module} `{name}`" for module, name in report.databases.items())
        + f"), migrated and seeded by the server: {seed['carriers']} carriers, {seed['pricing_rules']} pricing "
        f"rules, {seed['customers']} customers (the {DEMO_CUSTOMERS} demo customers and the users' own profiles)",
        f"- Every request carries a signed access token ({', '.join(f'`{p}`' for p in PERMISSIONS)}) that the "
        "server verifies; the trivial route is public and ignores it",
        "",
        "## Why ratios",
        "",
        "The machine is shared and noisy (other test runs, the load generator and MariaDB on the same 2 CPUs), so "
        "absolute requests/s move from minute to minute and between runs. Each round runs the trivial route "
        "before and after every business route (`T A T B T … T`, the routes' order rotating from round to round); "
        "a route's throughput is divided by the mean of the two trivial runs around it, and the table reports the "
        "median of these ratios over the rounds (with their range). The server's CPU time per request "
        "(user + system of the one server process, `/proc/<pid>/stat`) is less sensitive to other work; "
        "trivial CPU / route CPU is the same comparison measured that way. Latencies are the medians over the "
        "rounds of each run's p50 and p99 (wrk's, at the given connections: they include queueing).",
        "",
        "## Result",
        "",
        "| route | request | / trivial req/s (median, range) | req/s (median) | p50 ms | p99 ms "
        "| server CPU ms/req | trivial CPU / route CPU | MariaDB CPU ms/req | errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for route in report.routes:
        ratio = (
            "1"
            if route.key == "trivial"
            else f"**{_cell(route.ratio, '.3f')}** ({_cell(route.ratio_min, '.3f')}-{_cell(route.ratio_max, '.3f')})"
        )
        cpu_ratio = "1" if route.key == "trivial" else _cell(route.cpu_ratio, ".3f")
        lines.append(
            f"| {route.key} | `{route.request}` | {ratio} | {route.rps:.0f} | {_cell(route.p50_ms, '.1f')} | "
            f"{_cell(route.p99_ms, '.1f')} | {route.cpu_ms:.3f} | {cpu_ratio} | {route.database_cpu_ms:.3f} | "
            f"{route.errors} |"
        )
    lines += [
        "",
        "What each route does:",
        "",
        *(f"- `{route.key}`: {route.what}" for route in report.routes),
        "",
        f"- Calculations stored at the end: {report.stored_calculations} (the load generator counted "
        f"{report.calculate_requests_counted} completed `POST /pricing/calculate`, warm-up and checks included; "
        "requests still in flight when a run ended are stored but not counted)",
        f"- Server RSS: {report.rss_ready_mb:.1f} MB when ready, {report.rss_after_load_mb:.1f} MB after the load; "
        f"start-up to ready (migrate and seed five databases, hash the demo users' passwords): "
        f"{report.startup_seconds:.1f} s",
        "- MariaDB CPU ms/req is the database server's CPU time over the run divided by the requests: an upper "
        "bound, since other work on the machine may use the same database server.",
        "",
        "## Runs",
        "",
        "| round | route | requests | seconds | req/s | p50 ms | p99 ms | server CPU ms/req | MariaDB CPU ms/req "
        "| errors |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    keys = ("round", "route", "requests", "seconds", "rps", "p50_ms", "p99_ms", "cpu_ms", "database_cpu_ms", "errors")
    for row in report.runs:
        cells = [_cell(row[k]) for k in keys]
        lines.append("| " + " | ".join(["warm-up" if row["round"] == 0 else cells[0], *cells[1:]]) + " |")
    if report.notes:
        lines += ["", "## Notes", "", *(f"- {note}" for note in report.notes)]
    lines += ["", "Rerun: `uv run python benchmarks/business_routes.py` (see benchmarks/README.md).", ""]
    return "\n".join(lines)


def write_results(report: Report, directory: Path) -> tuple[Path, Path]:
    markdown = directory / "business_routes.md"
    data = directory / "business_routes.json"
    write_text_atomically(markdown, render_markdown(report))
    write_text_atomically(data, json.dumps(asdict(report), indent=2) + "\n")
    return markdown, data


# ------------------------------------------------------------------------------------------------ main


def build_report(
    options: Options,
    machine: dict[str, str],
    state: dict[str, Any],
    warmup: list[Run],
    runs: list[Run],
) -> Report:
    notes = []
    if any(r.result.errors for r in [*warmup, *runs]):
        notes.append("Some requests failed (see the errors column): the figures are not trustworthy.")
    git = git_describe()
    if git.endswith("-dirty"):
        notes.append("The working tree had uncommitted changes when this ran.")
    counted = state["seed"]["calculations_by_checks"] + sum(
        r.result.requests for r in [*warmup, *runs] if r.result.route.startswith("calculate")
    )
    return Report(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        git=git,
        machine=machine,
        settings={
            "connections": options.connections,
            "threads": options.threads if options.load_generator == "wrk" else 1,
            "duration_s": options.duration,
            "rounds": options.rounds,
            "warmup_s": options.warmup,
            "routes": ",".join(options.routes),
            "loadavg_after": state["loadavg_after"],
        },
        databases=options.databases(),
        seed={k: v for k, v in state["seed"].items() if k != "calculations_by_checks"},
        startup_seconds=round(state["startup"], 2),
        rss_ready_mb=round(state["rss_ready"], 1),
        rss_after_load_mb=round(state["rss_after"], 1),
        stored_calculations=state["stored"],
        calculate_requests_counted=counted,
        routes=figures(runs, options.routes),
        runs=run_rows([*warmup, *runs]),
        notes=notes,
    )


def run(options: Options) -> Report:
    server_info = MySqlServer.from_url(options.mysql_url)
    names = options.databases()
    workdir = Path(tempfile.mkdtemp(prefix="fdbench-biz-"))
    try:
        log(f"creating {', '.join(names.values())} ({'root socket' if server_info.root_socket else 'URL'})")
        with fresh_databases(server_info, names.values()) as databases:
            machine = machine_info(databases[0].version(), options.load_generator)
            urls = {f"{module.upper()}_DATABASE_URL": server_info.database_url(name) for module, name in names.items()}
            with running_server(workdir, urls) as server:
                log(f"server pid {server.process.pid} on port {server.port}; waiting for readiness")
                state: dict[str, Any] = {"startup": wait_ready(server, options.startup_timeout)}
                server.token = access_token(server.env, token_lifetime(options), PERMISSIONS)
                state["seed"] = check_seed_and_routes(server)
                state["rss_ready"] = rss_mb(server.process.pid)[0]
                log(f"ready after {state['startup']:.1f} s; seed {state['seed']}; RSS {state['rss_ready']:.1f} MB")
                warmup, runs = measure(server, options, workdir)
                state["rss_after"] = rss_mb(server.process.pid)[0]
                state["stored"] = stored_calculations(server)
                state["loadavg_after"] = load_average()
        return build_report(options, machine, state, warmup, runs)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    try:
        report = run(options)
    except (BenchmarkError, subprocess.SubprocessError, OSError) as exc:
        log(f"failed: {exc}")
        return 1
    print(render_markdown(report))
    markdown, data = write_results(report, options.results_dir)
    log(f"wrote {shown_path(markdown)} and {data.name}")
    return 2 if any(route.errors for route in report.routes) else 0


if __name__ == "__main__":
    sys.exit(main())
