"""Benchmark the carrier read path: `GET /api/v1/carriers/{id}` on MariaDB against a trivial route.

Starts the real server (`freightdesk run`, one uvicorn worker) on a free local port with the carrier module
on a throwaway MariaDB database, loads `GET /api/v1/health/live` (no I/O, same middleware stack and
envelope) and `GET /api/v1/carriers/{id}` (ids spread over the 25 demo carriers) in alternating rounds,
and reports the median requests/s of each, their ratio, and the server's resident memory after start-up
and after the load. Results go to stdout and to `benchmarks/results/carrier_read.{md,json}`.

Run on demand, not in CI:

    uv run python benchmarks/carrier_read.py [--duration 15] [--connections 32] [--rounds 3]

Uses `wrk` when it is on PATH (`apt-get install wrk`), otherwise a built-in asyncio keep-alive client.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "benchmarks" / "results"
DEFAULT_MYSQL_URL = "mysql+asyncmy://freightdesk:freightdesk@127.0.0.1:3306"
DEFAULT_DATABASE = "fdbench_carrier"
HOST = "127.0.0.1"
TRIVIAL_PATH = "/api/v1/health/live"
READY_PATH = "/api/v1/health/ready"
CARRIER_PATH = "/api/v1/carriers/{id}"
DEMO_CARRIER_IDS = (1, 25)
RATIO_TARGET = 0.25
RSS_TARGET_MB = 150.0
MARKER = "FDBENCH "

# Both routes go through a request() function so wrk does the same per-request work for each.
WRK_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'FDBENCH {"requests":%d,"duration_us":%d,"connect_errors":%d,"read_errors":%d,'
    .. '"write_errors":%d,"status_errors":%d,"timeouts":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""
WRK_TRIVIAL = f"""
request = function()
  return wrk.format("GET", "{TRIVIAL_PATH}")
end
{WRK_DONE}"""
WRK_CARRIER = f"""
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("seed", threads)
end
init = function(args) math.randomseed(os.time() * 100 + seed) end
request = function()
  return wrk.format("GET", "/api/v1/carriers/" .. math.random({DEMO_CARRIER_IDS[0]}, {DEMO_CARRIER_IDS[1]}))
