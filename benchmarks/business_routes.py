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
import random
import statistics
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness import (
    TRIVIAL_PATH,
    BenchmarkError,
    CommonOptions,
    MySqlServer,
    Route,
    Run,
    Server,
    access_token,
    add_common_arguments,
    cell,
    check_identifier,
    comma_list,
    common_options,
    compact_json,
    expect,
    fixed_route,
    footer_lines,
    fresh_databases,
    git_describe,
    header_lines,
    load_average,
    load_once,
    log,
    lua_string,
    machine_info,
    median_or_none,
    medians,
    module_database_urls,
    report_date,
    require,
    result_row,
    rounded,
    rss_mb,
    run_and_report,
    run_table_rows,
    running_server,
    standard_notes,
    temporary_workdir,
    wait_ready,
    write_report,
    wrk_script,
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


def _random_customer_id() -> int:
    return random.randint(*DEMO_CUSTOMER_IDS)


# The body with a customer: the worked example's JSON with `"customerId":<random demo id>` added at the end.
_CUSTOMER_BODY_HEAD = compact_json(WORKED_EXAMPLE)[:-1] + ',"customerId":'
_LUA_RANDOM_CUSTOMER = f"math.random({DEMO_CUSTOMER_IDS[0]}, {DEMO_CUSTOMER_IDS[1]})"


@dataclass(frozen=True)
class BusinessRoute:
    """A measured route: what the report calls it, and how it is loaded."""

    key: str
    request: str  # as shown in the report
    what: str
    route: Route


TRIVIAL = BusinessRoute(
    "trivial",
    f"GET {TRIVIAL_PATH}",
    "no I/O: the same middleware stack, guards and envelope",
    fixed_route("trivial", "GET", TRIVIAL_PATH),
)
ROUTES: tuple[BusinessRoute, ...] = (
    BusinessRoute(
        "calculate",
        f"POST {CALCULATE_PATH}",
        f"worked example `{compact_json(WORKED_EXAMPLE)}`: carrier checked through `CarrierDirectory`, rule set "
        "priced, one calculation and its applied rule stored (201)",
        fixed_route("calculate", "POST", CALCULATE_PATH, compact_json(WORKED_EXAMPLE)),
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
        f"`{compact_json(QUOTE_BODY)}`: every active carrier priced from the compiled rule set, nothing stored (200)",
        fixed_route("quotes", "POST", QUOTES_PATH, compact_json(QUOTE_BODY)),
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
        fixed_route("customer_list", "GET", CUSTOMER_LIST_PATH),
    ),
)
ROUTE_KEYS = tuple(r.key for r in ROUTES)
BY_KEY = {r.key: r for r in (TRIVIAL, *ROUTES)}


# --------------------------------------------------------------------------------------------- options


@dataclass(frozen=True)
class Options(CommonOptions):
    database_prefix: str
    routes: tuple[str, ...]

    def databases(self) -> dict[str, str]:
        """module → database name."""
        return {module: f"{self.database_prefix}_{module}" for module in MODULES}


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser, duration=10.0, rounds=5, startup_timeout=120.0)
    parser.add_argument(
        "--database-prefix",
        default=DEFAULT_DATABASE_PREFIX,
        help="Databases <prefix>_<module> are created and dropped by the run (default %(default)s)",
    )
    parser.add_argument(
        "--routes",
        default=",".join(ROUTE_KEYS),
        help="Comma list of the routes to measure, in this order (default: all: %(default)s)",
    )
    args = parser.parse_args(argv)
    check_identifier(parser, "--database-prefix", args.database_prefix, 50)
    routes = comma_list(args.routes)
    if not routes or any(key not in ROUTE_KEYS for key in routes):
        parser.error(f"--routes: choose from {', '.join(ROUTE_KEYS)}")
    return Options(**common_options(parser, args), database_prefix=args.database_prefix, routes=routes)


def token_lifetime(options: Options) -> int:
    runs = (len(options.routes) + 1) * (options.warmup + options.rounds * 2 * options.duration)
    return int(2 * runs) + 600


