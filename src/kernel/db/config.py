"""One engine, one pool, one session factory per module — even when two modules share a DSN."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advanced_alchemy.utils.serialization import decode_json, encode_json
from sqlalchemy import MetaData, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import PoolResetState

from kernel.settings import DEFAULT_DB_TIMEOUT_SECONDS

# The server ends a statement (or a lock wait) at this share of the timeout, a little before the client stops
# waiting: a slow statement then fails with the server's own error on a connection that stays usable, and
# only a server that stops answering at all is left to the client's read timeout.
SERVER_SHARE_OF_TIMEOUT = 0.8


@dataclass(frozen=True)
class ModuleDatabase:
    """Where one module's tables live and how to reach them."""

    module: str
    url: str
    metadata: MetaData
    setting: str

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @property
    def version_table(self) -> str:
        """Alembic version table: one per module, so modules sharing a database keep separate histories."""
        return f"{self.module}_alembic_version"

    def create_engine(
        self, pool_size: int = 10, pre_ping: bool = False, timeout: float = DEFAULT_DB_TIMEOUT_SECONDS
    ) -> AsyncEngine:
        """The module's one engine (and pool); SQLite gets its pragmas (`configure_engine`)."""
        engine = create_async_engine(
            self.url,
            json_serializer=encode_json,
            json_deserializer=decode_json,
            **self.engine_options(pool_size, pre_ping, timeout),
        )
        configure_engine(engine, timeout)
        return engine

    def engine_options(
        self, pool_size: int, pre_ping: bool = False, timeout: float = DEFAULT_DB_TIMEOUT_SECONDS
    ) -> dict[str, Any]:
        """Statement parameters never reach an error message or a log line (they may be password hashes).

        MySQL pools recycle connections before the server's idle timeout. Pre-ping (a round trip per
        checkout, ~15% of a small read) is off by default: after a server restart the pool is invalidated
        by the first request that meets a dead connection. MySQL runs READ COMMITTED, so a use case that
        waited for a row lock (`kernel.db.locking`) reads what the other writer committed, not the snapshot
        of its first read (InnoDB's REPEATABLE READ default).

        `timeout` bounds every wait on a MySQL server: the TCP connect, each wait for the server's next
        bytes (asyncmy's `read_timeout`; it closes the connection when it fires, so a server that stops
        answering costs a request at most that long) and the wait for a free pooled connection. Writes go
        to the socket buffer and need no bound of their own. `configure_engine` adds the server's side."""
        if self.is_sqlite:
            return {"connect_args": {"timeout": 15}, "hide_parameters": True}
        return {
            "hide_parameters": True,
            "isolation_level": "READ COMMITTED",
            "pool_size": pool_size,
            "max_overflow": pool_size,
            "pool_pre_ping": pre_ping,
            "pool_recycle": 1800,
            "pool_timeout": timeout,
            "pool_reset_on_return": None,  # rolled back only when a transaction is open (`configure_engine`)
            "connect_args": {"connect_timeout": timeout, "read_timeout": timeout},
        }

    def prepare(self) -> None:
        """Create the SQLite file's folder; nothing to do for a server database."""
        if self.is_sqlite:
            database = make_url(self.url).database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)


def configure_engine(engine: AsyncEngine, timeout: float | None = None) -> None:
    """SQLite: WAL and a busy timeout so the relay and requests can write side by side. MySQL, given a
    `timeout`: the server's own limits on each statement and lock wait (`session_limits_sql`)."""
    if engine.dialect.name == "mysql":
        _roll_back_only_open_transactions(engine)
        if timeout is not None:
            _limit_mysql_sessions(engine, timeout)
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
        # SQLite's own lower() folds ASCII only: searching "CAFÉ" must find "Café" as it does on MySQL.
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)


def session_limits_sql(server_version: str, timeout: float) -> str:
    """The statement that bounds a session's statements and lock waits on this server, a little below
    `timeout`. MariaDB's `max_statement_time` covers every statement, lock waits included; MySQL's
    `max_execution_time` covers reads only, so its lock wait limit matters there."""
    limit = timeout * SERVER_SHARE_OF_TIMEOUT
    lock_wait = max(1, int(limit))  # whole seconds, at least 1
    if "mariadb" in server_version.lower():
        return f"SET SESSION max_statement_time = {limit:.3f}, innodb_lock_wait_timeout = {lock_wait}"
    return f"SET SESSION max_execution_time = {max(1, round(limit * 1000))}, innodb_lock_wait_timeout = {lock_wait}"


def _limit_mysql_sessions(engine: AsyncEngine, timeout: float) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _session_limits(dbapi_connection: Any, _record: Any) -> None:
        server_version = str(dbapi_connection.driver_connection.get_server_info())
        cursor = dbapi_connection.cursor()
        cursor.execute(session_limits_sql(server_version, timeout))
        cursor.close()


def _roll_back_only_open_transactions(engine: AsyncEngine) -> None:
    # A pool rolls back every connection it takes back: one more round trip after each commit, which leaves
    # nothing to roll back. The server reports in every answer whether a transaction is open (the IN_TRANS
    # status flag), so only a connection that still has one is rolled back. With the pool's own reset off
    # (`pool_reset_on_return=None`) this listener is the reset; a connection being closed needs none.
    @event.listens_for(engine.sync_engine, "reset")
    def _reset(dbapi_connection: Any, _record: Any, reset_state: PoolResetState) -> None:
        if not reset_state.terminate_only and dbapi_connection.driver_connection.get_transaction_status():
            dbapi_connection.rollback()


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value
