"""A server that stops answering costs a request a bounded time, then a 503; the other modules keep serving.

The server is reached through `FreezableProxy`, a TCP proxy that can stop forwarding without closing
anything: connections stay open and new ones are accepted, but no byte arrives in either direction — what a
hung server, a full disk or a black-holed network looks like from the client.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bootstrap.app import create_app
from kernel.db.config import session_limits_sql
from kernel.settings import Settings
from tests.carrier.factories import carrier_body
from tests.conftest import MigratedBackend, data_of, http_client, require_service, running
from tests.helpers import bearer, runtime_of, token_for
from tests.isolation import MYSQL_URL, REDIS_URL
from tests.pricing.test_calculate import EXAMPLE_1

TIMEOUT = 1.0
# Room for the request's own work and a loaded machine, far below the minutes an unbounded wait would take.
SLACK = 1.5


class FreezableProxy:
    """Forwards 127.0.0.1:<port> to a server until frozen; frozen, it holds every byte without closing."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.listen_port = 0
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.listen_port = self._server.sockets[0].getsockname()[1]

    def freeze(self) -> None:
        self._flowing.clear()

    def thaw(self) -> None:
        self._flowing.set()

    def url_for(self, url: str) -> str:
        """`url` with its host and port replaced by the proxy's."""
        parts = urlsplit(url)
        credentials = parts.netloc.rpartition("@")[0]
        netloc = f"{credentials}@127.0.0.1:{self.listen_port}" if credentials else f"127.0.0.1:{self.listen_port}"
        return parts._replace(netloc=netloc).geturl()

    async def close(self) -> None:
        self.thaw()
        if self._server is not None:
            self._server.close()
        for writer in self._writers:
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self._writers.append(client_writer)
        try:
            server_reader, server_writer = await asyncio.open_connection(self.host, self.port)
        except OSError:
            client_writer.close()
            return
        self._writers.append(server_writer)
        for reader, writer in ((client_reader, server_writer), (server_reader, client_writer)):
            task = asyncio.create_task(self._pump(reader, writer))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self._flowing.wait()
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def mysql_proxy() -> AsyncIterator[FreezableProxy]:
    require_service("mysql", bool(MYSQL_URL))
    server = urlsplit(MYSQL_URL)
    proxy = FreezableProxy(server.hostname or "127.0.0.1", server.port or 3306)
    await proxy.start()
    yield proxy
    await proxy.close()


@pytest.fixture
async def redis_proxy() -> AsyncIterator[FreezableProxy]:
    require_service("redis", bool(REDIS_URL))
    server = urlsplit(REDIS_URL)
    proxy = FreezableProxy(server.hostname or "127.0.0.1", server.port or 6379)
    await proxy.start()
    yield proxy
    await proxy.close()


@pytest.fixture
def mysql_environment(migrated: Callable[[str], MigratedBackend], tmp_path: Path) -> dict[str, str]:
    """Clean, migrated MariaDB databases (prepared outside the test's event loop, as `environment` is)."""
    require_service("mysql", bool(MYSQL_URL))
    return migrated("mysql").fresh_environment(tmp_path / "data")


async def timed(request: asyncio.Future[httpx.Response] | asyncio.Task[httpx.Response]) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    # The guard only keeps a regression from hanging the suite; the assertions below are the real bound.
    response = await asyncio.wait_for(request, timeout=30)
    return response, time.monotonic() - started


def behind_proxy(environment: dict[str, str], setting: str, proxy: FreezableProxy) -> Settings:
    """The environment with one module's database reached through `proxy`, a short timeout and a small pool."""
    return Settings.from_mapping(
        {
            **environment,
            setting: proxy.url_for(environment[setting]),
            "FREIGHTDESK_DB_TIMEOUT": str(TIMEOUT),
            "FREIGHTDESK_DB_POOL_SIZE": "2",
        }
    )


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, (response.request.url.path, response.text)
    body = response.json()
    assert (body["statusCode"], body["message"]) == (503, "Service Unavailable")
    assert response.headers["Retry-After"] == "1"
    assert "Traceback" not in response.text


async def test_a_module_database_that_stops_answering_is_503_within_the_timeout(
    mysql_environment: dict[str, str], mysql_proxy: FreezableProxy
) -> None:
    settings = behind_proxy(mysql_environment, "CARRIER_DATABASE_URL", mysql_proxy)
    app = create_app(settings)
    async with running(app), http_client(app) as client:
        await runtime_of(app).seed(demo=False, only=["user"])
        client.headers.update(bearer(token_for(app)))
        carrier = data_of(await client.post("/api/v1/carriers", json=carrier_body()))
        assert (await client.get(f"/api/v1/carriers/{carrier['id']}")).status_code == 200

        mysql_proxy.freeze()
        # A read served from carrier's cache (kernel.db.read_cache) needs no database; one not read before does.
        assert (await client.get(f"/api/v1/carriers/{carrier['id']}")).status_code == 200
        uncached = "/api/v1/carriers/count?isActive=false"
        hung = asyncio.ensure_future(client.get(uncached))
        await asyncio.sleep(0.1)
        # While carrier's request waits on its database, the other modules answer at once.
        user, user_seconds = await timed(asyncio.ensure_future(client.get("/api/v1/users/1")))
        keys, _ = await timed(asyncio.ensure_future(client.get("/api/v1/auth/.well-known/jwks.json")))
        assert (user.status_code, keys.status_code) == (200, 200), user.text
        assert user_seconds < TIMEOUT / 2
        assert not hung.done()
        response, seconds = await timed(hung)
        assert_unavailable(response)
        assert seconds < TIMEOUT + SLACK, seconds

        # A write, and a burst larger than the pool (2 + 2 overflow): waiting for a pooled connection is
        # bounded too, so no request waits longer than the pool wait plus its own connection's timeout.
        write, write_seconds = await timed(asyncio.ensure_future(client.post("/api/v1/carriers", json=carrier_body())))
        assert_unavailable(write)
        assert write_seconds < TIMEOUT + SLACK, write_seconds
        started = time.monotonic()
        burst = await asyncio.wait_for(asyncio.gather(*(client.get(uncached) for _ in range(8))), timeout=30)
        burst_seconds = time.monotonic() - started
        for each in burst:
            assert_unavailable(each)
        assert burst_seconds < 2 * TIMEOUT + SLACK, burst_seconds

        # Once the server answers again, so does the module: the dead connections were dropped.
        mysql_proxy.thaw()
        assert (await client.get(uncached)).status_code == 200


