"""What one test run owns on the shared servers, so two runs on one MariaDB and one Redis never meet.

A run names its databases `fdtest_<run id>_<name>` (inside the `fdtest\\_%` grant of the test user) and puts
its Redis keys under `fdtest:<run id>:`; the session drops both when it ends (conftest's `_clean_up_the_run`).

This lives outside conftest.py on purpose: pytest imports conftest.py as `conftest` while test modules import
it again as `tests.conftest`, and two copies would draw two run ids. This module is imported once.
"""

from __future__ import annotations

import itertools
import os
import secrets

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

MYSQL_URL = os.environ.get("FREIGHTDESK_TEST_MYSQL_URL", "").rstrip("/")
REDIS_URL = os.environ.get("FREIGHTDESK_TEST_REDIS_URL", "")

# Short, so `fdtest_<run id>_<name>` stays far below MySQL's 64-character limit on database names.
RUN_ID = secrets.token_hex(4)
RUN_REDIS_PREFIX = f"fdtest:{RUN_ID}:"


class RunResources:
    """The databases this run created and whether it wrote to Redis: what the session end cleans up."""

    def __init__(self) -> None:
        self.databases: set[str] = set()
        self.used_redis = False
        self._prefixes = itertools.count(1)

    def redis_prefix(self) -> str:
        """A key prefix of one test's own, under the run's."""
        self.used_redis = True
        return f"{RUN_REDIS_PREFIX}{next(self._prefixes)}:"


resources = RunResources()


def run_database_name(name: str) -> str:
    """This run's name for a test database."""
    return f"fdtest_{RUN_ID}_{name}"


def mysql_database_url(database: str) -> str:
    return f"{MYSQL_URL}/{database}"


async def recreate_mysql_databases(names: list[str]) -> None:
    """Create this run's databases empty (dropping a leftover of the same name); the session drops them."""
    engine = create_async_engine(f"{MYSQL_URL}/", poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            for name in names:
                if not name.startswith(f"fdtest_{RUN_ID}_"):
                    raise ValueError(f"{name!r} is not this run's database: use run_database_name()")
                resources.databases.add(name)
                await connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
                await connection.execute(
                    text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
                )
    finally:
        await engine.dispose()


async def drop_mysql_databases(names: list[str]) -> None:
    engine = create_async_engine(f"{MYSQL_URL}/", poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            for name in names:
                await connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    finally:
        await engine.dispose()


async def redis_keys(prefix: str) -> list[bytes]:
    """Every key under `prefix` in the test Redis (SCAN, not KEYS, so a busy shared Redis is not blocked)."""
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        return [key async for key in client.scan_iter(match=f"{prefix}*", count=500)]
    finally:
        await client.aclose()


async def delete_redis_keys(prefix: str) -> None:
    """Delete every key under `prefix`, and nothing else: other runs may be using the same Redis database."""
    from redis.asyncio import Redis

    keys = await redis_keys(prefix)
    client = Redis.from_url(REDIS_URL)
    try:
        for start in range(0, len(keys), 500):
            await client.delete(*keys[start : start + 500])
    finally:
        await client.aclose()


async def clean_up_run() -> list[str]:
    """Drop the run's databases and delete its Redis keys; the problems met, if any."""
    problems: list[str] = []
    if resources.databases:
        try:
            await drop_mysql_databases(sorted(resources.databases))
        except Exception as exc:
            problems.append(f"dropping {sorted(resources.databases)}: {exc!r}")
    if resources.used_redis:
        try:
            await delete_redis_keys(RUN_REDIS_PREFIX)
        except Exception as exc:
            problems.append(f"deleting Redis keys {RUN_REDIS_PREFIX}*: {exc!r}")
    return problems
