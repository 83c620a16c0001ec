"""Benchmark the carrier read path: `GET /api/v1/carriers/{id}` on MariaDB against a trivial route.

Starts the real server (`freightdesk run`, one uvicorn worker) on a free local port with the carrier module
on a throwaway MariaDB database, loads `GET /api/v1/health/live` (no I/O, same middleware stack and
envelope) and `GET /api/v1/carriers/{id}` (ids spread over the 25 demo carriers) in alternating rounds,
and reports the median requests/s of each, their ratio, and the server's resident memory after start-up
and after the load. Results go to stdout and to `benchmarks/results/carrier_read.{md,json}`.

Run on demand, not in CI:

    uv run python benchmarks/carrier_read.py [--duration 15] [--connections 32] [--rounds 3]

Uses `wrk` when it is on PATH (`apt-get install wrk`), otherwise a built-in asyncio keep-alive client. The
databases, the server, the token and the load come from `harness.py`.
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from harness import (
    TRIVIAL_PATH,
    BenchmarkError,
    CommonOptions,
    LoadResult,
    MySqlServer,
    Route,
    Server,
    access_token,
    add_common_arguments,
    check_identifier,
    common_options,
    fixed_route,
    footer_lines,
    fresh_databases,
    git_describe,
    header_lines,
    http_status,
    log,
    machine_info,
    median_cpu_ms,
    median_rps,
    report_date,
    result_row,
    rss_mb,
    run_and_report,
    run_load,
    run_table_rows,
    running_server,
    standard_notes,
    temporary_workdir,
    wait_ready,
    write_report,
    wrk_script,
)

DEFAULT_DATABASE = "fdbench_carrier"
CARRIER_PATH = "/api/v1/carriers/{id}"
DEMO_CARRIER_IDS = (1, 25)
RATIO_TARGET = 0.25
RSS_TARGET_MB = 150.0
PERMISSIONS = ("carriers.read",)

# Both routes go through a request() function so wrk does the same per-request work for each.
WRK_CARRIER = wrk_script(
    "GET", f'"/api/v1/carriers/" .. math.random({DEMO_CARRIER_IDS[0]}, {DEMO_CARRIER_IDS[1]})', seeded=True
)


# --------------------------------------------------------------------------------------------- options


@dataclass(frozen=True)
class Options(CommonOptions):
    database: str


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_arguments(
        parser, duration=15.0, rounds=3, startup_timeout=60.0, rounds_help="Rounds of (trivial, carrier); median"
    )
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="Database created and dropped by the run")
    args = parser.parse_args(argv)
    check_identifier(parser, "--database", args.database, 64)
    return Options(**common_options(parser, args), database=args.database)


# ---------------------------------------------------------------------------------------------- routes


def carrier_request() -> tuple[str, str, bytes | None]:
    low, high = DEMO_CARRIER_IDS
    return "GET", CARRIER_PATH.format(id=random.randint(low, high)), None


ROUTES = {
    "trivial": fixed_route("trivial", "GET", TRIVIAL_PATH),
    "carrier": Route("carrier", WRK_CARRIER, carrier_request),
}


def check_routes(server: Server) -> None:
    paths = [TRIVIAL_PATH, *(CARRIER_PATH.format(id=i) for i in DEMO_CARRIER_IDS)]
    for path in paths:
        status = http_status(server.url(path), server.headers)
        if status != 200:
            raise BenchmarkError(f"GET {path} answered {status}, expected 200:\n{server.log_tail()}")


def token_lifetime(options: Options) -> int:
    return int(2 * (options.warmup + options.rounds * options.duration)) + 600


def load(server: Server, route: str, options: Options, duration: float, workdir: Path) -> LoadResult:
    """Load one route; also records the server's CPU time (user + system) spent meanwhile."""
    return run_load(server, ROUTES[route], options.load, duration, workdir)


# --------------------------------------------------------------------------------------------- report


