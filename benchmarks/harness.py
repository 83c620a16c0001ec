"""What the HTTP benchmarks share: throwaway MariaDB databases, a real `freightdesk run`, a signed token, load.

Not a benchmark itself. `carrier_read.py`, `login_load.py`, `business_routes.py` and `split_calculate.py` import
it (they run as scripts from `benchmarks/`, so it is on their path):

- `MySqlServer` / `BenchDatabase`: fresh databases on the local MariaDB, created as root over the unix socket
  when run as root (granting the URL's user access), otherwise with the URL's own credentials; dropped at the
  end, with any grant added.
- `running_server`: `.venv/bin/freightdesk run` (one uvicorn worker) in a temp directory, development mode,
  auto-migration on, `FREIGHTDESK_LOG_LEVEL=WARNING`, the given `<MODULE>_DATABASE_URL`s (other modules on
  SQLite files in the temp dir) and other settings, nothing else from the caller's Freightdesk settings; on a
  port and data dir of its own, or given ones (the processes of a split deployment share a data dir).
- `access_token`: a real access token signed with the key the server generated in its data dir.
- `Route` / `run_load`: one route under load, by `wrk` (a Lua script written into the temp dir) or the
  built-in asyncio client, with the server's CPU time per request from `/proc/<pid>/stat`.
- `machine_info`, `git_describe`, `write_text_atomically`: what a report records and how it is written.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "benchmarks" / "results"
DEFAULT_MYSQL_URL = "mysql+asyncmy://freightdesk:freightdesk@127.0.0.1:3306"
HOST = "127.0.0.1"
TRIVIAL_PATH = "/api/v1/health/live"
READY_PATH = "/api/v1/health/ready"
MARKER = "FDBENCH "

# Appended to every wrk script: one machine-readable line with the figures the benchmarks report.
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
# Each wrk thread seeds its own random numbers (scripts that pick random ids start with this).
WRK_SEEDED = """
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("seed", threads)
end
init = function(args) math.randomseed(os.time() * 100 + seed) end
"""


class BenchmarkError(RuntimeError):
    """The benchmark could not run (server, database or load generator failed)."""


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def lua_string(text: str) -> str:
    """`text` as a Lua string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def resolve_load_generator(choice: str) -> str:
    """`auto` → `wrk` when it is on PATH, else `builtin`; `wrk` must be on PATH."""
    if choice == "auto":
        return "wrk" if shutil.which("wrk") else "builtin"
    if choice == "wrk" and not shutil.which("wrk"):
        raise BenchmarkError("--load-generator wrk: wrk is not on PATH (apt-get install wrk)")
    return choice


# -------------------------------------------------------------------------------------------- database


@dataclass(frozen=True)
class MySqlServer:
    """Where the benchmark databases live, and how we administer them (root over the socket, or the URL)."""

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
    import asyncmy

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
    """A throwaway database: created fresh (so the server migrates and seeds it), dropped at the end."""

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


@contextmanager
def fresh_databases(server: MySqlServer, names: Iterable[str]) -> Iterator[list[BenchDatabase]]:
    """Fresh databases for the block, dropped after it (also on errors; a failed drop is logged, not raised)."""
    databases: list[BenchDatabase] = []
    try:
        for name in names:
            database = BenchDatabase(server, name)
            databases.append(database)
            database.create()
        yield databases
    finally:
        for database in databases:
            try:
                database.drop()
            except Exception as exc:  # cleanup must not hide the original error
                log(f"could not drop database {database.name}: {exc}")


# ---------------------------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def server_environment(data_dir: Path, database_urls: Mapping[str, str]) -> dict[str, str]:
    """The caller's environment without any Freightdesk setting, plus the benchmark's own.

    `database_urls` maps settings (`CARRIER_DATABASE_URL`) to URLs; modules not named use SQLite files in
    `data_dir`."""
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
            **database_urls,
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
        """Sent with every request to every route (public ones ignore it), so all parse the same header bytes."""
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
def running_server(
    workdir: Path,
    database_urls: Mapping[str, str],
    *,
    port: int | None = None,
    data_dir: Path | None = None,
    name: str = "server",
) -> Iterator[Server]:
    """`freightdesk run` in `workdir` for the block, logging to `<workdir>/<name>.log`.

    `database_urls` holds the benchmark's settings (`<MODULE>_DATABASE_URL`s, and any other such as
    `FREIGHTDESK_MODULES`); `port` defaults to a free one, `data_dir` to a new `<workdir>/data` (several
    processes of one deployment share theirs: the signing keys live there)."""
    port = port or free_port()
    if data_dir is None:
        data_dir = workdir / "data"
        data_dir.mkdir()
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"{name}.log"
    command = [str(freightdesk_executable()), "run", "--host", HOST, "--port", str(port)]
    env = server_environment(data_dir, database_urls)
    # cwd is the temp dir, so a developer's `.env` in the repo does not leak into the measurement.
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, port, log_path, env)
    try:
        yield server
    finally:
        server.stop()


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_request(
    url: str,
    headers: Mapping[str, str] | None = None,
    *,
    method: str = "GET",
    body: bytes | None = None,
    timeout: float = 2.0,
) -> tuple[int, bytes]:
    """Status and body of a request to the local server (no proxy); status 0 when nothing answers."""
    all_headers = {**(headers or {}), **({"Content-Type": "application/json"} if body is not None else {})}
    try:
        request = urllib.request.Request(  # noqa: S310 - always http://127.0.0.1
            url, data=body, headers=all_headers, method=method
        )
        with _OPENER.open(request, timeout=timeout) as response:
            status: int = response.status
            return status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, OSError):
        return 0, b""