end
{WRK_DONE}"""


class BenchmarkError(RuntimeError):
    """The benchmark could not run (server, database or load generator failed)."""


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
    generator = args.load_generator
    if generator == "auto":
        generator = "wrk" if shutil.which("wrk") else "builtin"
    elif generator == "wrk" and not shutil.which("wrk"):
        parser.error("--load-generator wrk: wrk is not on PATH (apt-get install wrk)")
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


# -------------------------------------------------------------------------------------------- database


@dataclass(frozen=True)
class MySqlServer:
    """Where the benchmark database lives, and how we administer it (root over the socket, or the URL)."""

    scheme: str
    host: str
    port: int
    user: str
    password: str
    root_socket: bool

    @classmethod
    def from_url(cls, url: str) -> MySqlServer:
        parts = urlsplit(url)
        if not parts.scheme.startswith(("mysql", "mariadb")) or not parts.hostname:
            raise BenchmarkError(f"--mysql-url: expected mysql+asyncmy://user:password@host:port, got {url!r}")
        if parts.hostname not in {"127.0.0.1", "localhost"}:
            raise BenchmarkError("--mysql-url: the benchmark only talks to a local server (127.0.0.1)")
        return cls(
            scheme="mysql+asyncmy",
            host="127.0.0.1",
            port=parts.port or 3306,
            user=unquote(parts.username or "root"),
            password=unquote(parts.password or ""),
            root_socket=_root_socket_works(),
        )

    def database_url(self, database: str) -> str:
        credentials = self.user + (f":{self.password}" if self.password else "")
        return f"{self.scheme}://{credentials}@{self.host}:{self.port}/{database}"

    def query(self, sql: str) -> list[list[str]]:
        if self.root_socket:
            return _query_root_socket(sql)
        return asyncio.run(_query_asyncmy(self, sql))


def _root_socket_works() -> bool:
    if os.geteuid() != 0 or shutil.which("mariadb") is None:
        return False
    with suppress(subprocess.SubprocessError, OSError):
        _query_root_socket("SELECT 1")
        return True
    return False


def _query_root_socket(sql: str) -> list[list[str]]:
    done = subprocess.run(
        ["mariadb", "-uroot", "--batch", "--skip-column-names", "-e", sql],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return [line.split("\t") for line in done.stdout.splitlines()]


async def _query_asyncmy(server: MySqlServer, sql: str) -> list[list[str]]:
    import asyncmy  # type: ignore[import-untyped]

    logging.getLogger("asyncmy").setLevel(logging.ERROR)  # not "database doesn't exist" on DROP ... IF EXISTS
    connection = await asyncmy.connect(
        host=server.host, port=server.port, user=server.user, password=server.password, connect_timeout=10
    )
    try:
        async with connection.cursor() as cursor:
            rows: list[list[str]] = []
            for statement in filter(None, (s.strip() for s in sql.split(";"))):
                await cursor.execute(statement)
                rows = [[str(v) for v in row] for row in await cursor.fetchall() or []]
            return rows
    finally:
        connection.close()


@dataclass
class BenchDatabase:
    """The throwaway database: created fresh (so the server seeds ids 1-25), dropped at the end."""

    server: MySqlServer
    name: str
    granted_hosts: list[str] = field(default_factory=list)

    def create(self) -> None:
        self.server.query(f"DROP DATABASE IF EXISTS `{self.name}`; CREATE DATABASE `{self.name}`")
        if self.server.root_socket and self.server.user != "root":
            self._grant()

    def _grant(self) -> None:
        user = self.server.user.replace("'", "")
        hosts = [r[0] for r in self.server.query(f"SELECT Host FROM mysql.user WHERE User = '{user}'")]
        already = {r[0] for r in self.server.query(f"SELECT Host FROM mysql.db WHERE Db = '{self.name}'")}
        for host in hosts:
            if host not in already:
                self.server.query(f"GRANT ALL PRIVILEGES ON `{self.name}`.* TO '{user}'@'{host}'")
                self.granted_hosts.append(host)

    def drop(self) -> None:
        self.server.query(f"DROP DATABASE IF EXISTS `{self.name}`")
        user = self.server.user.replace("'", "")
        for host in self.granted_hosts:
            self.server.query(f"REVOKE ALL PRIVILEGES ON `{self.name}`.* FROM '{user}'@'{host}'")
        self.granted_hosts.clear()

    def version(self) -> str:
        rows = self.server.query("SELECT VERSION()")
        return rows[0][0] if rows else "unknown"


# ---------------------------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def server_environment(data_dir: Path, carrier_url: str) -> dict[str, str]:
    """The caller's environment without any Freightdesk setting, plus the benchmark's own."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("FREIGHTDESK_")
        and not key.endswith(("_DATABASE_URL", "_SERVICE_URL"))
        and key != "REDIS_URL"
    }
    env.update(
        {
            "FREIGHTDESK_ENV": "development",
            "FREIGHTDESK_AUTO_MIGRATE": "true",
            "FREIGHTDESK_LOG_LEVEL": "WARNING",
            "FREIGHTDESK_DATA_DIR": str(data_dir),
            "CARRIER_DATABASE_URL": carrier_url,
        }
    )
    return env


