"""Each module's Alembic history builds exactly its models, on SQLite and on MariaDB."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bootstrap.catalog import available_modules, load_descriptor
from bootstrap.migrate import head_revision, upgrade
from bootstrap.migration_env import _include_name
from bootstrap.runtime import module_database
from kernel.db.config import ModuleDatabase
from kernel.health import current_revision
from kernel.settings import Settings
from tests.conftest import MigratedBackend


def databases(environment: dict[str, str]) -> list[ModuleDatabase]:
    settings = Settings.from_mapping(environment)
    return [module_database(settings, load_descriptor(name)) for name in available_modules()]


def _diff(connection: Connection, database: ModuleDatabase) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "include_name": _include_name(database.metadata),
            "version_table": database.version_table,
        },
    )
    return list(compare_metadata(context, database.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


@pytest.fixture
def migrated_environment(backend: str, migrated: Callable[[str], MigratedBackend]) -> dict[str, str]:
    return migrated(backend).environment


@pytest.mark.parametrize("module", available_modules())
async def test_models_and_migrations_agree(migrated_environment: dict[str, str], module: str) -> None:
    database = next(d for d in databases(migrated_environment) if d.module == module)
    engine = create_async_engine(database.url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff, database) == []
            tables = await connection.run_sync(_tables)
            assert database.version_table in tables
            assert set(database.metadata.tables) <= tables
        assert await current_revision(engine, database.version_table) == head_revision(module)
    finally:
        await engine.dispose()


def test_upgrade_is_idempotent_and_reports_fresh_histories(tmp_path: Any) -> None:
    settings = Settings.from_mapping({"FREIGHTDESK_DATA_DIR": str(tmp_path)})
    targets = [module_database(settings, load_descriptor(name)) for name in available_modules()]
    first = upgrade(targets)
    assert all(result.fresh and result.after == head_revision(result.module) for result in first)
    second = upgrade(targets)
    assert [r.fresh for r in second] == [False] * len(targets)
    assert [r.after for r in second] == [r.after for r in first]


def test_every_module_database_is_its_own_sqlite_file_by_default(tmp_path: Any) -> None:
    settings = Settings.from_mapping({"FREIGHTDESK_DATA_DIR": str(tmp_path)})
    upgrade([module_database(settings, load_descriptor(name)) for name in available_modules()])
    files = {path.name for path in tmp_path.iterdir() if path.suffix == ".sqlite"}
    expected = {load_descriptor(name).database.default_file for name in available_modules()}
    assert files == expected


async def test_the_comparison_catches_a_model_change_without_a_migration(
    migrated_environment: dict[str, str],
) -> None:
    """Planted drift: a column in the models that no migration adds must show up as a difference."""
    from dataclasses import replace

    from sqlalchemy import Column, MetaData, String

    database = databases(migrated_environment)[0]
    drifted = MetaData(naming_convention=database.metadata.naming_convention)
    for table in database.metadata.tables.values():
        table.to_metadata(drifted)
    first_table = sorted(drifted.tables.values(), key=lambda t: t.name)[0]
    first_table.append_column(Column("planted_column", String(10), nullable=True))
    engine = create_async_engine(database.url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            diff = await connection.run_sync(_diff, replace(database, metadata=drifted))
    finally:
        await engine.dispose()
    assert any("planted_column" in str(change) for change in diff)


def test_sqlite_tables_keep_autoincrement_through_every_migration(tmp_path: Any) -> None:
    """Alembic copies a SQLite table to alter it and forgets AUTOINCREMENT unless told: ids of deleted rows
    would then be handed out again (and a `carrier.deleted` event would name a carrier that exists)."""
    import sqlite3

    settings = Settings.from_mapping({"FREIGHTDESK_DATA_DIR": str(tmp_path)})
    targets = [module_database(settings, load_descriptor(name)) for name in available_modules()]
    upgrade(targets)
    for database in targets:
        wanted = [t.name for t in database.metadata.tables.values() if t.dialect_kwargs.get("sqlite_autoincrement")]
        with sqlite3.connect(str(tmp_path / load_descriptor(database.module).database.default_file)) as connection:
            for table in wanted:
                (sql,) = connection.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()
                assert "AUTOINCREMENT" in sql, (database.module, table)


def test_a_new_module_gets_its_history_folder_from_the_template(tmp_path: Any) -> None:
    from bootstrap.migrate import ENV_PY, SCRIPT_TEMPLATE, ensure_history

    folder = tmp_path / "lane"
    assert ensure_history(folder) is True
    assert (folder / "versions").is_dir()
    assert (folder / "env.py").read_text() == ENV_PY
    assert (folder / "script.py.mako").read_text() == SCRIPT_TEMPLATE.read_text()
    assert ensure_history(folder) is False  # an existing history is left alone


def test_every_module_history_is_the_template_s(tmp_path: Any) -> None:
    from bootstrap.migrate import ENV_PY, SCRIPT_TEMPLATE, migrations_dir

    for module in available_modules():
        assert (migrations_dir(module) / "env.py").read_text() == ENV_PY, module
        assert (migrations_dir(module) / "script.py.mako").read_text() == SCRIPT_TEMPLATE.read_text(), module


def test_a_typed_json_column_is_plain_json_in_a_revision() -> None:
    """`StructJSON(<Struct>)` cannot be rebuilt from a revision (it would need the model's Struct): a revision
    writes it as the JSON column it is in the database."""
    import msgspec

    from bootstrap.migration_env import render_item
    from kernel.db.base import StructJSON, UTCDateTime

    class Document(msgspec.Struct):
        title: str

    assert render_item("type", StructJSON(Document), None) == "sa.JSON()"  # type: ignore[arg-type]
    assert render_item("type", UTCDateTime(), None) is False  # type: ignore[arg-type]