def http_status(url: str, headers: Mapping[str, str] | None = None, timeout: float = 2.0) -> int:
    """Status of a GET to the local server (no proxy); 0 when nothing answers."""
    return http_request(url, headers, timeout=timeout)[0]


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


def access_token(env: Mapping[str, str], ttl_seconds: int, permissions: Sequence[str]) -> str:
    """A real access token allowed `permissions`, signed with the key the server generated in its data dir."""
    from kernel.security.keys import KeyRing
    from kernel.security.tokens import TokenIssuer
    from kernel.settings import Settings

    settings = Settings.from_mapping(env)
    issuer = TokenIssuer(KeyRing.load(settings), settings.jwt_issuer, ttl_seconds)
    return issuer.issue(
        user_id=1, email="bench@example.com", roles=["admin"], permissions=list(permissions), session_id="benchmark"
    )


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


# The next request of the built-in client: method, path and JSON body (None: no body).
NextRequest = Callable[[], tuple[str, str, bytes | None]]


@dataclass(frozen=True)
class Route:
    """One route under load: the wrk script (a `request()` function and `WRK_DONE`) and the same requests
    for the built-in client."""

    name: str
    wrk_script: str
    next_request: NextRequest


@dataclass(frozen=True)
class LoadSettings:
    generator: str  # "wrk" or "builtin"
    connections: int
    threads: int  # wrk threads; the built-in client is one thread
    timeout_s: float = 5.0  # wrk's per-request timeout (a request taking longer counts as an error)


def run_load(server: Server, route: Route, settings: LoadSettings, duration: float, workdir: Path) -> LoadResult:
    """Load one route; also records the server's CPU time (user + system) spent meanwhile."""
    before = cpu_seconds(server.process.pid)
    if settings.generator == "wrk":
        result = run_wrk(server, route.name, route.wrk_script, settings, duration, workdir)
    else:
        result = asyncio.run(
            run_builtin(server.port, route.name, route.next_request, settings.connections, duration, server.headers)
        )
    return replace(result, server_cpu_s=cpu_seconds(server.process.pid) - before)


def run_wrk(
    server: Server, name: str, script: str, settings: LoadSettings, duration: float, workdir: Path
) -> LoadResult:
    """Run wrk with `script` (written to `<workdir>/<name>.lua`) and the server's headers on every request."""
    path = workdir / f"{name}.lua"
    path.write_text(script)
    command = [
        "wrk",
        f"-t{settings.threads}",
        f"-c{settings.connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        f"{settings.timeout_s:g}s",
        *(item for key, value in server.headers.items() for item in ("-H", f"{key}: {value}")),
        "-s",
        str(path),
        server.url("/"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith(MARKER)), None)
    if done.returncode != 0 or line is None:
        raise BenchmarkError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    data = json.loads(line[len(MARKER) :])
    errors = sum(data[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts"))
    return LoadResult(
        route=name,
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        errors=errors,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
    )


def _parse_head(head: bytes) -> tuple[int, int]:
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            return status, int(value)
    raise BenchmarkError("the built-in client needs a Content-Length in every response")


def _request_bytes(method: str, path: str, body: bytes | None, port: int, headers: str) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n{headers}"
    if body is None:
        return f"{head}\r\n".encode()
    return f"{head}Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body


async def _connection(
    port: int, next_request: NextRequest, headers: str, deadline: float, latencies: list[float]
) -> int:
    """One keep-alive connection sending requests back to back until the deadline; returns its errors."""
    errors = 0
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(_request_bytes(*next_request(), port, headers))
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


async def run_builtin(
    port: int, name: str, next_request: NextRequest, connections: int, duration: float, headers: Mapping[str, str]
) -> LoadResult:
    latencies: list[float] = []
    started = time.perf_counter()
    deadline = started + duration
    lines = "".join(f"{key}: {value}\r\n" for key, value in headers.items())
    errors = await asyncio.gather(
        *(_connection(port, next_request, lines, deadline, latencies) for _ in range(connections))
    )
    seconds = time.perf_counter() - started
    latencies.sort()

    def percentile(p: float) -> float | None:
        return latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000 if latencies else None

    return LoadResult(name, len(latencies), seconds, sum(errors), percentile(0.50), percentile(0.99))


def median_rps(results: Iterable[LoadResult], route: str) -> float:
    return statistics.median(r.rps for r in results if r.route == route)


def median_cpu_ms(results: Iterable[LoadResult], route: str) -> float:
    return statistics.median(r.cpu_ms_per_request for r in results if r.route == route)


# --------------------------------------------------------------------------------------------- report


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
        "load_generator": generator_version(load_generator),
        "loadavg": load_average(),
    }


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def generator_version(load_generator: str) -> str:
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


def write_text_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(text)
    temporary.replace(path)


def shown_path(path: Path) -> str:
    return str(path.relative_to(REPO) if path.is_relative_to(REPO) else path)
