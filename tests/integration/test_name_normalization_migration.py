"""Names stored before the NFKC rule are brought to it by the migrations, on SQLite and MariaDB; names that
only looked alike before are left for a person to rename (kernel.contracts.text)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bootstrap.catalog import available_modules, load_descriptor
from bootstrap.migrate import alembic_config, upgrade_one
from bootstrap.runtime import module_database
from kernel.db.config import ModuleDatabase
from kernel.settings import Settings
from tests.conftest import BACKENDS, require_service
from tests.isolation import MYSQL_URL, mysql_database_url, recreate_mysql_databases, run_database_name

BEFORE = {"carrier": "c7a91d2e4f10", "user": "d2b84f6a9c31"}
NOW = "2026-01-01 00:00:00"


@pytest.fixture(params=BACKENDS)
async def databases(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, ModuleDatabase]:
    values = {"FREIGHTDESK_DATA_DIR": str(tmp_path)}
    if request.param == "mysql":
        require_service("mysql", bool(MYSQL_URL))
        names = {module: run_database_name(f"nfkc_{module}") for module in BEFORE}
        await recreate_mysql_databases(sorted(names.values()))
        values.update({f"{m.upper()}_DATABASE_URL": mysql_database_url(db) for m, db in names.items()})
    settings = Settings.from_mapping(values)
    found = {name: module_database(settings, load_descriptor(name)) for name in available_modules()}
    return {module: found[module] for module in BEFORE}


def to_revision(database: ModuleDatabase, revision: str) -> None:
    database.prepare()
    command.upgrade(alembic_config(database), revision)


async def execute(database: ModuleDatabase, *statements: tuple[str, dict[str, Any]]) -> list[Any]:
    engine = create_async_engine(database.url, poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            results = [await connection.execute(text(sql), params) for sql, params in statements]
            return [r.all() if r.returns_rows else None for r in results]
    finally:
        await engine.dispose()


async def test_carrier_names_are_normalized_and_look_alikes_are_left_alone(
    databases: dict[str, ModuleDatabase], caplog: pytest.LogCaptureFixture
) -> None:
    carrier = databases["carrier"]
    await asyncio.to_thread(to_revision, carrier, BEFORE["carrier"])
    insert = (
        "INSERT INTO carriers (id, name, name_key, is_active, metadata, created_at, updated_at)"
        " VALUES (:id, :name, :key, 1, '{}', :now, :now)"
    )
    rows = [
        (1, "Caf\u00e9 Express", "caf\u00e9 express"),  # already NFC: stays
        (2, "Cafe\u0301 Express", "cafe\u0301 express"),  # looks like 1: left, with a warning
        (3, "\uff2eord Freight", "\uff4eord freight"),  # fullwidth N: becomes "Nord Freight"
        (4, " Plain ", " plain "),  # stored untrimmed by an older import
    ]
    await execute(carrier, *((insert, {"id": i, "name": n, "key": k, "now": NOW}) for i, n, k in rows))
    with caplog.at_level(logging.WARNING, logger="freightdesk.migrations"):
        await asyncio.to_thread(upgrade_one, carrier)
    (found,) = await execute(carrier, ("SELECT id, name, name_key FROM carriers ORDER BY id", {}))
    assert [tuple(r) for r in found] == [
        (1, "Caf\u00e9 Express", "caf\u00e9 express"),
        (2, "Cafe\u0301 Express", "cafe\u0301 express"),
        (3, "Nord Freight", "nord freight"),
        (4, "Plain", "plain"),
    ]
    assert [r.getMessage() for r in caplog.records if r.name == "freightdesk.migrations"] == [
        "carrier 2 ('Cafe\u0301 Express') looks like another carrier's name; left as it is, rename one"
    ]


async def test_role_and_user_names_are_normalized(databases: dict[str, ModuleDatabase]) -> None:
    user = databases["user"]
    await asyncio.to_thread(to_revision, user, BEFORE["user"])
    await execute(
        user,
        (
            "INSERT INTO roles (id, name, name_key, is_active, created_at, updated_at)"
            " VALUES (1, :name, :key, 1, :now, :now)",
            {"name": "Expe\u0301diteur", "key": "expe\u0301diteur", "now": NOW},
        ),
        (
            "INSERT INTO users (id, email, password_hash, first_name, last_name, is_active, is_email_verified,"
            " created_at, updated_at) VALUES (1, 'zoe@example.com', 'x', :first, :last, 1, 0, :now, :now)",
            {"first": "Zoe\u0308", "last": "\uff2fkafor", "now": NOW},
        ),
    )
    await asyncio.to_thread(upgrade_one, user)
    roles, users = await execute(
        user, ("SELECT name, name_key FROM roles", {}), ("SELECT first_name, last_name FROM users", {})
    )
    assert [tuple(r) for r in roles] == [("Exp\u00e9diteur", "exp\u00e9diteur")]
    assert [tuple(r) for r in users] == [("Zo\u00eb", "Okafor")]
