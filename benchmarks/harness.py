"""What the HTTP benchmarks share: throwaway MariaDB databases, a real `freightdesk run`, a signed token, load,
and the options, figures and files of their reports.

Not a benchmark itself. `suite.py`, `carrier_read.py`, `login_load.py`, `business_routes.py` and
`split_calculate.py` import it (they run as scripts from `benchmarks/`, so it is on their path):

- `MySqlServer` / `BenchDatabase` / `fresh_databases`: fresh databases on the local MariaDB, created as root
  over the unix socket when run as root (granting the URL's user access), otherwise with the URL's own
  credentials; dropped at the end, with any grant added.
- `running_server`: `.venv/bin/freightdesk run` (one uvicorn worker) in a temp directory, development mode,
  auto-migration on, `FREIGHTDESK_LOG_LEVEL=WARNING` unless told otherwise (`log_level=None`: the server's
  default, INFO with the access log), the given `<MODULE>_DATABASE_URL`s (other modules on SQLite files in
  the temp dir) and other settings, nothing else from the caller's Freightdesk settings; on a port and data
  dir of its own, or given ones (the processes of a split deployment share a data dir). `running_process`
  starts any other server the same way (the suite's reference).
- `access_token`: a real access token signed with the key the server generated in its data dir; `expect`
  and `call_json` check the routes' answers before the load.
- `Route` / `run_load` / `load_once`: one route under load, by `wrk` (a Lua script written into the temp
  dir, `wrk_script`) or the built-in asyncio client, with the server's CPU time per request from
  `/proc/<pid>/stat` (and MariaDB's, `load_once`); `medians` of a route's runs.
- `CommonOptions` / `add_common_arguments` / `common_options`: the options every benchmark takes.
- `machine_info`, `git_describe`, `header_lines`, `run_table_rows`, `footer_lines`, `write_report`,
  `run_and_report`: what a report records, how it is laid out and written, and a benchmark's `main`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "benchmarks" / "results"
DEFAULT_MYSQL_URL = "mysql+asyncmy://freightdesk:freightdesk@127.0.0.1:3306"
HOST = "127.0.0.1"
TRIVIAL_PATH = "/api/v1/health/live"
READY_PATH = "/api/v1/health/ready"
MARKER = "FDBENCH "
QUIET_LOG_LEVEL = "WARNING"  # what the benchmarks run the server with unless told otherwise: no access log

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


@contextmanager
def temporary_workdir(prefix: str) -> Iterator[Path]:
    """A temp dir for the block (scripts, logs, data dirs), removed after it, also on errors."""
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield workdir
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------- server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def server_environment(
    data_dir: Path, database_urls: Mapping[str, str], log_level: str | None = QUIET_LOG_LEVEL
) -> dict[str, str]:
    """The caller's environment without any Freightdesk setting, plus the benchmark's own.

    `database_urls` maps settings (`CARRIER_DATABASE_URL`) to URLs; modules not named use SQLite files in
    `data_dir`. `log_level` is `FREIGHTDESK_LOG_LEVEL`; None leaves the server's default (INFO, with the
    access log), as a deployment runs it."""
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
            "FREIGHTDESK_DATA_DIR": str(data_dir),
            **({"FREIGHTDESK_LOG_LEVEL": log_level} if log_level else {}),
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
def running_process(
    command: Sequence[str], workdir: Path, env: Mapping[str, str], port: int, name: str
) -> Iterator[Server]:
    """`command` (an HTTP server listening on `port`) as a child in `workdir` for the block, its output in
    `<workdir>/<name>.log`; stopped after the block (SIGTERM, then SIGKILL), also on errors."""
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            list(command),
            cwd=workdir,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, port, log_path, dict(env))
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def running_server(
    workdir: Path,
    database_urls: Mapping[str, str],
    *,
    port: int | None = None,
    data_dir: Path | None = None,
    name: str = "server",
    log_level: str | None = QUIET_LOG_LEVEL,
) -> Iterator[Server]:
    """`freightdesk run` in `workdir` for the block, logging to `<workdir>/<name>.log`.

    `database_urls` holds the benchmark's settings (`<MODULE>_DATABASE_URL`s, and any other such as
    `FREIGHTDESK_MODULES`); `port` defaults to a free one, `data_dir` to a new `<workdir>/data` (several
    processes of one deployment share theirs: the signing keys live there); `log_level` as for
    `server_environment`."""
    port = port or free_port()
    if data_dir is None:
        data_dir = workdir / "data"
        data_dir.mkdir()
    else:
        data_dir.mkdir(parents=True, exist_ok=True)
    command = [str(freightdesk_executable()), "run", "--host", HOST, "--port", str(port)]
    # cwd is the temp dir, so a developer's `.env` in the repo does not leak into the measurement.
    env = server_environment(data_dir, database_urls, log_level)
    with running_process(command, workdir, env, port, name) as server:
        yield server


def module_database_urls(mysql: MySqlServer, databases: Mapping[str, str]) -> dict[str, str]:
    """module → database name, as the `<MODULE>_DATABASE_URL` settings of a server."""
    return {f"{module.upper()}_DATABASE_URL": mysql.database_url(name) for module, name in databases.items()}


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


def wait_ready(server: Server, timeout: float, path: str = READY_PATH) -> float:
    """Seconds until `path` (`/health/ready`) answered 200; fails if the process exits or the time runs out."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if server.process.poll() is not None:
            raise BenchmarkError(f"the server exited with {server.process.returncode}:\n{server.log_tail()}")
        if http_status(server.url(path)) == 200:
            return time.monotonic() - started
        time.sleep(0.25)
    raise BenchmarkError(f"the server was not ready within {timeout:.0f} s:\n{server.log_tail()}")


