"""The benchmark suite: Freightdesk's routes against a bare Litestar reference, with the issue's targets.

Starts, side by side on this machine:

- the reference: `reference_app.py`, a bare Litestar app of the locked version with one route `GET /`
  answering `{"status": "ok"}`, under uvicorn with uvloop and httptools, one worker, no access log;
- Freightdesk: `freightdesk run` with its defaults (one worker; uvloop and httptools; the INFO level, so the
  access log writes a JSON line per request to stderr, here a file, as a deployment runs it), every module on
  a fresh MariaDB database of its own, migrated and seeded by the server (25 carriers, 6 pricing rules, 250
  customers, the demo users);

then runs interleaved rounds: the reference, then each route (their order rotating from round to round),
`--duration` seconds each, and reports per route the median over the rounds of its throughput as a ratio to
the reference's in the same round, with the target of the issue, the median req/s, p50/p99 latency and the
server's CPU time per request. Then the sign-ins under load (`login_load.login_under_load`: 16 concurrent
sign-ins against carrier reads), the server's resident memory after all that load, and with `--growth` the
growth scenario (`growth.run_growth`, when `benchmarks/growth.py` exists).

    uv run python benchmarks/suite.py [--rounds 5] [--duration 10] [--growth]

Results go to stdout and `benchmarks/results/suite.{md,json}`. Exit code 0 when every target passes, 2 when
one is missed (or requests failed), 1 when the suite could not run. Needs `wrk` for figures comparable with
the issue's (`apt-get install wrk`).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import statistics
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, is_dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import business_routes
import carrier_read
import login_load
from harness import (
    HOST,
    REPO,
    TRIVIAL_PATH,
    BenchmarkError,
    CommonOptions,
    MySqlServer,
    Route,
    Run,
    Server,
    access_token,
    add_common_arguments,
    call_json,
    cell,
    check_identifier,
    comma_list,
    common_options,
    cpu_seconds,
    expect,
    fixed_route,
    footer_lines,
    free_port,
    fresh_databases,
    git_describe,
    header_lines,
    load_average,
    load_once,
    log,
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
    running_process,
    running_server,
    standard_notes,
    temporary_workdir,
    wait_ready,
    write_report,
)

BENCHMARKS = Path(__file__).resolve().parent
DEFAULT_DATABASE_PREFIX = "fdbench_suite"
RSS_TARGET_MB = 150.0
PERMISSIONS = (*business_routes.PERMISSIONS, *carrier_read.PERMISSIONS)
CARRIER_LIST_PATH = "/api/v1/carriers?page=1&limit=10"
REFERENCE_VERSIONS = ("litestar", "uvicorn", "uvloop", "httptools")
OTHER_VERSIONS = ("sqlalchemy", "advanced-alchemy", "asyncmy", "msgspec", "argon2-cffi", "pyjwt")


@dataclass(frozen=True)
class SuiteRoute:
    key: str
    request: str  # as the report shows it
    target: float | None  # the least ratio to the reference; None: reported only
    route: Route


REFERENCE = SuiteRoute("reference", "GET / (reference app)", None, fixed_route("reference", "GET", "/"))
ROUTES: tuple[SuiteRoute, ...] = (
    SuiteRoute("health", f"GET {TRIVIAL_PATH}", 0.42, fixed_route("health", "GET", TRIVIAL_PATH)),
    SuiteRoute(
        "carrier",
        f"GET {carrier_read.CARRIER_PATH} (id 1..25)",
        0.23,
        Route("carrier", carrier_read.WRK_CARRIER, carrier_read.carrier_request),
    ),
    SuiteRoute("carrier_list", f"GET {CARRIER_LIST_PATH}", 0.34, fixed_route("carrier_list", "GET", CARRIER_LIST_PATH)),
    SuiteRoute(
        "customer",
        f"GET {business_routes.CUSTOMER_PATH} (id 1..250)",
        None,
        business_routes.BY_KEY["customer"].route,
    ),
    SuiteRoute(
        "customer_list",
        f"GET {business_routes.CUSTOMER_LIST_PATH}",
        None,
        business_routes.BY_KEY["customer_list"].route,
    ),
    SuiteRoute(
        "calculate",
        f"POST {business_routes.CALCULATE_PATH} (worked example)",
        0.10,
        business_routes.BY_KEY["calculate"].route,
    ),
    SuiteRoute(
        "quotes",
        f"POST {business_routes.QUOTES_PATH} (25 carriers)",
        0.05,
        business_routes.BY_KEY["quotes"].route,
    ),
)
ROUTE_KEYS = tuple(r.key for r in ROUTES)
BY_KEY = {r.key: r for r in (REFERENCE, *ROUTES)}


# --------------------------------------------------------------------------------------------- options


@dataclass(frozen=True)
class Options(CommonOptions):
    database_prefix: str
    routes: tuple[str, ...]
    login_duration: float
    readers: int
    logins: int
    login: bool
    growth: bool

    def databases(self) -> dict[str, str]:
        """module → database name."""
        return {module: f"{self.database_prefix}_{module}" for module in business_routes.MODULES}


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(parser, duration=10.0, rounds=5, startup_timeout=180.0)
    parser.add_argument(
        "--database-prefix",
        default=DEFAULT_DATABASE_PREFIX,
        help="Databases <prefix>_<module> are created and dropped by the run (default %(default)s)",
    )
    parser.add_argument(
        "--routes",
        default=",".join(ROUTE_KEYS),
        help="Comma list of the routes to measure (default: all: %(default)s)",
    )
    parser.add_argument("--login-duration", type=float, help="Seconds per phase of the sign-ins (default --duration)")
    parser.add_argument("--readers", type=int, default=4, help="Connections reading during the sign-ins")
    parser.add_argument("--logins", type=int, default=16, help="Concurrent sign-ins")
    parser.add_argument("--no-login", action="store_true", help="Leave the sign-ins under load out")
    parser.add_argument("--growth", action="store_true", help="Also run benchmarks/growth.py's run_growth()")
    args = parser.parse_args(argv)
    check_identifier(parser, "--database-prefix", args.database_prefix, 50)
    routes = comma_list(args.routes)
    if not routes or any(key not in ROUTE_KEYS for key in routes):
        parser.error(f"--routes: choose from {', '.join(ROUTE_KEYS)}")
    common = common_options(parser, args)
    login_duration = args.login_duration or common["duration"]
    if login_duration <= 0 or login_duration > 600 or args.readers < 1 or args.logins < 1:
        parser.error("--login-duration must be in (0, 600]; --readers and --logins at least 1")
    if not args.no_login and common["load_generator"] != "wrk":
        parser.error("the sign-ins under load need wrk (apt-get install wrk), or --no-login")
    return Options(
        **common,
        database_prefix=args.database_prefix,
        routes=routes,
        login_duration=login_duration,
        readers=args.readers,
        logins=args.logins,
        login=not args.no_login,
        growth=args.growth,
    )


def token_lifetime(options: Options) -> int:
    runs = (len(options.routes) + 1) * (options.warmup + options.rounds * options.duration)
    return int(2 * (runs + options.rounds * (2 * options.login_duration + 5))) + 1800


# --------------------------------------------------------------------------------------------- servers


def reference_command(port: int) -> list[str]:
    python = REPO / ".venv" / "bin" / "python"
    if not python.exists():
        raise BenchmarkError(f"{python} not found: run `uv sync` in {REPO} first")
    return [
        str(python),
        "-m",
        "uvicorn",
        "reference_app:app",
        "--app-dir",
        str(BENCHMARKS),
        "--host",
        HOST,
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--workers",
        "1",
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def reference_environment() -> dict[str, str]:
    """The caller's environment without any Freightdesk setting (the reference reads none anyway)."""
    return {key: value for key, value in os.environ.items() if not key.startswith("FREIGHTDESK_")}


