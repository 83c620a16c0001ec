"""Versioned invalidation: named versions in a module's own database, and a watcher that polls them.

A process that keeps something derived from its module's data in memory (pricing's compiled rule set; later
carrier lists, customer reads) must drop it when that data changes, whichever process made the change:
another uvicorn worker on the same database, another replica in split mode. An event cannot tell them all:
it reaches one handler per consuming module (in process today, one replica of a consumer group with Redis
Streams). A version in the database every such process reads can (docs/adr/0009-rule-set-across-processes.md).

- `Versions.for_base(Base)` maps the module's `<module>_cache_versions` table (declared next to its outbox
  and inbox in `models.py`): one row per name, a counter. A name never bumped is at version 0.
- `await versions.bump(session, name)` adds 1 to the name's counter in the caller's transaction, in one
  statement (an upsert), so the version moves if and only if the change commits. The row stays locked until
  that transaction ends: changes that bump one name take turns, which is cheap for rare writes (rule edits,
  carrier deactivations) and wrong for a hot path.
- `VersionWatcher(versions, engine)` is a `BackgroundService`: every `interval` seconds it reads the names
  it watches in one primary-key select and calls, in this process, the callbacks of each name whose version
  moved. Nothing is read on a request's path. A failed read is logged once and retried at the next
  interval; the first read that succeeds after it (and the first read at start) calls every callback, since
  a version may have moved unseen meanwhile.

A process that makes a change still drops its own copy itself, at once: the watcher only tells the others
(and tells the writer again one interval later, which costs one rebuild).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from typing import Any

from sqlalchemy import BigInteger, String, Table, select
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.dml import Insert

from kernel.db.base import module_of
from kernel.db.errors import database_error_text, is_missing_table_error, is_transient_database_error
from kernel.periodic import Periodic

log = logging.getLogger("freightdesk.versions")

POLL_INTERVAL_SECONDS = 0.25
"""How often a watcher reads its versions: a change reaches every process within about this long."""
NAME_MAX = 100

Callback = Callable[[], None]


class Versions:
    """A module's table of named versions (one row per name, a counter that only goes up)."""

    def __init__(self, module: str, record: type[Any]) -> None:
        self.module = module
        self.record = record
        self.table: Table = record.__table__

    @classmethod
    def for_base(cls, base: type[DeclarativeBase]) -> Versions:
        module = module_of(base)
        versions_table = f"{module}_cache_versions"

        # mypy cannot take a base class passed in as a value (a typing gap, not ours to close).
        class CacheVersion(base):  # type: ignore[misc,valid-type]
            __tablename__ = versions_table

            name: Mapped[str] = mapped_column(String(NAME_MAX), primary_key=True)
            version: Mapped[int] = mapped_column(BigInteger)

        return cls(module, CacheVersion)

    async def bump(self, session: AsyncSession, name: str) -> None:
        """Move `name`'s version on by one in `session`'s transaction: it moves if and only if that commits."""
        await session.execute(self.upsert(session.get_bind().dialect.name, name))

    async def read(self, engine: AsyncEngine, names: Collection[str]) -> dict[str, int]:
        """The committed version of each name (0 for a name never bumped), in one primary-key select."""
        if not names:
            return {}
        table = self.table
        async with engine.connect() as connection:
            rows = await connection.execute(select(table.c.name, table.c.version).where(table.c.name.in_(names)))
            found: dict[str, int] = {name: version for name, version in rows}
        return {name: found.get(name, 0) for name in names}

    def upsert(self, dialect: str, name: str) -> Insert:
        """The statement that moves `name`'s version on by one (creating it at 1), for `dialect`."""
        table = self.table
        if len(name) > NAME_MAX:
            raise ValueError(f"version name {name!r} is longer than {NAME_MAX} characters")
        if dialect in {"mysql", "mariadb"}:
            on_mysql = mysql.insert(table).values(name=name, version=1)
            return on_mysql.on_duplicate_key_update(version=table.c.version + 1)
        if dialect == "sqlite":
            on_sqlite = sqlite.insert(table).values(name=name, version=1)
            return on_sqlite.on_conflict_do_update(index_elements=[table.c.name], set_={"version": table.c.version + 1})
        raise NotImplementedError(f"no version upsert for the {dialect!r} dialect")


class VersionWatcher:
    """Polls a module's versions while the process runs and calls this process's callbacks when one moves."""

    def __init__(self, versions: Versions, engine: AsyncEngine, interval: float = POLL_INTERVAL_SECONDS) -> None:
        self._versions = versions
        self._engine = engine
        self._callbacks: dict[str, list[Callback]] = {}
        self._seen: dict[str, int] | None = None
        self._failing = False
        self._loop = Periodic(f"{versions.module}-version-watcher", self.poll, interval)

    def on_change(self, name: str, callback: Callback) -> None:
        """Call `callback` whenever `name`'s version moves, whichever process moved it. It runs on the event
        loop and must be quick (drop a reference, bump a counter)."""
        self._callbacks.setdefault(name, []).append(callback)

    @property
    def seen(self) -> Mapping[str, int]:
        """The versions the last poll read; empty before the first and after a failed one."""
        return dict(self._seen or {})

    async def start(self) -> None:
        await self.poll()  # before the process serves: whatever was built before the first reading is dropped
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def poll(self) -> None:
        """One reading: call the callbacks of each name that moved since the last one (of every name when there
        was no last one). A failure is logged (once until a reading succeeds again), never raised."""
        try:
            current = await self._versions.read(self._engine, self._callbacks)
        except Exception as exc:
            if not self._failing:
                expected = is_transient_database_error(exc) or is_missing_table_error(exc)
                log.warning(
                    "versions unreadable; retrying, and dropping what they guard once they are readable again",
                    extra={"module_name": self._versions.module, "error": database_error_text(exc)},
                    exc_info=None if expected else exc,  # an outage needs no traceback; anything else does
                )
            self._failing = True
            self._seen = None
            return
        if self._failing:
            log.warning("versions readable again", extra={"module_name": self._versions.module})
            self._failing = False
        previous, self._seen = self._seen, current
        for name, version in current.items():
            if previous is None or previous.get(name) != version:
                self._changed(name)

    def _changed(self, name: str) -> None:
        for callback in self._callbacks.get(name, ()):
            try:
                callback()
            except Exception:
                log.exception(
                    "a version callback failed", extra={"module_name": self._versions.module, "version_name": name}
                )
