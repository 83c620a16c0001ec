"""Reads kept in memory until the data they came from changes, in whichever process it changed.

A module whose reads carry the traffic (carrier by id, the first page of a list, a count, the active carriers)
keeps their results in a `ReadCache` and drops them all when its data changes. The rule (docs/adr/0013-cached-reads.md):

- every write that changes what the reads return calls `cache.changing(session)` in its transaction. When that
  transaction commits, the cache's version in the module's database is bumped in it first (`kernel.db.versions`,
  one upsert just before the commit), so the version moves if and only if the write commits; when the
  transaction ends, this process's entries are dropped: the writer's next read sees its write at once;
- every process watches that version (`watch`, a `VersionWatcher` poll every 0.25 s) and drops its entries
  when it moves: the other processes (workers, replicas) see the write within about a quarter of a second;
- a read that was running while the entries were dropped does not store what it read, since it may have read
  the state before the write (each drop starts a new generation, and a load stores only into the generation
  it started in).

Entries are few and small (read models, pages of them, counts); past `max_entries` the oldest is dropped. What
`get` returns is shared between requests: cache frozen values only (msgspec frozen structs, tuples, ints).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from kernel.db.versions import Versions, VersionWatcher

T = TypeVar("T")

DEFAULT_MAX_ENTRIES = 10_000


class ReadCache:
    """One module's cached reads, all dropped when the named version moves."""

    def __init__(self, versions: Versions, name: str, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self._versions = versions
        self.name = name
        self.max_entries = max_entries
        self._entries: dict[Hashable, Any] = {}
        self._generation = 0
        self._unbumped = ("read-cache-unbumped", name)
        self._changed = ("read-cache-changed", name)
        self._listening = ("read-cache-listening", name)

    async def get(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        """The cached value of `key`, else what `load()` returns (stored unless the cache was dropped meanwhile)."""
        try:
            value: T = self._entries[key]
            return value
        except KeyError:
            pass
        generation = self._generation
        value = await load()
        if generation == self._generation:
            if len(self._entries) >= self.max_entries:
                del self._entries[next(iter(self._entries))]
            self._entries[key] = value
        return value

    def drop(self) -> None:
        """Forget every entry; reads that are running now will not store theirs."""
        self._generation += 1
        self._entries.clear()

    def changing(self, session: AsyncSession) -> None:
        """Declare, inside a write's transaction, that it changes what these reads return: every process drops
        its entries once the write commits (this one as soon as the transaction ends)."""
        sync = session.sync_session
        sync.info[self._unbumped] = sync.info[self._changed] = True
        if self._listening not in sync.info:  # once per session (listeners cannot be removed while they run)
            sync.info[self._listening] = True
            event.listen(sync, "before_commit", self._bump_before_commit)
            event.listen(sync, "after_transaction_end", self._drop_at_transaction_end)

    def _bump_before_commit(self, session: Session) -> None:
        # Also called for a savepoint's release, which is part of the outer transaction: the bump commits with it.
        if session.info.pop(self._unbumped, None):
            session.execute(self._versions.upsert(session.get_bind().dialect.name, self.name))

    def _drop_at_transaction_end(self, session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is not None:
            return  # a savepoint: the outer transaction has not ended, other readers still see the old state
        session.info.pop(self._unbumped, None)
        if session.info.pop(self._changed, None):
            self.drop()  # after a rollback too: a needless rebuild, never a stale read

    def watch(self, watcher: VersionWatcher) -> None:
        """Drop the entries whenever another process commits a change (the watcher's poll sees the version)."""
        watcher.on_change(self.name, self.drop)

    def __len__(self) -> int:
        return len(self._entries)