def check_reference(server: Server) -> None:
    status, body = call_json(server, "GET", "/")
    require(status == 200 and body == {"status": "ok"}, f"the reference answered {status} {body!r}")


def check_freightdesk(server: Server) -> dict[str, int]:
    """The seed and every measured route's answer (business_routes' checks, and the carrier routes')."""
    seed = business_routes.check_seed_and_routes(server)
    carrier_read.check_routes(server)
    page = expect(server, "GET", CARRIER_LIST_PATH, None, 200)
    try:
        carriers = len(page["carriers"])
    except (KeyError, TypeError) as exc:
        raise BenchmarkError(f"GET {CARRIER_LIST_PATH}: not the documented shape ({exc!r})") from exc
    require(carriers == 10, f"the first page of carriers holds {carriers}, not 10")
    return seed


def access_log_lines(log_path: Path) -> tuple[int, float]:
    """How many access-log lines the server wrote, and the size of its log in MB."""
    lines = 0
    with log_path.open("rb") as log_file:
        for line in log_file:
            lines += b'"freightdesk.access"' in line
    return lines, log_path.stat().st_size / 2**20


# ------------------------------------------------------------------------------------------------ load


def round_order(routes: tuple[str, ...], round_number: int) -> list[str]:
    """The reference, then every route; the routes' order rotates from round to round."""
    shift = (round_number - 1) % len(routes)
    return ["reference", *routes[shift:], *routes[:shift]]