@dataclass
class Server:
    """`freightdesk run` as a child: the venv's entry point itself, so its pid is the python process."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    env: dict[str, str]
    token: str = ""

    @property
    def headers(self) -> dict[str, str]:
        """Sent with every request to both routes (the public one ignores it), so both parse the same bytes."""
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    def log_tail(self, lines: int = 30) -> str:
        with suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def freightdesk_executable() -> Path:
    executable = REPO / ".venv" / "bin" / "freightdesk"
    if not executable.exists():
        raise BenchmarkError(f"{executable} not found: run `uv sync` in {REPO} first")
    return executable


@contextmanager
def running_server(workdir: Path, carrier_url: str) -> Iterator[Server]:
    port = free_port()
    data_dir = workdir / "data"
    data_dir.mkdir()
    log_path = workdir / "server.log"
    command = [str(freightdesk_executable()), "run", "--host", HOST, "--port", str(port)]
    env = server_environment(data_dir, carrier_url)
    # cwd is the temp dir, so a developer's `.env` in the repo does not leak into the measurement.
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, port, log_path, env)
    try:
        yield server
    finally:
        server.stop()


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_status(url: str, headers: dict[str, str] | None = None, timeout: float = 2.0) -> int:
    """Status of a GET to the local server (no proxy); 0 when nothing answers."""
    try:
        request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - always http://127.0.0.1
        with _OPENER.open(request, timeout=timeout) as response:
            response.read()
            status: int = response.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return 0


def wait_ready(server: Server, timeout: float) -> float:
    """Seconds until `/health/ready` answered 200; fails if the process exits or the time runs out."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if server.process.poll() is not None:
            raise BenchmarkError(f"the server exited with {server.process.returncode}:\n{server.log_tail()}")
        if http_status(server.url(READY_PATH)) == 200:
            return time.monotonic() - started
        time.sleep(0.25)
    raise BenchmarkError(f"the server was not ready within {timeout:.0f} s:\n{server.log_tail()}")


def check_routes(server: Server) -> None:
    paths = [TRIVIAL_PATH, *(CARRIER_PATH.format(id=i) for i in DEMO_CARRIER_IDS)]
    for path in paths:
        status = http_status(server.url(path), server.headers)
        if status != 200:
            raise BenchmarkError(f"GET {path} answered {status}, expected 200:\n{server.log_tail()}")


def access_token(env: dict[str, str], ttl_seconds: int) -> str:
    """A real access token allowed `carriers.read`, signed with the key the server generated in its data dir."""
    from kernel.security.keys import KeyRing
    from kernel.security.tokens import TokenIssuer
    from kernel.settings import Settings

    settings = Settings.from_mapping(env)
    issuer = TokenIssuer(KeyRing.load(settings), settings.jwt_issuer, ttl_seconds)
    return issuer.issue(
        user_id=1, email="bench@example.com", roles=["admin"], permissions=["carriers.read"], session_id="benchmark"
    )


def token_lifetime(options: Options) -> int:
    return int(2 * (options.warmup + options.rounds * options.duration)) + 600


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB (MiB), from /proc."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in {"VmRSS", "VmHWM"}:
            values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


# ------------------------------------------------------------------------------------------------ load


@dataclass(frozen=True)
class LoadResult:
    route: str
    requests: int
    seconds: float
    errors: int
    p50_ms: float | None
    p99_ms: float | None
    server_cpu_s: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.server_cpu_s / self.requests if self.requests else 0.0


def run_load(server: Server, route: str, options: Options, duration: float, workdir: Path) -> LoadResult:
    """Load one route; also records the server's CPU time (user + system) spent meanwhile."""
    before = cpu_seconds(server.process.pid)
    if options.load_generator == "wrk":
        result = run_wrk(server, route, options, duration, workdir)
    else:
        result = asyncio.run(run_builtin(server.port, route, options.connections, duration, server.headers))
    return replace(result, server_cpu_s=cpu_seconds(server.process.pid) - before)


