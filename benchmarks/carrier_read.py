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
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from harness import (
    DEFAULT_MYSQL_URL,
    RESULTS_DIR,
    TRIVIAL_PATH,
    WRK_DONE,
    WRK_SEEDED,
    BenchDatabase,
    BenchmarkError,
    LoadResult,
    LoadSettings,
    MySqlServer,
    Route,
    Server,
    access_token,
    git_describe,
    http_status,
    log,
    machine_info,
    median_cpu_ms,
    median_rps,
    resolve_load_generator,
    rss_mb,
    running_server,
    shown_path,
    wait_ready,
    write_text_atomically,
)
from harness import run_load as load_route

DEFAULT_DATABASE = "fdbench_carrier"
CARRIER_PATH = "/api/v1/carriers/{id}"
DEMO_CARRIER_IDS = (1, 25)
RATIO_TARGET = 0.25
RSS_TARGET_MB = 150.0
PERMISSIONS = ("carriers.read",)

# Both routes go through a request() function so wrk does the same per-request work for each.
WRK_TRIVIAL = f"""
request = function()
  return wrk.format("GET", "{TRIVIAL_PATH}")
end
{WRK_DONE}"""
WRK_CARRIER = f"""{WRK_SEEDED}request = function()
  return wrk.format("GET", "/api/v1/carriers/" .. math.random({DEMO_CARRIER_IDS[0]}, {DEMO_CARRIER_IDS[1]}))
end
{WRK_DONE}"""


# --------------------------------------------------------------------------------------------- options


@dataclass(frozen=True)
class Options:
    mysql_url: str
    database: str
    duration: float
    connections: int
    threads: int
    rounds: int
    warmup: float
    startup_timeout: float
    results_dir: Path
    load_generator: str


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--mysql-url",
        default=os.environ.get("FREIGHTDESK_BENCH_MYSQL_URL", DEFAULT_MYSQL_URL),
        help="MariaDB server URL without a database (env FREIGHTDESK_BENCH_MYSQL_URL; default %(default)s)",
    )
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="Database created and dropped by the run")
    parser.add_argument("--duration", type=float, default=15.0, help="Seconds per route per round")
    parser.add_argument("--connections", type=int, default=32, help="Concurrent keep-alive connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--rounds", type=int, default=3, help="Rounds of (trivial, carrier); median is reported")
    parser.add_argument("--warmup", type=float, default=3.0, help="Seconds of load per route before measuring")
    parser.add_argument("--startup-timeout", type=float, default=60.0, help="Seconds to wait for readiness")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="Where the .md and .json go")
    parser.add_argument(
        "--load-generator", choices=("auto", "wrk", "builtin"), default="auto", help="auto: wrk if on PATH"
    )
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[A-Za-z0-9_]{1,64}", args.database):
        parser.error("--database: letters, digits and underscores only")
    if args.duration <= 0 or args.duration > 600 or args.rounds < 1 or args.connections < 1 or args.threads < 1:
        parser.error("--duration must be in (0, 600]; --rounds, --connections and --threads at least 1")
    try:
        generator = resolve_load_generator(args.load_generator)
    except BenchmarkError as exc:
        parser.error(str(exc))
    return Options(
        mysql_url=args.mysql_url,
        database=args.database,
        duration=args.duration,
        connections=args.connections,
        threads=min(args.threads, args.connections),
        rounds=args.rounds,
        warmup=args.warmup,
        startup_timeout=args.startup_timeout,
        results_dir=args.results_dir,
        load_generator=generator,
    )


# ---------------------------------------------------------------------------------------------- routes


def _carrier_request() -> tuple[str, str, bytes | None]:
    low, high = DEMO_CARRIER_IDS
    return "GET", CARRIER_PATH.format(id=random.randint(low, high)), None


ROUTES = {
    "trivial": Route("trivial", WRK_TRIVIAL, lambda: ("GET", TRIVIAL_PATH, None)),
    "carrier": Route("carrier", WRK_CARRIER, _carrier_request),
}


def check_routes(server: Server) -> None:
    paths = [TRIVIAL_PATH, *(CARRIER_PATH.format(id=i) for i in DEMO_CARRIER_IDS)]
    for path in paths:
        status = http_status(server.url(path), server.headers)
        if status != 200:
            raise BenchmarkError(f"GET {path} answered {status}, expected 200:\n{server.log_tail()}")


