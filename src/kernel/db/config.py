"""One engine, one pool, one session factory per module — even when two modules share a DSN."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advanced_alchemy.utils.serialization import decode_json, encode_json
from sqlalchemy import MetaData, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


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

    def create_engine(self, pool_size: int = 10, pre_ping: bool = False) -> AsyncEngine:
        """The module's one engine (and pool); SQLite gets its pragmas (`configure_engine`)."""
        engine = create_async_engine(
            self.url,
            json_serializer=encode_json,
            json_deserializer=decode_json,
            **self.engine_options(pool_size, pre_ping),
        )
        configure_engine(engine)
        return engine

    def engine_options(self, pool_size: int, pre_ping: bool = False) -> dict[str, Any]:
        """Statement parameters never reach an error message or a log line (they may be password hashes).

        MySQL pools recycle connections before the server's idle timeout. Pre-ping (a round trip per
        checkout, ~15% of a small read) is off by default: after a server restart the pool is invalidated
        by the first request that meets a dead connection. MySQL runs READ COMMITTED, so a use case that
        waited for a row lock (`kernel.db.locking`) reads what the other writer committed, not the snapshot
        of its first read (InnoDB's REPEATABLE READ default)."""
        if self.is_sqlite:
            return {"connect_args": {"timeout": 15}, "hide_parameters": True}
        return {
            "hide_parameters": True,
            "isolation_level": "READ COMMITTED",
            "pool_size": pool_size,
            "max_overflow": pool_size,
            "pool_pre_ping": pre_ping,
            "pool_recycle": 1800,
            "connect_args": {"connect_timeout": 5},
        }

    def prepare(self) -> None:
        """Create the SQLite file's folder; nothing to do for a server database."""
        if self.is_sqlite:
            database = make_url(self.url).database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)


def configure_engine(engine: AsyncEngine) -> None:
    """SQLite: WAL and a busy timeout so the relay and requests can write side by side."""
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


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def new_session_maker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