def call_json(server: Server, method: str, path: str, body: Mapping[str, Any] | None = None) -> tuple[int, Any]:
    """Status and decoded JSON body (None when there is none) of one request with the server's headers."""
    data = None if body is None else compact_json(body).encode()
    status, raw = http_request(server.url(path), server.headers, method=method, body=data, timeout=10.0)
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def expect(server: Server, method: str, path: str, body: Mapping[str, Any] | None, status: int) -> Any:
    """The `data` of the enveloped answer; fails unless the request answered `status` with a JSON object."""
    answered, document = call_json(server, method, path, body)
    if answered != status or not isinstance(document, dict):
        raise BenchmarkError(f"{method} {path} answered {answered}, expected {status}: {document}\n{server.log_tail()}")
    return document.get("data")


def require(condition: bool, message: str) -> None:
    if not condition:
        raise BenchmarkError(message)


def compact_json(body: Mapping[str, Any]) -> str:
    return json.dumps(body, separators=(",", ":"))


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


def wrk_script(method: str, path: str, body: str | None = None, *, seeded: bool = False) -> str:
    """A wrk script whose `request()` builds each request with `wrk.format`; `path` and `body` are Lua
    expressions (`lua_string(...)` for fixed ones). The server's headers (the token) come from the command
    line; `seeded` gives each thread its own random numbers."""
    parts = [WRK_SEEDED if seeded else ""]
    arguments = f"{lua_string(method)}, {path}"
    if body is not None:
        parts.append('wrk.headers["Content-Type"] = "application/json"\n')
        arguments += f", nil, {body}"
    parts.append(f"request = function()\n  return wrk.format({arguments})\nend\n")
    return "".join(parts) + WRK_DONE


def fixed_request(method: str, path: str, body: str | None = None) -> NextRequest:
    """The built-in client's side of a route that sends the same request every time."""
    data = None if body is None else body.encode()
    return lambda: (method, path, data)


def fixed_route(name: str, method: str, path: str, body: str | None = None) -> Route:
    """A route that sends the same request every time, for both load generators."""
    lua_body = None if body is None else lua_string(body)
    return Route(name, wrk_script(method, lua_string(path), lua_body), fixed_request(method, path, body))