def token_lifetime(options: Options) -> int:
    return int(2 * (options.warmup + options.rounds * options.duration)) + 600


def run_load(server: Server, route: str, options: Options, duration: float, workdir: Path) -> LoadResult:
    """Load one route; also records the server's CPU time (user + system) spent meanwhile."""
    settings = LoadSettings(options.load_generator, options.connections, options.threads)
    return load_route(server, ROUTES[route], settings, duration, workdir)


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
            "requests": r.requests,
            "seconds": round(r.seconds, 2),
            "rps": round(r.rps, 1),
            "p50_ms": None if r.p50_ms is None else round(r.p50_ms, 2),
            "p99_ms": None if r.p99_ms is None else round(r.p99_ms, 2),
            "cpu_ms": round(r.cpu_ms_per_request, 3),
            "errors": r.errors,
        }
        for index, r in enumerate(results)
    ]


def render_markdown(report: Report) -> str:
    mark = {True: "pass", False: "FAIL"}
    settings, machine = report.settings, report.machine
    lines = [
        "# Carrier read benchmark",
        "",
        f"- Date: {report.date}",
        f"- Revision: `{report.git}`",
        f"- Machine: {machine['nproc']} CPU(s), {machine['cpu']}, Linux {machine['kernel']}",
        f"- Python {machine['python']}, MariaDB {machine['mariadb']}; load average before the run "
        f"{machine['loadavg']} (1/5/15 min; the machine may be shared)",
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
    for row in report.rounds:
        cells = [row[k] for k in ("round", "route", "path", "requests", "seconds", "rps", "p50_ms", "p99_ms", "cpu_ms")]
        lines.append("| " + " | ".join("-" if c is None else str(c) for c in [*cells, row["errors"]]) + " |")
    if report.notes:
        lines += ["", "## Notes", "", *(f"- {note}" for note in report.notes)]
    lines += ["", "Rerun: `uv run python benchmarks/carrier_read.py` (see benchmarks/README.md).", ""]
    return "\n".join(lines)


def write_results(report: Report, directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    markdown = directory / "carrier_read.md"
    data = directory / "carrier_read.json"
    write_text_atomically(markdown, render_markdown(report))
    write_text_atomically(data, json.dumps(asdict(report), indent=2) + "\n")
    return markdown, data


# ------------------------------------------------------------------------------------------------ main


def measure(server: Server, options: Options, workdir: Path) -> tuple[list[LoadResult], tuple[float, ...]]:
    """Warm up, then alternate trivial and carrier rounds; returns the results and the RSS readings."""
    pid = server.process.pid
    rss_ready, _ = rss_mb(pid)
    log(f"ready; RSS {rss_ready:.1f} MB; warming up {options.warmup:.0f} s per route")
    if options.warmup > 0:
        for route in ("trivial", "carrier"):
            run_load(server, route, options, options.warmup, workdir)
    rss_warm, _ = rss_mb(pid)
    results: list[LoadResult] = []
    for round_number in range(1, options.rounds + 1):
        for route in ("trivial", "carrier"):
            result = run_load(server, route, options, options.duration, workdir)
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
    notes = []
    failed = any(r.errors for r in results)
    if failed:
        notes.append("Some requests failed (see the errors column): the numbers are not trustworthy.")
    git = git_describe()
    if git.endswith("-dirty"):
        notes.append("The working tree had uncommitted changes when this ran.")
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
    database = BenchDatabase(server_info, options.database)
    workdir = Path(tempfile.mkdtemp(prefix="fdbench-"))
    try:
        log(f"creating database {options.database} ({'root socket' if server_info.root_socket else 'URL'})")
        database.create()
        machine = machine_info(database.version(), options.load_generator)
        with running_server(workdir, {"CARRIER_DATABASE_URL": server_info.database_url(options.database)}) as server:
            log(f"server pid {server.process.pid} on port {server.port}; waiting for readiness")
            startup = wait_ready(server, options.startup_timeout)
            server.token = access_token(server.env, token_lifetime(options), PERMISSIONS)
            check_routes(server)
            results, rss = measure(server, options, workdir)
        return build_report(options, results, rss, startup, machine)
    finally:
        try:
            database.drop()
        except Exception as exc:  # cleanup must not hide the original error
            log(f"could not drop database {options.database}: {exc}")
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
    return 0 if report.ratio_pass and report.rss_pass else 2


if __name__ == "__main__":
    sys.exit(main())
