"""Test fixtures: every database test runs on SQLite and, when FREIGHTDESK_TEST_MYSQL_URL is set, on MariaDB.

With CI=true the MySQL and Redis suites are required: a missing URL or an unreachable server fails the run
instead of skipping it.

A run owns what it creates on the shared servers and nothing else, so two runs (two checkouts, two CI jobs)
can use one MariaDB and one Redis at once: its databases are named `fdtest_<run id>_<name>` and dropped when
the session ends, and its Redis keys carry the prefix `fdtest:<run id>:` and are deleted the same way
(tests/isolation.py).
"""

from __future__ import annotations

import warnings

# advanced-alchemy still decorates its mixins with a decorator SQLAlchemy 2.1 deprecates; not ours to fix.
warnings.filterwarnings("ignore", message="The declarative_mixin decorator", category=DeprecationWarning)

import asyncio
import io
import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bootstrap.app import create_app
from bootstrap.catalog import available_modules, load_descriptor
from bootstrap.migrate import upgrade
from bootstrap.runtime import module_database
from kernel.settings import Settings
from tests import contract
from tests.helpers import bearer, token_for
from tests.isolation import (
    MYSQL_URL,
    REDIS_URL,
    clean_up_run,
    delete_redis_keys,
    mysql_database_url,
    recreate_mysql_databases,
    resources,
    run_database_name,
)

IN_CI = os.environ.get("CI", "").lower() == "true"
BACKENDS = ["sqlite", "mysql"]


def require_service(name: str, configured: bool) -> None:
    """Skip locally when a server is not configured; fail in CI, where the suites are required."""
    if configured:
        return
    if IN_CI:
        pytest.fail(f"{name} is required when CI=true but its test URL is not set")
    pytest.skip(f"{name} not configured (set FREIGHTDESK_TEST_{name.upper()}_URL)")


@pytest.fixture(scope="session", autouse=True)
def _clean_up_the_run() -> Iterator[None]:
    """Drop this run's databases and delete its Redis keys at the end of the session, failed or not."""
    yield
    problems = asyncio.run(clean_up_run())
    if problems:
        pytest.fail("test run cleanup failed: " + "; ".join(problems))


@pytest.fixture(scope="session", autouse=True)
def _openapi_contract(tmp_path_factory: pytest.TempPathFactory) -> contract.Contract:
    """The document an app hosting every module serves, fetched once: `http_client` checks each response
    against it (tests/contract.py)."""
    data_dir = tmp_path_factory.mktemp("openapi")
    app = create_app(Settings.from_mapping({"FREIGHTDESK_DATA_DIR": str(data_dir), "FREIGHTDESK_LOG_LEVEL": "WARNING"}))

    async def fetch() -> dict[str, Any]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as plain:
            response = await plain.get("/api/docs/openapi.json")
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document

    return contract.install(asyncio.run(fetch()))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    checked = contract.installed()
    if checked is not None and checked.checked:
        terminalreporter.write_line(
            f"OpenAPI contract: {checked.checked} response bodies matched the served document "
            f"({checked.seconds:.1f}s of checking)"
        )


@pytest.fixture
async def redis_environment(environment: dict[str, str]) -> AsyncIterator[dict[str, str]]:
    """`environment` plus the test Redis, under a key prefix of this test's own; its keys are deleted after."""
    require_service("redis", bool(REDIS_URL))
    prefix = resources.redis_prefix()
    yield {**environment, "REDIS_URL": REDIS_URL, "FREIGHTDESK_REDIS_KEY_PREFIX": prefix}
    await delete_redis_keys(prefix)


def base_environment(backend: str, data_dir: Path) -> dict[str, str]:
    """Settings for one backend: SQLite files in `data_dir`, or one MariaDB database per module."""
    values = {
        "FREIGHTDESK_DATA_DIR": str(data_dir),
        "FREIGHTDESK_LOG_LEVEL": "WARNING",
        "FREIGHTDESK_RELAY_INTERVAL": "0.05",
    }
    if backend == "mysql":
        for name in available_modules():
            database = load_descriptor(name).database.default_file.removesuffix(".sqlite")
            values[f"{name.upper()}_DATABASE_URL"] = mysql_database_url(run_database_name(database))
    return values