def run_wrk(server: Server, route: str, options: Options, duration: float, workdir: Path) -> LoadResult:
    script = workdir / f"{route}.lua"
    script.write_text(WRK_TRIVIAL if route == "trivial" else WRK_CARRIER)
    command = [
        "wrk",
        f"-t{options.threads}",
        f"-c{options.connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "5s",
        *(item for name, value in server.headers.items() for item in ("-H", f"{name}: {value}")),
        "-s",
        str(script),
        server.url("/"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith(MARKER)), None)
    if done.returncode != 0 or line is None:
        raise BenchmarkError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    data = json.loads(line[len(MARKER) :])
    errors = sum(data[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts"))
    return LoadResult(
        route=route,
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        errors=errors,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
    )


def _path_picker(route: str) -> Callable[[], str]:
    if route == "trivial":
        return lambda: TRIVIAL_PATH
    low, high = DEMO_CARRIER_IDS
    return lambda: CARRIER_PATH.format(id=random.randint(low, high))


def _parse_head(head: bytes) -> tuple[int, int]:
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            return status, int(value)
    raise BenchmarkError("the built-in client needs a Content-Length in every response")


async def _connection(port: int, pick: Callable[[], str], headers: str, deadline: float, latencies: list[float]) -> int:
    """One keep-alive connection sending requests back to back until the deadline; returns its errors."""
    errors = 0
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(f"GET {pick()} HTTP/1.1\r\nHost: {HOST}:{port}\r\n{headers}\r\n".encode())
            await writer.drain()
            status, length = _parse_head(await reader.readuntil(b"\r\n\r\n"))
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            errors += not 200 <= status < 400
    except (OSError, asyncio.IncompleteReadError):
        errors += 1
    finally:
        writer.close()
    return errors


async def run_builtin(port: int, route: str, connections: int, duration: float, headers: dict[str, str]) -> LoadResult:
    latencies: list[float] = []
    started = time.perf_counter()
    deadline = started + duration
    pick = _path_picker(route)
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    errors = await asyncio.gather(*(_connection(port, pick, lines, deadline, latencies) for _ in range(connections)))
    seconds = time.perf_counter() - started
    latencies.sort()

    def percentile(p: float) -> float | None:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000 if latencies else None

    return LoadResult(route, len(latencies), seconds, sum(errors), percentile(0.50), percentile(0.99))


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


def machine_info(database_version: str, load_generator: str) -> dict[str, str]:
    cpu = "unknown"
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "mariadb": database_version,
        "load_generator": _generator_version(load_generator),
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _generator_version(load_generator: str) -> str:
    if load_generator != "wrk":
        return "built-in asyncio client (same machine, shares the CPU with the server)"
    done = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False, timeout=10)
    return (done.stdout or done.stderr).splitlines()[0].split(" Copyright")[0].strip()


def git_describe() -> str:
    done = subprocess.run(
        ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
        timeout=10,
    )
    return done.stdout.strip() or "unknown"


def median_rps(results: list[LoadResult], route: str) -> float:
    return statistics.median(r.rps for r in results if r.route == route)


def median_cpu_ms(results: list[LoadResult], route: str) -> float:
    return statistics.median(r.cpu_ms_per_request for r in results if r.route == route)


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
    for path, text in (
        (markdown, render_markdown(report)),
        (data, json.dumps(asdict(report), indent=2) + "\n"),
    ):
        temporary = path.with_suffix(path.suffix + ".tmp")
        temporary.write_text(text)
        temporary.replace(path)
    return markdown, data


# ------------------------------------------------------------------------------------------------ main


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


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
        with running_server(workdir, server_info.database_url(options.database)) as server:
            log(f"server pid {server.process.pid} on port {server.port}; waiting for readiness")
            startup = wait_ready(server, options.startup_timeout)
            server.token = access_token(server.env, token_lifetime(options))
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
    log(f"wrote {markdown.relative_to(REPO) if markdown.is_relative_to(REPO) else markdown} and {data.name}")
    return 0 if report.ratio_pass and report.rss_pass else 2


if __name__ == "__main__":
    sys.exit(main())
