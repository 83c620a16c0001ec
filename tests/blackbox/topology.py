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
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bootstrap.catalog import available_modules, dependency_order, load_descriptor
from tests.e2e.test_run_command import free_port
from tests.isolation import REDIS_URL, mysql_database_url, recreate_mysql_databases, resources, run_database_name

START_TIMEOUT_SECONDS = 240.0  # migrations and the demo seed (argon2 hashes of the demo users) come first
SHAPES = ("one-process", "split")


@dataclass(frozen=True)
class Process:
    modules: tuple[str, ...]
    base_url: str


def _database_settings(shape: str) -> dict[str, str]:
    """Fresh databases of this run: one per module database (auth and user share the identity database)."""
    values: dict[str, str] = {}
    names: set[str] = set()
    for module in available_modules():
        database = run_database_name(f"bb_{shape.replace('-', '')}_{load_descriptor(module).database.default_file}")
        database = database.removesuffix(".sqlite")
        names.add(database)
        values[f"{module.upper()}_DATABASE_URL"] = mysql_database_url(database)
    asyncio.run(recreate_mysql_databases(sorted(names)))
    return values


def _groups(shape: str) -> list[tuple[str, ...]]:
    """Which modules each process hosts, in the order they start (a module after what it depends on)."""
    if shape == "one-process":
        return [tuple(available_modules())]
    return [(d.name,) for d in dependency_order(load_descriptor(m) for m in available_modules())]


@contextmanager
def _process(tmp_path: Path, modules: Sequence[str], port: int, settings: dict[str, str]) -> Iterator[None]:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_DATABASE_URL", "_SERVICE_URL"))}
    env.pop("REDIS_URL", None)
    data_dir = tmp_path / "var"  # the processes share the signing key ring, as the compose volume does
    env.update(
        {
            "FREIGHTDESK_DATA_DIR": str(data_dir),
            "FREIGHTDESK_LOG_LEVEL": "WARNING",
            "FREIGHTDESK_MODULES": ",".join(modules),
            **settings,
        }
    )
    log = (tmp_path / f"{'-'.join(modules)}.log").open("wb")
    freightdesk = Path(sys.executable).with_name("freightdesk")
    process = subprocess.Popen(  # noqa: S603 - our own console script
        [str(freightdesk), "run", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _wait_ready(process: Process, log_file: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{process.base_url}/api/v1/health/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    output = log_file.read_text(errors="replace") if log_file.exists() else ""
    raise AssertionError(f"{process.modules} not ready within {START_TIMEOUT_SECONDS:.0f} s:\n{output[-4000:]}")


class System:
    """The running processes of one shape and the route table that finds a path's process."""

    def __init__(self, shape: str, processes: list[Process]) -> None:
        self.shape = shape
        self.processes = processes
        self._routes: list[tuple[str, str]] = []
        for process in processes:
            for module in process.modules:
                for prefix in load_descriptor(module).route_prefixes:
                    self._routes.append((f"/api/v1{prefix}", process.base_url))
        self._routes.sort(key=lambda route: len(route[0]), reverse=True)

    def base_url_for(self, path: str) -> str:
        for prefix, base_url in self._routes:
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


@contextmanager
def started_system(shape: str, tmp_path: Path) -> Iterator[System]:
    settings = {**_database_settings(shape), "FREIGHTDESK_RELAY_INTERVAL": "0.05"}
    groups = _groups(shape)
    ports = {group: free_port() for group in groups}
    if shape == "split":
        prefix = resources.redis_prefix()
        settings |= {"REDIS_URL": REDIS_URL, "FREIGHTDESK_REDIS_KEY_PREFIX": prefix}
        settings |= {"FREIGHTDESK_EVENT_TRANSPORT": "redis"}
        for group, port in ports.items():
            for module in group:
                settings[f"{module.upper()}_SERVICE_URL"] = f"http://127.0.0.1:{port}"
    processes: list[Process] = []
    with ExitStack() as stack:
        for group in groups:
            own = {k: v for k, v in settings.items() if not any(k == f"{m.upper()}_SERVICE_URL" for m in group)}
            stack.enter_context(_process(tmp_path, group, ports[group], own))
            process = Process(group, f"http://127.0.0.1:{ports[group]}")
            _wait_ready(process, tmp_path / f"{'-'.join(group)}.log")
            processes.append(process)
        yield System(shape, processes)