class MigratedBackend:
    """A backend with every module migrated once per test session; each test gets clean tables."""

    def __init__(self, backend: str, template_dir: Path) -> None:
        self.backend = backend
        self.template_dir = template_dir
        self.environment = base_environment(backend, template_dir)
        settings = Settings.from_mapping(self.environment)
        if backend == "mysql":
            databases = sorted(
                {url.rsplit("/", 1)[1] for key, url in self.environment.items() if key.endswith("_DATABASE_URL")}
            )
            asyncio.run(recreate_mysql_databases(databases))
        upgrade([module_database(settings, load_descriptor(name)) for name in available_modules()])

    def fresh_environment(self, data_dir: Path) -> dict[str, str]:
        if self.backend == "sqlite":
            shutil.copytree(self.template_dir, data_dir, dirs_exist_ok=True)
            return base_environment("sqlite", data_dir)
        asyncio.run(self._truncate())
        return {**self.environment, "FREIGHTDESK_DATA_DIR": str(data_dir)}

    async def _truncate(self) -> None:
        settings = Settings.from_mapping(self.environment)
        for name in available_modules():
            descriptor = load_descriptor(name)
            engine = create_async_engine(module_database(settings, descriptor).url, poolclass=NullPool)
            try:
                async with engine.begin() as connection:
                    await connection.execute(text("SET FOREIGN_KEY_CHECKS=0"))
                    for table in descriptor.database.metadata.sorted_tables:
                        await connection.execute(text(f"TRUNCATE TABLE `{table.name}`"))
                    await connection.execute(text("SET FOREIGN_KEY_CHECKS=1"))
            finally:
                await engine.dispose()


_backends: dict[str, MigratedBackend] = {}


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], MigratedBackend]:
    def get(backend: str) -> MigratedBackend:
        if backend == "mysql":
            require_service("mysql", bool(MYSQL_URL))
        if backend not in _backends:
            _backends[backend] = MigratedBackend(backend, tmp_path_factory.mktemp(f"template-{backend}"))
        return _backends[backend]

    return get


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def environment(backend: str, migrated: Callable[[str], MigratedBackend], tmp_path: Path) -> dict[str, str]:
    """Settings values for a clean, migrated database on the test's backend."""
    return migrated(backend).fresh_environment(tmp_path / "data")


@pytest.fixture
def settings(environment: dict[str, str]) -> Settings:
    return Settings.from_mapping(environment)


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client (signed in with every carrier permission) talking to the app in this event loop, with
    the app's lifespan (relays) running."""
    async with running(app), http_client(app) as test_client:
        test_client.headers.update(bearer(token_for(app)))
        yield test_client


@asynccontextmanager
async def running(app: Litestar) -> AsyncIterator[None]:
    """The app's lifespan held open by one task (its task group must be entered and left by the same task)."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(hold())
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()  # start-up failed: raise its error
    try:
        yield
    finally:
        stop.set()
        await _within(task, SHUTDOWN_LIMIT_SECONDS, "the app's shutdown")


# A lifespan that does not end is a bug to report with its evidence, not a run that waits for ever.
SHUTDOWN_LIMIT_SECONDS = 60.0


async def _within(task: asyncio.Task[None], seconds: float, what: str) -> None:
    try:
        await asyncio.wait_for(asyncio.shield(task), timeout=seconds)
    except TimeoutError:
        stacks = io.StringIO()
        for other in asyncio.all_tasks():
            print(f"--- {other.get_name()}: {other.get_coro()!r}", file=stacks)
            other.print_stack(file=stacks)
        task.cancel()
        pytest.fail(f"{what} did not finish within {seconds:.0f} s; the tasks still running:\n{stacks.getvalue()}")


def http_client(app: Litestar) -> httpx.AsyncClient:
    """Every response any test receives passes through `scan_for_secrets` and is checked against the served
    OpenAPI document (tests/contract.py)."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver.local",
        event_hooks={"response": [scan_response, contract.check_response]},
    )


# Password hash prefixes (argon2, bcrypt) and the passwords the suite uses: none may ever leave the app.
SECRET_MARKERS = (
    "$argon2",
    "$2a$",
    "$2b$",
    "$2y$",
    "admin123",
    "Correct-Horse-42",
    "First-Password-1",
    "Second-Password-2",
)


def scan_for_secrets(body: str, where: str) -> None:
    for marker in SECRET_MARKERS:
        if marker in body:
            raise AssertionError(f"response to {where} contains {marker!r}")


async def scan_response(response: httpx.Response) -> None:
    await response.aread()
    scan_for_secrets(response.text, f"{response.request.method} {response.request.url.path}")


def data_of(response: Any) -> Any:
    """The `data` of a success envelope, after checking the envelope itself."""
    body = response.json()
    assert body["success"] is True, body
    assert body["statusCode"] == response.status_code
    return body["data"]
