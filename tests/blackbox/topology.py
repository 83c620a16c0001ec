"""The system under black-box test, started as real `freightdesk run` processes on MariaDB, in one of its
shapes, and a client that sees it the way the old admin frontend does: one base URL.

- `one-process`: every module in one process (the default deployment).
- `split`: every module in a process of its own with its own database, events over Redis Streams and the
  Protocols of other modules called over HTTP (`<MODULE>_SERVICE_URL`), the hybrid topology of compose/.

The client routes each request by its path prefix to the process hosting the module that owns the prefix —
what the gateway in compose/ does — so the tests never know which shape they talk to.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from bootstrap.catalog import available_modules, dependency_order, load_descriptor
from tests.e2e.test_run_command import free_port
from tests.isolation import REDIS_URL, mysql_database_url, recreate_mysql_databases, resources, run_database_name

START_TIMEOUT_SECONDS = 240.0  # migrations and the demo seed (argon2 hashes of the demo users) come first
SHAPES = ("one-process", "split")


def _database_settings(shape: str, tag: str) -> dict[str, str]:
    """Fresh databases of this run: one per module database (auth and user share the identity database)."""
    values: dict[str, str] = {}
    names: set[str] = set()
    for module in available_modules():
        file = load_descriptor(module).database.default_file.removesuffix(".sqlite")
        database = run_database_name(re.sub(r"[^a-z0-9_]", "", f"{tag}_{file}".lower())[:40])
        names.add(database)
        values[f"{module.upper()}_DATABASE_URL"] = mysql_database_url(database)
    asyncio.run(recreate_mysql_databases(sorted(names)))
    return values


def _groups(shape: str) -> list[tuple[str, ...]]:
    """Which modules each process hosts, in the order they start (a module after what it depends on)."""
    if shape == "one-process":
        return [tuple(available_modules())]
    return [(d.name,) for d in dependency_order(load_descriptor(m) for m in available_modules())]


class Server:
    """One `freightdesk run` process of the system; it can be stopped, killed and started again on its port."""

    def __init__(self, tmp_path: Path, modules: Sequence[str], port: int, settings: dict[str, str]) -> None:
        self.modules = tuple(modules)
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_file = tmp_path / f"{'-'.join(modules)}.log"
        self._tmp_path = tmp_path
        self._env = {k: v for k, v in os.environ.items() if not k.endswith(("_DATABASE_URL", "_SERVICE_URL"))}
        self._env.pop("REDIS_URL", None)
        self._env.update(
            {
                # the processes share the signing key ring, as the compose volume does
                "FREIGHTDESK_DATA_DIR": str(tmp_path / "var"),
                "FREIGHTDESK_LOG_LEVEL": "WARNING",
                "FREIGHTDESK_MODULES": ",".join(modules),
                **settings,
            }
        )
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        freightdesk = Path(sys.executable).with_name("freightdesk")
        with self.log_file.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: S603 - our own console script
                [str(freightdesk), "run", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self._env,
                cwd=self._tmp_path,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _wait_ready(self)

    def kill(self) -> None:
        """`kill -9`: no shutdown, no flush."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=15)
            self._process = None

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=15)
            self._process = None


def _wait_ready(process: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{process.base_url}/api/v1/health/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    log_file = process.log_file
    output = log_file.read_text(errors="replace") if log_file.exists() else ""
    raise AssertionError(f"{process.modules} not ready within {START_TIMEOUT_SECONDS:.0f} s:\n{output[-4000:]}")


class System:
    """The running processes of one shape and the route table that finds a path's process."""

    def __init__(self, shape: str, processes: list[Server], tmp_path: Path, settings: dict[str, str]) -> None:
        self.shape = shape
        self.processes = processes
        self.replicas: list[Server] = []
        self._tmp_path = tmp_path
        self._settings = settings

    def _routes(self) -> list[tuple[str, str]]:
        routes = [
            (f"/api/v1{prefix}", process.base_url)
            for process in self.processes
            for module in process.modules
            for prefix in load_descriptor(module).route_prefixes
        ]
        return sorted(routes, key=lambda route: len(route[0]), reverse=True)

    def base_url_for(self, path: str) -> str:
        for prefix, base_url in self._routes():
            if path == prefix or path.startswith((f"{prefix}/", f"{prefix}?")):
                return base_url
        return self.processes[0].base_url  # process-wide routes (health, docs) of the first process

    def client(self) -> httpx.Client:
        system = self

        class Routing(httpx.BaseTransport):
            def __init__(self) -> None:
                self._inner = httpx.HTTPTransport()

            def handle_request(self, request: httpx.Request) -> httpx.Response:
                target = httpx.URL(system.base_url_for(request.url.path))
                request.url = request.url.copy_with(scheme=target.scheme, host=target.host, port=target.port)
                return self._inner.handle_request(request)

            def close(self) -> None:
                self._inner.close()

        return httpx.Client(transport=Routing(), base_url="http://freightdesk.test", timeout=30)

    def server_of(self, module: str) -> Server:
        return next(server for server in self.processes if module in server.modules)

    def start_replica(self, module: str) -> Server:
        """One more process hosting `module` alone, on its own port, with the same settings (a replica)."""
        own = {k: v for k, v in self._settings.items() if k != f"{module.upper()}_SERVICE_URL"}
        replica = Server(self._tmp_path, (module,), free_port(), own)
        replica.log_file = self._tmp_path / f"{module}-replica-{len(self.replicas) + 1}.log"
        self.replicas.append(replica)
        replica.start()
        return replica

    def stop_all(self) -> None:
        for server in [*reversed(self.replicas), *reversed(self.processes)]:
            server.stop()


@contextmanager
def started_system(shape: str, tmp_path: Path, **extra: str) -> Iterator[System]:
    """The system in `shape`, on fresh databases of this run; `extra` settings go to every process."""
    settings = {**_database_settings(shape, tmp_path.name), "FREIGHTDESK_RELAY_INTERVAL": "0.05"}
    groups = _groups(shape)
    ports = {group: free_port() for group in groups}
    if shape == "split":
        prefix = resources.redis_prefix()
        settings |= {"REDIS_URL": REDIS_URL, "FREIGHTDESK_REDIS_KEY_PREFIX": prefix}
        settings |= {"FREIGHTDESK_EVENT_TRANSPORT": "redis"}
        for group, port in ports.items():
            for module in group:
                settings[f"{module.upper()}_SERVICE_URL"] = f"http://127.0.0.1:{port}"
    settings |= extra
    servers: list[Server] = []
    system = System(shape, servers, tmp_path, settings)
    try:
        for group in groups:
            own = {k: v for k, v in settings.items() if not any(k == f"{m.upper()}_SERVICE_URL" for m in group)}
            server = Server(tmp_path, group, ports[group], own)
            servers.append(server)
            server.start()
        yield system
    finally:
        system.stop_all()