def process_pids(*names: str) -> list[int]:
    """The processes whose command name (`/proc/<pid>/comm`) is one of `names`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in names:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def database_pids() -> list[int]:
    """The local MariaDB server's process (its CPU time is read like the server's; it may serve others too)."""
    return process_pids("mariadbd", "mysqld")


def total_cpu_seconds(pids: Iterable[int]) -> float:
    """The CPU time of the processes still there."""
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except OSError:
            continue
    return total


@dataclass(frozen=True)
class Run:
    """One route loaded once: its round (0 for the warm-up) and the MariaDB CPU time spent meanwhile."""

    round: int
    result: LoadResult
    database_cpu_s: float

    @property
    def database_cpu_ms(self) -> float:
        return 1000 * self.database_cpu_s / self.result.requests if self.result.requests else 0.0


def load_once(server: Server, route: Route, settings: LoadSettings, duration: float, workdir: Path, round_: int) -> Run:
    """`run_load`, with MariaDB's CPU time meanwhile; logs one line."""
    pids = database_pids()
    before = total_cpu_seconds(pids)
    result = run_load(server, route, settings, duration, workdir)
    run = Run(round_, result, total_cpu_seconds(pids) - before)
    log(
        f"round {round_} {route.name:18} {result.rps:8.1f} req/s  p50 {result.p50_ms or 0:6.1f} ms  "
        f"p99 {result.p99_ms or 0:7.1f} ms  cpu {result.cpu_ms_per_request:.3f} ms  errors {result.errors}"
    )
    return run