@dataclass
class Report:
    date: str
    git: str
    machine: dict[str, str]
    settings: dict[str, str | float | int]
    startup_seconds: float
    rss_ready_mb: float
    rss_warm_mb: float
    rss_after_load_mb: float
    peak_rss_mb: float
    rounds: list[dict[str, float | int | str | None]]
    trivial_rps: float
    carrier_rps: float
    ratio: float
    trivial_cpu_ms: float
    carrier_cpu_ms: float
    cpu_ratio: float
    ratio_pass: bool
    rss_pass: bool
    notes: list[str]


def round_rows(results: list[LoadResult]) -> list[dict[str, float | int | str | None]]:
    return [
        {
            "round": index // 2 + 1,
            "route": r.route,
            "path": TRIVIAL_PATH if r.route == "trivial" else CARRIER_PATH.format(id="1..25"),
            **result_row(r),
        }
        for index, r in enumerate(results)
    ]


def render_markdown(report: Report) -> str:
    mark = {True: "pass", False: "FAIL"}
    settings, machine = report.settings, report.machine
    lines = [
        *header_lines("Carrier read benchmark", report.date, report.git, machine),
        f"- Load generator: {machine['load_generator']}, {settings['connections']} connections, "
        f"{settings['threads']} threads, {settings['duration_s']} s per route per round, "
        f"rounds: {settings['rounds']} alternating trivial/carrier (median reported), "
        f"{settings['warmup_s']} s warm-up per route",
        "- Server: `freightdesk run`, one uvicorn worker on 127.0.0.1, FREIGHTDESK_LOG_LEVEL=WARNING, "
        "carrier module on MariaDB (fresh database, 25 demo carriers), load generator on the same machine",
        f"- Trivial route: `GET {TRIVIAL_PATH}` (no I/O, enveloped JSON, same server, same middleware stack)",
        f"- Carrier route: `GET {CARRIER_PATH}` with a random id in 1..25 per request, with a signed access token "
        "(`carriers.read`) that the server verifies on each request; the same header goes to the trivial route, "
        "which is public and ignores it",
        "",
        "## Result",
        "",
        "| measure | value | target | verdict |",
        "| --- | ---: | ---: | --- |",
        f"| trivial route, req/s (median) | {report.trivial_rps:.0f} | | |",
        f"| carrier route, req/s (median) | {report.carrier_rps:.0f} | | |",
        f"| carrier / trivial | {report.ratio:.3f} | >= {RATIO_TARGET} | {mark[report.ratio_pass]} |",
        f"| RSS after start-up (ready) | {report.rss_ready_mb:.1f} MB | <= {RSS_TARGET_MB:.0f} MB | "
        f"{mark[report.rss_ready_mb <= RSS_TARGET_MB]} |",
        f"| RSS after warm-up | {report.rss_warm_mb:.1f} MB | <= {RSS_TARGET_MB:.0f} MB | "
        f"{mark[report.rss_warm_mb <= RSS_TARGET_MB]} |",
        f"| RSS after load | {report.rss_after_load_mb:.1f} MB | <= {RSS_TARGET_MB:.0f} MB | "
        f"{mark[report.rss_after_load_mb <= RSS_TARGET_MB]} |",
        f"| server CPU per request, trivial / carrier (median) | {report.trivial_cpu_ms:.3f} / "
        f"{report.carrier_cpu_ms:.3f} ms | | |",
        f"| CPU-time ratio (trivial ms / carrier ms) | {report.cpu_ratio:.3f} | | for reference |",
        f"| peak RSS (VmHWM, includes start-up migrations) | {report.peak_rss_mb:.1f} MB | | |",
        f"| start-up to ready (migrate + seed + boot) | {report.startup_seconds:.1f} s | | |",
        "",
        "MB are MiB (from `/proc/<pid>/status`) of the single server process. The server's CPU time per "
        "request (user + system, from `/proc/<pid>/stat`) is less sensitive than req/s to other work on a "
        "shared machine; while the server keeps one core busy, the two ratios are close.",
        "",
        "## Rounds",
        "",
        "| round | route | path | requests | seconds | req/s | p50 ms | p99 ms | server CPU ms/req | errors |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    keys = ("round", "route", "path", "requests", "seconds", "rps", "p50_ms", "p99_ms", "cpu_ms", "errors")
    lines += run_table_rows(report.rounds, keys)
    lines += footer_lines(report.notes, "carrier_read.py")
    return "\n".join(lines)


def write_results(report: Report, directory: Path) -> tuple[Path, Path]:
    return write_report(directory, "carrier_read", render_markdown(report), asdict(report))


# ------------------------------------------------------------------------------------------------ main


def measure(server: Server, options: Options, workdir: Path) -> tuple[list[LoadResult], tuple[float, ...]]:
    """Warm up, then alternate trivial and carrier rounds; returns the results and the RSS readings."""
    pid = server.process.pid
    rss_ready, _ = rss_mb(pid)
    log(f"ready; RSS {rss_ready:.1f} MB; warming up {options.warmup:.0f} s per route")
    if options.warmup > 0:
        for route in ("trivial", "carrier"):
            load(server, route, options, options.warmup, workdir)
    rss_warm, _ = rss_mb(pid)
    results: list[LoadResult] = []
    for round_number in range(1, options.rounds + 1):
        for route in ("trivial", "carrier"):
            result = load(server, route, options, options.duration, workdir)
            log(f"round {round_number} {route:8} {result.rps:8.1f} req/s  errors {result.errors}")
            results.append(result)
    rss_after, peak = rss_mb(pid)
    return results, (rss_ready, rss_warm, rss_after, peak)


def build_report(
    options: Options,
    results: list[LoadResult],
    rss: tuple[float, ...],
    startup_seconds: float,
    machine: dict[str, str],
) -> Report:
    rss_ready, rss_warm, rss_after, peak = rss
    trivial, carrier = median_rps(results, "trivial"), median_rps(results, "carrier")
    ratio = carrier / trivial if trivial else 0.0
    trivial_cpu, carrier_cpu = median_cpu_ms(results, "trivial"), median_cpu_ms(results, "carrier")
    failed = any(r.errors for r in results)
    git = git_describe()
    notes = standard_notes(failed, git)
    return Report(
        date=report_date(),
        git=git,
        machine=machine,
        settings={
            **options.load_record(),
            "database": options.database,
        },
        startup_seconds=round(startup_seconds, 2),
        rss_ready_mb=round(rss_ready, 1),
        rss_warm_mb=round(rss_warm, 1),
        rss_after_load_mb=round(rss_after, 1),
        peak_rss_mb=round(peak, 1),
        rounds=round_rows(results),
        trivial_rps=round(trivial, 1),
        carrier_rps=round(carrier, 1),
        ratio=round(ratio, 4),
        trivial_cpu_ms=round(trivial_cpu, 3),
        carrier_cpu_ms=round(carrier_cpu, 3),
        cpu_ratio=round(trivial_cpu / carrier_cpu if carrier_cpu else 0.0, 4),
        ratio_pass=ratio >= RATIO_TARGET and not failed,
        rss_pass=max(rss_ready, rss_warm, rss_after) <= RSS_TARGET_MB,
        notes=notes,
    )


def run(options: Options) -> Report:
    server_info = MySqlServer.from_url(options.mysql_url)
    log(f"creating database {options.database} ({'root socket' if server_info.root_socket else 'URL'})")
    with temporary_workdir("fdbench-") as workdir, fresh_databases(server_info, [options.database]) as databases:
        machine = machine_info(databases[0].version(), options.load_generator)
        with running_server(workdir, {"CARRIER_DATABASE_URL": server_info.database_url(options.database)}) as server:
            log(f"server pid {server.process.pid} on port {server.port}; waiting for readiness")
            startup = wait_ready(server, options.startup_timeout)
            server.token = access_token(server.env, token_lifetime(options), PERMISSIONS)
            check_routes(server)
            results, rss = measure(server, options, workdir)
    return build_report(options, results, rss, startup, machine)


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    return run_and_report(
        lambda: run(options),
        render_markdown,
        lambda report: write_results(report, options.results_dir),
        lambda report: 0 if report.ratio_pass and report.rss_pass else 2,
    )


if __name__ == "__main__":
    sys.exit(main())