# ---------------------------------------------------------------------------------------------- checks


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
    require(customers >= DEMO_CUSTOMERS, f"expected the {DEMO_CUSTOMERS} demo customers, found {customers}")
    require(carriers == DEMO_CARRIERS, f"expected the {DEMO_CARRIERS} demo carriers, found {carriers}")
    require(rules == DEMO_RULES, f"expected the {DEMO_RULES} demo pricing rules, found {rules}")
    first = expect(server, "GET", CUSTOMER_PATH.format(id=1), None, 200)
    require(first["email"] == FIRST_DEMO_CUSTOMER, f"customer 1 is {first['email']}, not the first demo customer")
    last = expect(server, "GET", CUSTOMER_PATH.format(id=DEMO_CUSTOMER_IDS[1]), None, 200)
    require(last["userId"] is None, f"customer {DEMO_CUSTOMER_IDS[1]} is a user's profile, not a demo customer")

    calculation = expect(server, "POST", CALCULATE_PATH, WORKED_EXAMPLE, 201)
    total = calculation["calculation"]["total"]
    require(total == WORKED_EXAMPLE_TOTAL, f"the worked example costs {total}, expected {WORKED_EXAMPLE_TOTAL}")
    with_customer = {**WORKED_EXAMPLE, "customerId": DEMO_CUSTOMER_IDS[1]}
    calculation = expect(server, "POST", CALCULATE_PATH, with_customer, 201)
    require(calculation["request"]["customerId"] == DEMO_CUSTOMER_IDS[1], "the calculation lost its customerId")
    quotes = expect(server, "POST", QUOTES_PATH, QUOTE_BODY, 200)["quotes"]
    totals = {q["carrierId"]: q["calculation"]["total"] for q in quotes}
    require(totals.get(1) == WORKED_EXAMPLE_TOTAL, f"the quotes do not price carrier 1 at 37.27: {totals}")
    page = expect(server, "GET", CUSTOMER_LIST_PATH, None, 200)
    require(len(page["customers"]) == 10, f"the first page holds {len(page['customers'])} customers, not 10")
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


def load(server: Server, key: str, options: Options, duration: float, workdir: Path, round_: int) -> Run:
    return load_once(server, BY_KEY[key].route, options.load, duration, workdir, round_)


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
        warmup = [load(server, key, options, options.warmup, workdir, 0) for key in ("trivial", *options.routes)]
    runs = []
    for round_number in range(1, options.rounds + 1):
        for key in round_order(options.routes, round_number):
            runs.append(load(server, key, options, options.duration, workdir, round_number))
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
        summary = medians([r.result for r in mine])
        route = BY_KEY[key]
        out.append(
            RouteFigures(
                key=key,
                request=route.request,
                what=route.what,
                runs=summary.runs,
                requests=summary.requests,
                errors=summary.errors,
                rps=summary.rps,
                ratio=rounded(median_or_none(ratios.get(key, [])), 4),
                ratio_min=rounded(min(ratios.get(key, []), default=None), 4),
                ratio_max=rounded(max(ratios.get(key, []), default=None), 4),
                p50_ms=summary.p50_ms,
                p99_ms=summary.p99_ms,
                cpu_ms=summary.cpu_ms,
                cpu_ratio=rounded(median_or_none(cpu_ratios.get(key, [])), 4),
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
            **result_row(run.result),
            "database_cpu_ms": round(run.database_cpu_ms, 3),
        }
        for run in runs
    ]


def render_markdown(report: Report) -> str:
    settings, machine = report.settings, report.machine
    seed = report.seed
    lines = [
        *header_lines("Business routes benchmark", report.date, report.git, machine, str(settings["loadavg_after"])),
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
            else f"**{cell(route.ratio, '.3f')}** ({cell(route.ratio_min, '.3f')}-{cell(route.ratio_max, '.3f')})"
        )
        cpu_ratio = "1" if route.key == "trivial" else cell(route.cpu_ratio, ".3f")
        lines.append(
            f"| {route.key} | `{route.request}` | {ratio} | {route.rps:.0f} | {cell(route.p50_ms, '.1f')} | "
            f"{cell(route.p99_ms, '.1f')} | {route.cpu_ms:.3f} | {cpu_ratio} | {route.database_cpu_ms:.3f} | "
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
    lines += run_table_rows(report.runs, keys)
    lines += footer_lines(report.notes, "business_routes.py")
    return "\n".join(lines)


def write_results(report: Report, directory: Path) -> tuple[Path, Path]:
    return write_report(directory, "business_routes", render_markdown(report), asdict(report))


# ------------------------------------------------------------------------------------------------ main


def build_report(
    options: Options,
    machine: dict[str, str],
    state: dict[str, Any],
    warmup: list[Run],
    runs: list[Run],
) -> Report:
    git = git_describe()
    notes = standard_notes(any(r.result.errors for r in [*warmup, *runs]), git)
    counted = state["seed"]["calculations_by_checks"] + sum(
        r.result.requests for r in [*warmup, *runs] if r.result.route.startswith("calculate")
    )
    return Report(
        date=report_date(),
        git=git,
        machine=machine,
        settings={
            **options.load_record(),
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
    log(f"creating {', '.join(names.values())} ({'root socket' if server_info.root_socket else 'URL'})")
    with temporary_workdir("fdbench-biz-") as workdir, fresh_databases(server_info, names.values()) as databases:
        machine = machine_info(databases[0].version(), options.load_generator)
        with running_server(workdir, module_database_urls(server_info, names)) as server:
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


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    return run_and_report(
        lambda: run(options),
        render_markdown,
        lambda report: write_results(report, options.results_dir),
        lambda report: 2 if any(route.errors for route in report.routes) else 0,
    )


if __name__ == "__main__":
    sys.exit(main())