def median_or_none(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def cell(value: float | int | str | None, spec: str = "") -> str:
    """A table cell: `-` for a missing value."""
    return "-" if value is None else format(value, spec)


@dataclass(frozen=True)
class Medians:
    """Several loads of one route: totals, and the medians over the loads of each one's figures."""

    runs: int
    requests: int
    errors: int
    rps: float
    p50_ms: float | None
    p99_ms: float | None
    cpu_ms: float


def medians(results: Sequence[LoadResult]) -> Medians:
    return Medians(
        runs=len(results),
        requests=sum(r.requests for r in results),
        errors=sum(r.errors for r in results),
        rps=round(statistics.median(r.rps for r in results), 1),
        p50_ms=rounded(median_or_none([r.p50_ms for r in results if r.p50_ms is not None]), 2),
        p99_ms=rounded(median_or_none([r.p99_ms for r in results if r.p99_ms is not None]), 2),
        cpu_ms=round(statistics.median(r.cpu_ms_per_request for r in results), 3),
    )


def result_row(result: LoadResult) -> dict[str, float | int | None]:
    """What the reports' run tables show of one load."""
    return {
        "requests": result.requests,
        "seconds": round(result.seconds, 2),
        "rps": round(result.rps, 1),
        "p50_ms": rounded(result.p50_ms, 2),
        "p99_ms": rounded(result.p99_ms, 2),
        "cpu_ms": round(result.cpu_ms_per_request, 3),
        "errors": result.errors,
    }


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


def report_date() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def header_lines(
    title: str, date: str, git: str, machine: Mapping[str, str], loadavg_after: str | None = None
) -> list[str]:
    """The first lines of a report: what ran where, and how busy the machine was."""
    servers = f"Python {machine['python']}, MariaDB {machine['mariadb']}"
    if "redis" in machine:
        servers += f", Redis {machine['redis']}"
    load = f"load average {machine['loadavg']} before the run"
    if loadavg_after is not None:
        load += f" and {loadavg_after} after it"
    return [
        f"# {title}",
        "",
        f"- Date: {date}",
        f"- Revision: `{git}`",
        f"- Machine: {machine['nproc']} CPU(s), {machine['cpu']}, Linux {machine['kernel']}",
        f"- {servers}; {load} (1/5/15 min): the machine may be shared with other work",
    ]


def run_table_rows(rows: Iterable[Mapping[str, Any]], keys: Sequence[str]) -> list[str]:
    """The `keys` of each run's row as a markdown table row; round 0 is the warm-up."""
    lines = []
    for row in rows:
        cells = [cell(row[k]) for k in keys]
        if keys[0] == "round" and row["round"] == 0:
            cells[0] = "warm-up"
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def footer_lines(notes: Sequence[str], script: str) -> list[str]:
    """The last lines of a report: its notes, and how to run it again."""
    lines = ["", "## Notes", "", *(f"- {note}" for note in notes)] if notes else []
    return [*lines, "", f"Rerun: `uv run python benchmarks/{script}` (see benchmarks/README.md).", ""]


def standard_notes(failed: bool, git: str) -> list[str]:
    """The notes every report makes when they apply: failed requests, uncommitted changes."""
    notes = []
    if failed:
        notes.append("Some requests failed (see the errors column): the figures are not trustworthy.")
    if git.endswith("-dirty"):
        notes.append("The working tree had uncommitted changes when this ran.")
    return notes


def write_report(directory: Path, stem: str, markdown: str, data: object) -> tuple[Path, Path]:
    """`<directory>/<stem>.md` and `.json`, each replaced whole."""
    markdown_path, data_path = directory / f"{stem}.md", directory / f"{stem}.json"
    write_text_atomically(markdown_path, markdown)
    write_text_atomically(data_path, json.dumps(data, indent=2) + "\n")
    return markdown_path, data_path


ReportT = TypeVar("ReportT")


def run_and_report(
    run: Callable[[], ReportT],
    render: Callable[[ReportT], str],
    write: Callable[[ReportT], tuple[Path, Path]],
    exit_code: Callable[[ReportT], int],
) -> int:
    """A benchmark's `main`: run it (1 when it could not run), print and write the report, its exit code."""
    try:
        report = run()
    except (BenchmarkError, subprocess.SubprocessError, OSError) as exc:
        log(f"failed: {exc}")
        return 1
    print(render(report))
    markdown, data = write(report)
    log(f"wrote {shown_path(markdown)} and {data.name}")
    return exit_code(report)


# -------------------------------------------------------------------------------------------- options


@dataclass(frozen=True)
class CommonOptions:
    """The options every HTTP benchmark takes (`add_common_arguments`); a script's own extend these."""

    mysql_url: str
    duration: float
    connections: int
    threads: int
    rounds: int
    warmup: float
    startup_timeout: float
    results_dir: Path
    load_generator: str

    @property
    def load(self) -> LoadSettings:
        return LoadSettings(self.load_generator, self.connections, self.threads)

    def load_record(self) -> dict[str, str | float | int]:
        """How the load ran, as the reports' `settings` record it."""
        return {
            "connections": self.connections,
            "threads": self.threads if self.load_generator == "wrk" else 1,  # the built-in client is one
            "duration_s": self.duration,
            "rounds": self.rounds,
            "warmup_s": self.warmup,
        }


def add_common_arguments(
    parser: argparse.ArgumentParser,
    *,
    duration: float,
    rounds: int,
    startup_timeout: float,
    rounds_help: str = "Interleaved rounds; medians are reported",
) -> None:
    parser.add_argument(
        "--mysql-url",
        default=os.environ.get("FREIGHTDESK_BENCH_MYSQL_URL", DEFAULT_MYSQL_URL),
        help="MariaDB server URL without a database (env FREIGHTDESK_BENCH_MYSQL_URL; default %(default)s)",
    )
    parser.add_argument("--duration", type=float, default=duration, help="Seconds per route per round")
    parser.add_argument("--connections", type=int, default=32, help="Concurrent keep-alive connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--rounds", type=int, default=rounds, help=rounds_help)
    parser.add_argument("--warmup", type=float, default=3.0, help="Seconds of load per route before measuring")
    parser.add_argument("--startup-timeout", type=float, default=startup_timeout, help="Seconds to wait for readiness")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR, help="Where the .md and .json go")
    parser.add_argument(
        "--load-generator", choices=("auto", "wrk", "builtin"), default="auto", help="auto: wrk if on PATH"
    )


def common_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, Any]:
    """The checked values of `add_common_arguments`, as keyword arguments of a `CommonOptions` subclass."""
    if args.duration <= 0 or args.duration > 600 or args.rounds < 1 or args.connections < 1 or args.threads < 1:
        parser.error("--duration must be in (0, 600]; --rounds, --connections and --threads at least 1")
    if args.warmup < 0:
        parser.error("--warmup must not be negative")
    try:
        generator = resolve_load_generator(args.load_generator)
    except BenchmarkError as exc:
        parser.error(str(exc))
    values = {f.name: getattr(args, f.name) for f in fields(CommonOptions)}
    return values | {"threads": min(args.threads, args.connections), "load_generator": generator}


def check_identifier(parser: argparse.ArgumentParser, option: str, value: str, max_length: int) -> None:
    """A database name (or prefix of names) the benchmark creates: letters, digits and underscores."""
    if not re.fullmatch(rf"[A-Za-z0-9_]{{1,{max_length}}}", value):
        parser.error(f"{option}: letters, digits and underscores only, at most {max_length}")


def comma_list(text: str) -> tuple[str, ...]:
    """`a, b,,a` → `("a", "b")`."""
    return tuple(dict.fromkeys(item.strip() for item in text.split(",") if item.strip()))
