"""The Alembic environment every module's `migrations/<module>/env.py` runs.

Only the module's own tables are compared and migrated: modules that share a database (auth and user) keep
separate histories and never see each other's tables.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from kernel.db.base import StructJSON
from kernel.db.config import ModuleDatabase


def _include_name(metadata: MetaData) -> Callable[..., bool]:
    def include_name(name: str | None, type_: str, parent_names: Mapping[str, Any]) -> bool:
        if type_ == "table":
            return name in metadata.tables
        return True

    return include_name


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """A typed JSON column (`StructJSON`) is plain JSON in the database: the revision says so (the Struct it
    parses into is the model's business, and a revision must not import the model)."""
    if type_ == "type" and isinstance(obj, StructJSON):
        return "sa.JSON()"
    return False  # Alembic's default rendering


def configure(connection: Connection, database: ModuleDatabase) -> None:
    context.configure(
        connection=connection,
        target_metadata=database.metadata,
        version_table=database.version_table,
        include_name=_include_name(database.metadata),
        render_as_batch=database.is_sqlite,
        compare_type=True,
        compare_server_default=False,
        render_item=render_item,
    )


def _run_sync(connection: Connection, database: ModuleDatabase) -> None:
    configure(connection, database)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online(database: ModuleDatabase) -> None:
    engine = create_async_engine(database.url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_sync, database)
            await connection.commit()
    finally:
        await engine.dispose()


def run() -> None:
    database: ModuleDatabase = context.config.attributes["database"]
    if context.is_offline_mode():
        context.configure(
            url=database.url,
            target_metadata=database.metadata,
            version_table=database.version_table,
            literal_binds=True,
            include_name=_include_name(database.metadata),
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_online(database))