def measure(reference: Server, freightdesk: Server, options: Options, workdir: Path) -> tuple[list[Run], list[Run]]:
    """Warm-up runs (each route once), then the interleaved rounds."""

    def load(key: str, duration: float, round_: int) -> Run:
        server = reference if key == "reference" else freightdesk
        return load_once(server, BY_KEY[key].route, options.load, duration, workdir, round_)

    warmup = []
    if options.warmup > 0:
        log(f"warming up {options.warmup:.0f} s per route")
        warmup = [load(key, options.warmup, 0) for key in ("reference", *options.routes)]
    runs = []
    for round_number in range(1, options.rounds + 1):
        runs += [load(key, options.duration, round_number) for key in round_order(options.routes, round_number)]
    return warmup, runs


# --------------------------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class RouteFigures:
    key: str
    request: str
    target: float | None
    runs: int
    requests: int
    errors: int
    rps: float  # medians over the rounds
    ratio: float | None  # median over the rounds of rps / the reference's rps in that round
    ratio_min: float | None
    ratio_max: float | None
    p50_ms: float | None
    p99_ms: float | None
    cpu_ms: float  # the serving process's CPU time per request
    cpu_ratio: float | None  # median of the reference's CPU ms / this route's, per round
    database_cpu_ms: float
    passed: bool | None  # None: no target (and no failed request)


def reference_rps(runs: list[Run]) -> float:
    """The reference's median req/s over the measured rounds."""
    return statistics.median(run.result.rps for run in runs if run.result.route == REFERENCE.key)


IDLE_CPU_SHARE = 0.05
SETTLE_LIMIT_S = 10.0


def settle(pid: int) -> None:
    """Wait until the server is idle: wrk stops without waiting for the answers it has asked for, so the server
    is still verifying the sign-ins left in its queue (each holding its hash's memory) when the load ends."""
    started = time.monotonic()
    while time.monotonic() - started < SETTLE_LIMIT_S:
        before = cpu_seconds(pid)
        time.sleep(0.5)
        if cpu_seconds(pid) - before < 0.5 * IDLE_CPU_SHARE:
            return


def figures(runs: list[Run], keys: tuple[str, ...]) -> list[RouteFigures]:
    reference = {r.round: r.result for r in runs if r.result.route == "reference"}
    out = []
    for key in ("reference", *keys):
        mine = [r for r in runs if r.result.route == key]
        summary = medians([r.result for r in mine])
        ratios = [r.result.rps / reference[r.round].rps for r in mine if reference[r.round].rps]
        cpu_ratios = [
            reference[r.round].cpu_ms_per_request / r.result.cpu_ms_per_request
            for r in mine
            if r.result.cpu_ms_per_request
        ]
        route = BY_KEY[key]
        ratio = median_or_none(ratios)
        if summary.errors:
            passed: bool | None = False
        elif route.target is None:
            passed = None
        else:
            passed = ratio is not None and ratio >= route.target
        out.append(
            RouteFigures(
                key=key,
                request=route.request,
                target=route.target,
                runs=summary.runs,
                requests=summary.requests,
                errors=summary.errors,
                rps=summary.rps,
                ratio=rounded(ratio, 4),
                ratio_min=rounded(min(ratios, default=None), 4),
                ratio_max=rounded(max(ratios, default=None), 4),
                p50_ms=summary.p50_ms,
                p99_ms=summary.p99_ms,
                cpu_ms=summary.cpu_ms,
                cpu_ratio=rounded(median_or_none(cpu_ratios), 4),
                database_cpu_ms=round(median_or_none([r.database_cpu_ms for r in mine]) or 0.0, 3),
                passed=passed,
            )
        )
    return out


# ---------------------------------------------------------------------------------------------- growth


@dataclass(frozen=True)
class GrowthOutcome:
    ran: bool
    passed: bool | None  # None: skipped, or the scenario gave no verdict
    note: str
    result: Any = None


