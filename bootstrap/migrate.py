"""Alembic, one history per module (own script folder, own version table), driven programmatically.

Alembic's env runs `asyncio.run`, so these functions are synchronous: call them from the CLI, or from a
worker thread when an event loop is already running.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from kernel.db.config import ModuleDatabase
from kernel.health import current_revision

MIGRATIONS_ROOT = Path(__file__).resolve().parent.parent / "migrations"
FILE_TEMPLATE = "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s"


SCRIPT_TEMPLATE = Path(__file__).resolve().with_name("migration_script.py.mako")
ENV_PY = "from bootstrap.migration_env import run\n\nrun()\n"


def migrations_dir(module: str) -> Path:
    return MIGRATIONS_ROOT / module


def ensure_history(folder: Path) -> bool:
    """Give a module its own Alembic folder (env.py, the revision template, versions/) when it has none yet.
    Returns True when it was created."""
    if (folder / "env.py").is_file():
        return False
    (folder / "versions").mkdir(parents=True, exist_ok=True)
    (folder / "env.py").write_text(ENV_PY, encoding="utf-8")
    (folder / "script.py.mako").write_text(SCRIPT_TEMPLATE.read_text(encoding="utf-8"), encoding="utf-8")
    return True


def alembic_config(database: ModuleDatabase) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir(database.module)))
    config.set_main_option("file_template", FILE_TEMPLATE)
    config.attributes["database"] = database
    ruff = Path(sys.executable).with_name("ruff")
    if ruff.is_file():  # a development environment: format a new revision as the test command expects it
        hooks = {
            "ruff_fix": "check --fix --quiet REVISION_SCRIPT_FILENAME",
            "ruff_format": "format REVISION_SCRIPT_FILENAME",
        }
        config.set_section_option("post_write_hooks", "hooks", ", ".join(hooks))
        for name, options in hooks.items():
            config.set_section_option("post_write_hooks", f"{name}.type", "exec")
            config.set_section_option("post_write_hooks", f"{name}.executable", str(ruff))
            config.set_section_option("post_write_hooks", f"{name}.options", options)
    return config


def head_revision(module: str) -> str | None:
    folder = migrations_dir(module)
    if not folder.is_dir():
        return None
    return ScriptDirectory(str(folder)).get_current_head()


async def _current(database: ModuleDatabase) -> str | None:
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    engine = create_async_engine(database.url, poolclass=NullPool)
    try:
        try:
            async with engine.connect():
                pass
        except Exception as exc:
            raise DatabaseUnreachable(f"{database.module}: {type(exc).__name__}") from exc
        try:
            return await current_revision(engine, database.version_table)
        except Exception:
            return None  # no version table yet: the history was never applied
    finally:
        await engine.dispose()


class DatabaseUnreachable(RuntimeError):
    """The module's database did not accept a connection."""


def current(database: ModuleDatabase) -> str | None:
    """The revision the database is at, or None when the module's history was never applied. Raises
    DatabaseUnreachable when the database cannot be reached."""
    return asyncio.run(_current(database))


@dataclass(frozen=True)
class UpgradeResult:
    module: str
    before: str | None
    after: str | None

    @property
    def fresh(self) -> bool:
        return self.before is None


def upgrade(databases: Sequence[ModuleDatabase]) -> list[UpgradeResult]:
    """Upgrade each module's history to head, in the order given (dependency order). Idempotent."""
    return [upgrade_one(database) for database in databases]


def upgrade_one(database: ModuleDatabase) -> UpgradeResult:
    database.prepare()
    before = current(database)
    command.upgrade(alembic_config(database), "head")
    return UpgradeResult(database.module, before, current(database))


def revision(database: ModuleDatabase, message: str, autogenerate: bool = True) -> None:
    """Add a revision to the module's history, creating the history first for a new module."""
    ensure_history(migrations_dir(database.module))
    database.prepare()
    command.revision(alembic_config(database), message=message, autogenerate=autogenerate)