async def test_calculations_sharing_a_commit_on_a_database_that_stops_answering_are_each_503_and_none_stored(
    mysql_environment: dict[str, str], mysql_proxy: FreezableProxy
) -> None:
    """Calculations are stored in batches (kernel.db.group_commit): a batch that cannot commit is every one of
    its requests' 503, within the timeout, and once the database answers again calculations are stored."""
    settings = behind_proxy(mysql_environment, "PRICING_DATABASE_URL", mysql_proxy)
    app = create_app(settings)
    async with running(app), http_client(app) as client:
        await runtime_of(app).seed(demo=True, only=["user", "carrier", "pricing"])
        client.headers.update(bearer(token_for(app, ["pricing.calculate", "pricing.view"])))
        calculate = "/api/v1/pricing/calculate"
        assert (await client.post(calculate, json=EXAMPLE_1)).status_code == 201, "the rule set is read and kept"

        mysql_proxy.freeze()
        started = time.monotonic()
        burst = await asyncio.wait_for(
            asyncio.gather(*(client.post(calculate, json=EXAMPLE_1) for _ in range(12))), timeout=30
        )
        burst_seconds = time.monotonic() - started
        for each in burst:
            assert_unavailable(each)
        assert burst_seconds < 2 * TIMEOUT + SLACK, burst_seconds

        mysql_proxy.thaw()
        assert (await client.post(calculate, json=EXAMPLE_1)).status_code == 201
        count = await client.get("/api/v1/pricing/calculations/count")
        assert data_of(count) == {"count": 2}, "nothing of the failed batches was stored"


async def test_a_request_the_server_keeps_waiting_on_a_lock_is_ended_by_the_server_and_is_503(
    mysql_environment: dict[str, str],
) -> None:
    settings = Settings.from_mapping({**mysql_environment, "FREIGHTDESK_DB_TIMEOUT": str(TIMEOUT)})
    app = create_app(settings)
    async with running(app), http_client(app) as client:
        client.headers.update(bearer(token_for(app)))
        carrier = data_of(await client.post("/api/v1/carriers", json=carrier_body()))
        async with runtime_of(app).module("carrier").context.engine.connect() as connection:
            limit = await connection.scalar(text("SELECT @@SESSION.max_statement_time"))
        assert float(limit) == pytest.approx(0.8 * TIMEOUT)

        # Another client holds the carrier's row lock for longer than the timeout.
        holder = create_async_engine(mysql_environment["CARRIER_DATABASE_URL"], poolclass=NullPool)
        try:
            async with holder.connect() as other:
                await other.execute(text("SELECT id FROM carriers WHERE id = :id FOR UPDATE"), {"id": carrier["id"]})
                change = client.patch(f"/api/v1/carriers/{carrier['id']}", json={"name": "Renamed Carrier"})
                response, seconds = await timed(asyncio.ensure_future(change))
                await other.rollback()
        finally:
            await holder.dispose()
        assert_unavailable(response)
        assert seconds < TIMEOUT + SLACK, seconds
        renamed = await client.patch(f"/api/v1/carriers/{carrier['id']}", json={"name": "Renamed Carrier"})
        assert renamed.status_code == 200, renamed.text


async def test_a_redis_that_stops_answering_is_503_within_the_timeout(
    redis_environment: dict[str, str], redis_proxy: FreezableProxy
) -> None:
    settings = Settings.from_mapping(
        {
            **redis_environment,
            "REDIS_URL": redis_proxy.url_for(redis_environment["REDIS_URL"]),
            "FREIGHTDESK_REDIS_TIMEOUT": str(TIMEOUT),
        }
    )
    app = create_app(settings)
    async with running(app), http_client(app) as client:
        headers = bearer(token_for(app))
        assert (await client.get("/api/v1/carriers/count", headers=headers)).status_code == 200

        redis_proxy.freeze()
        # Revocations cannot be checked: an authenticated request fails closed, in bounded time.
        refused, seconds = await timed(asyncio.ensure_future(client.get("/api/v1/carriers/count", headers=headers)))
        assert refused.status_code == 503, refused.text
        assert refused.json()["statusCode"] == 503
        assert seconds < TIMEOUT + SLACK, seconds
        keys = await client.get("/api/v1/auth/.well-known/jwks.json")  # needs no store: served
        assert keys.status_code == 200

        redis_proxy.thaw()
        assert (await client.get("/api/v1/carriers/count", headers=headers)).status_code == 200


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        (
            "5.5.5-10.11.19-MariaDB-0+deb12u1",
            "SET SESSION max_statement_time = 4.000, innodb_lock_wait_timeout = 4",
        ),
        ("8.0.36", "SET SESSION max_execution_time = 4000, innodb_lock_wait_timeout = 4"),
    ],
)
def test_the_server_ends_a_statement_a_little_before_the_client_stops_waiting(server: str, expected: str) -> None:
    assert session_limits_sql(server, 5.0) == expected
    assert session_limits_sql(server, 0.5).endswith("innodb_lock_wait_timeout = 1")