def run_growth_scenario(options: Options) -> GrowthOutcome:
    """`growth.run_growth()` from `benchmarks/growth.py`, given those of the suite's options it names as
    parameters; its verdict is the `passed` (or `pass`) of what it returns."""
    try:
        growth = importlib.import_module("growth")
    except ModuleNotFoundError as exc:
        if exc.name != "growth":
            raise
        return GrowthOutcome(False, None, "skipped: benchmarks/growth.py is not there")
    run_growth = getattr(growth, "run_growth", None)
    if not callable(run_growth):
        return GrowthOutcome(False, None, "skipped: benchmarks/growth.py has no run_growth()")
    offered = {f: getattr(options, f) for f in ("mysql_url", "duration", "rounds", "connections", "threads")} | {
        "load_generator": options.load_generator,
        "results_dir": options.results_dir,
    }
    parameters = inspect.signature(run_growth).parameters
    given = {name: value for name, value in offered.items() if name in parameters}
    log(f"growth scenario: run_growth({', '.join(given)})")
    try:
        result = run_growth(**given)
    except Exception as exc:  # the suite's other figures still count; the scenario's failure is its verdict
        log(f"growth scenario failed: {type(exc).__name__}: {exc}")
        return GrowthOutcome(True, False, f"failed: {type(exc).__name__}: {exc}")
    data = _plain(result)
    verdict = _verdict(result, data)
    note = "ran" if verdict is not None else "ran; it returned no verdict (`passed`), so it is reported only"
    return GrowthOutcome(True, verdict, note, data)


def _plain(value: object) -> Any:
    """What run_growth returned, as JSON can hold it."""
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


def _verdict(result: object, data: Any) -> bool | None:
    for name in ("passed", "pass", "ok"):
        value = getattr(result, name, None)
        if value is None and isinstance(data, dict):
            value = data.get(name)
        if isinstance(value, bool):
            return value
    return None


# --------------------------------------------------------------------------------------------- report


@dataclass
class Report:
    date: str
    git: str
    machine: dict[str, str]
    versions: dict[str, str]
    settings: dict[str, str | float | int]
    databases: dict[str, str]
    seed: dict[str, int]
    servers: dict[str, dict[str, Any]]
    routes: list[RouteFigures]
    login: login_load.LoginFigures | None
    rss_ready_mb: float
    rss_after_routes_mb: float  # before the sign-ins
    rss_after_load_mb: float  # after everything: the target
    peak_rss_mb: float
    rss_pass: bool
    growth: GrowthOutcome | None
    runs: list[dict[str, float | int | str | None]]
    verdicts: dict[str, bool]
    notes: list[str]

    @property
    def passed(self) -> bool:
        return all(self.verdicts.values())


def versions() -> dict[str, str]:
    out = {}
    for name in (*REFERENCE_VERSIONS, *OTHER_VERSIONS):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _mark(passed: bool | None) -> str:
    return {True: "pass", False: "**FAIL**", None: "report only"}[passed]


def render_markdown(report: Report) -> str:
    settings, machine, v = report.settings, report.machine, report.versions
    fd = report.servers["freightdesk"]
    seed = report.seed
    lines = [
        *header_lines("Benchmark suite", report.date, report.git, machine, str(settings["loadavg_after"])),
        f"- Load generator: {machine['load_generator']}, {settings['connections']} connections, "
        f"{settings['threads']} threads, {settings['duration_s']} s per run, {settings['warmup_s']} s warm-up per "
        f"route, rounds: {settings['rounds']}; a round is the reference, then every route (their order rotating "
        "from round to round); wrk, the servers and MariaDB share the machine's CPUs",
        f"- Reference: `benchmarks/reference_app.py`, a bare Litestar {v['litestar']} app, `GET /` answering "
        f'`{{"status": "ok"}}`, under uvicorn {v["uvicorn"]} with uvloop {v["uvloop"]} and httptools '
        f"{v['httptools']}, one worker, no access log",
        f"- Freightdesk: `freightdesk run` as it runs by default: one worker ({fd['server']}), log level "
        f"{fd['log_level']} with the access log on (one JSON line per request on stderr, written to a file: "
        f"{fd['access_log_lines']} lines, {fd['log_mb']:.0f} MB over the run), development mode (for the demo "
        "seed); every module on its own fresh MariaDB database ("
        + ", ".join(f"`{name}`" for name in report.databases.values())
        + f"), migrated and seeded at start: {seed['carriers']} carriers, {seed['pricing_rules']} pricing rules, "
        f"{seed['customers']} customers",
        f"- Every request to Freightdesk carries a signed access token ({', '.join(f'`{p}`' for p in PERMISSIONS)}) "
        "that the server verifies; the public health route ignores it; the reference gets no such header",
        "",
        "## Result",
        "",
        "Throughput as a ratio to the reference's in the same round (median over the rounds, and the range); "
        "the other figures are medians over the rounds. CPU is the serving process's user + system time per "
        "request (`/proc/<pid>/stat`); *ref CPU / CPU* is the same comparison measured in CPU time, less "
        "sensitive to other work on the machine. MariaDB CPU is the whole database server's: an upper bound.",
        "",
        "| route | request | / reference (range) | target | verdict | req/s | p50 ms | p99 ms | CPU ms/req "
        "| ref CPU / CPU | MariaDB CPU ms/req | errors |",
        "| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in report.routes:
        if r.key == "reference":
            ratio, target, verdict, cpu_ratio = "1", "", "", "1"
        else:
            ratio = f"**{cell(r.ratio, '.3f')}** ({cell(r.ratio_min, '.3f')}-{cell(r.ratio_max, '.3f')})"
            target = "" if r.target is None else f">= {r.target:g}"
            verdict, cpu_ratio = _mark(r.passed), cell(r.cpu_ratio, ".3f")
        lines.append(
            f"| {r.key} | `{r.request}` | {ratio} | {target} | {verdict} | {r.rps:.0f} | {cell(r.p50_ms, '.1f')} "
            f"| {cell(r.p99_ms, '.1f')} | {r.cpu_ms:.3f} | {cpu_ratio} | {r.database_cpu_ms:.3f} | {r.errors} |"
        )
    lines += ["", "## Sign-ins under load, memory, growth", ""]
    lines += ["| measure | value | target | verdict |", "| --- | --- | --- | --- |"]
    if report.login is not None:
        lines += login_load.table_rows(report.login)
    lines += [
        f"| Freightdesk RSS when ready / after the route rounds | {report.rss_ready_mb:.1f} / "
        f"{report.rss_after_routes_mb:.1f} MB | | |",
        "| Freightdesk RSS after all the load, sign-ins included, once idle (VmRSS) | "
        f"{report.rss_after_load_mb:.1f} MB "
        f"| <= {RSS_TARGET_MB:.0f} MB | {_mark(report.rss_pass)} |",
    ]
    lines.append(f"| Freightdesk peak RSS over the run (VmHWM) | {report.peak_rss_mb:.1f} MB | | |")
    if report.growth is None:
        lines.append("| growth scenario (`growth.run_growth`) | not run (`--growth` runs it) | within 2x | |")
    else:
        lines.append(
            f"| growth scenario (`growth.run_growth`) | {report.growth.note} | within 2x | "
            f"{_mark(report.growth.passed)} |"
        )
    if report.login is not None:
        lines += [
            "",
            f"The sign-ins: {report.login.logins} connections sign in back to back as the demo admin "
            f"(`POST {login_load.LOGIN_PATH}`, a full password verification each) while {report.login.readers} "
            f"connections read `{report.login.reads}`; in each round the reads' p99 is compared with a phase of the "
            "same reads alone just before; medians over the rounds.",
        ]
    misses = [name for name, ok in report.verdicts.items() if not ok]
    lines += [
        "",
        "## Verdict",
        "",
        f"{'Every target met.' if not misses else 'Missed: ' + ', '.join(misses) + '.'} Start-up to ready: "
        f"Freightdesk {fd['startup_seconds']:.1f} s (migrate and seed five databases), reference "
        f"{report.servers['reference']['startup_seconds']:.1f} s. Versions: "
        + ", ".join(f"{name} {version}" for name, version in report.versions.items())
        + ".",
        "",
        "## Runs",
        "",
        "| round | route | requests | seconds | req/s | p50 ms | p99 ms | CPU ms/req | MariaDB CPU ms/req | errors |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    keys = ("round", "route", "requests", "seconds", "rps", "p50_ms", "p99_ms", "cpu_ms", "database_cpu_ms", "errors")
    lines += run_table_rows(report.runs, keys)
    lines += footer_lines(report.notes, "suite.py")
    return "\n".join(lines)


def write_results(report: Report, directory: Path) -> tuple[Path, Path]:
    return write_report(directory, "suite", render_markdown(report), asdict(report) | {"passed": report.passed})


# ------------------------------------------------------------------------------------------------ main


def verdicts(
    routes: list[RouteFigures], login: login_load.LoginFigures | None, rss_pass: bool, growth: GrowthOutcome | None
) -> dict[str, bool]:
    out = {r.key: bool(r.passed) for r in routes if r.passed is not None}
    if login is not None:
        out["login rate"] = login.rate_pass
        out["p99 during sign-ins"] = login.p99_pass
        out["sign-in errors"] = not any(login.errors.values())
    out["rss"] = rss_pass
    if growth is not None and growth.passed is not None:
        out["growth"] = growth.passed
    return out


def run(options: Options) -> Report:
    mysql = MySqlServer.from_url(options.mysql_url)
    names = options.databases()
    log(f"creating {', '.join(names.values())} ({'root socket' if mysql.root_socket else 'URL'})")
    with temporary_workdir("fdbench-suite-") as workdir, fresh_databases(mysql, names.values()) as databases:
        machine = machine_info(databases[0].version(), options.load_generator)
        port = free_port()
        with (
            running_process(reference_command(port), workdir, reference_environment(), port, "reference") as reference,
            running_server(workdir, module_database_urls(mysql, names), log_level=None) as freightdesk,
        ):
            log(
                f"reference pid {reference.process.pid} :{reference.port}, freightdesk pid "
                f"{freightdesk.process.pid} :{freightdesk.port}; waiting for both"
            )
            reference_startup = wait_ready(reference, 60, path="/")
            check_reference(reference)
            startup = wait_ready(freightdesk, options.startup_timeout)
            freightdesk.token = access_token(freightdesk.env, token_lifetime(options), PERMISSIONS)
            seed = check_freightdesk(freightdesk)
            log(f"ready: reference after {reference_startup:.1f} s, freightdesk after {startup:.1f} s; seed {seed}")
            rss_ready = rss_mb(freightdesk.process.pid)[0]
            warmup, runs = measure(reference, freightdesk, options, workdir)
            rss_routes = rss_mb(freightdesk.process.pid)[0]
            login = (
                login_load.login_under_load(
                    freightdesk,
                    options.login_duration,
                    workdir,
                    readers=options.readers,
                    logins=options.logins,
                    rounds=options.rounds,
                ).judged_against(reference_rps(runs))
                if options.login
                else None
            )
            settle(freightdesk.process.pid)
            rss_after, peak = rss_mb(freightdesk.process.pid)
            log(f"freightdesk RSS after the load {rss_after:.1f} MB (peak {peak:.1f} MB)")
            lines, log_mb = access_log_lines(freightdesk.log_path)
            servers = {
                "reference": {
                    "command": "uvicorn reference_app:app (uvloop, httptools, 1 worker, no access log)",
                    "startup_seconds": round(reference_startup, 2),
                },
                "freightdesk": {
                    "command": "freightdesk run",
                    "server": "uvicorn, uvloop, httptools",
                    "log_level": freightdesk.env.get("FREIGHTDESK_LOG_LEVEL", "INFO (the default)"),
                    "access_log_lines": lines,
                    "log_mb": round(log_mb, 1),
                    "startup_seconds": round(startup, 2),
                },
            }
    growth = run_growth_scenario(options) if options.growth else None
    routes = figures(runs, options.routes)
    rss_pass = rss_after <= RSS_TARGET_MB
    git = git_describe()
    failed = any(r.result.errors for r in [*warmup, *runs])
    notes = standard_notes(failed, git)
    if options.load_generator != "wrk":
        notes.append("The built-in load generator competes with the servers for the CPU: not comparable with wrk.")
    return Report(
        date=report_date(),
        git=git,
        machine=machine,
        versions=versions(),
        settings={**options.load_record(), "routes": ",".join(options.routes), "loadavg_after": load_average()},
        databases=names,
        seed={k: v for k, v in seed.items() if k != "calculations_by_checks"},
        servers=servers,
        routes=routes,
        login=login,
        rss_ready_mb=round(rss_ready, 1),
        rss_after_routes_mb=round(rss_routes, 1),
        rss_after_load_mb=round(rss_after, 1),
        peak_rss_mb=round(peak, 1),
        rss_pass=rss_pass,
        growth=growth,
        runs=[
            {
                "round": r.round,
                "route": r.result.route,
                **result_row(r.result),
                "database_cpu_ms": round(r.database_cpu_ms, 3),
            }
            for r in [*warmup, *runs]
        ],
        verdicts=verdicts(routes, login, rss_pass, growth),
        notes=notes,
    )


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    return run_and_report(
        lambda: run(options),
        render_markdown,
        lambda report: write_results(report, options.results_dir),
        lambda report: 0 if report.passed else 2,
    )


if __name__ == "__main__":
    sys.exit(main())
