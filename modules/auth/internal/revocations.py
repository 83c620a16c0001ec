"""The lasting record of revocations, and the cache it keeps filled (docs/adr/0006-durable-revocation.md).

Auth's database records every revocation: an ended session is its `auth_sessions.revoked_at`, a user-wide
cutoff (deleted, deactivated, re-roled, password or permissions changed) a row of `auth_user_token_cutoffs`.
The shared store (Redis, or process memory) that the request guard reads is only a cache of that record.
`RevocationSync` fills it from the record when the process starts, after the store lost its data (Redis
restarted), and every half second with what other processes recorded, so that every worker and replica of a
deployment agrees within a second, with or without Redis. The guard itself never reads the database.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kernel.db.base import utc_now
from kernel.periodic import Periodic
from kernel.security.revocation import Revocations
from modules.auth.internal.models import AuthSession, UserTokenCutoff

log = logging.getLogger("freightdesk.auth")

SYNC_INTERVAL_SECONDS = 0.5
OVERLAP = timedelta(seconds=5)
"""Rows are stamped before their transaction commits: read a little further back than the last stamp seen,
so a row that committed late is not missed."""
PURGE_EVERY = timedelta(minutes=5)


async def record_user_cutoff(
    session: AsyncSession, revocations: Revocations, user_id: int, revoked_before: datetime
) -> None:
    """Record (in `session`'s transaction) and cache that the user's tokens issued up to `revoked_before` are
    void. A later cutoff already recorded stands."""
    row = await session.get(UserTokenCutoff, user_id)
    if row is None:
        session.add(UserTokenCutoff(user_id=user_id, revoked_before=revoked_before, recorded_at=utc_now()))
    elif row.revoked_before < revoked_before:
        row.revoked_before = revoked_before
        row.recorded_at = utc_now()
    await session.flush()
    await revocations.revoke_user_tokens(user_id, revoked_before.timestamp())


class RevocationSync:
    """Keeps the revocation cache filled from auth's record while the process runs."""

    def __init__(
        self,
        session_maker: async_sessionmaker[AsyncSession],
        revocations: Revocations,
        interval: float = SYNC_INTERVAL_SECONDS,
    ) -> None:
        self._session_maker = session_maker
        self._revocations = revocations
        self._retention = timedelta(seconds=revocations.user_ttl)
        self._seen: datetime | None = None
        self._purged_at = datetime.min.replace(tzinfo=UTC)
        self._loop = Periodic("auth-revocation-sync", self._pass, interval)
        self._failing = False

    async def start(self) -> None:
        await self._pass()  # before the process serves: a restart resurrects nothing
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _pass(self) -> None:
        try:
            await self.sync()
        except Exception as exc:
            if not self._failing:
                log.warning(
                    "revocation record unreadable; the cache keeps what it has and is filled again once it is",
                    extra={"error": repr(exc)},
                )
            self._failing = True
        else:
            if self._failing:
                log.warning("revocation record readable again")
            self._failing = False

    def _note(self, stamp: datetime | None) -> None:
        if stamp is not None and (self._seen is None or stamp > self._seen):
            self._seen = stamp

    async def sync(self) -> int:
        """Copy what was recorded since the last pass (everything still in force when the cache is new or was
        emptied) into the cache. Returns how many entries were written."""
        now = utc_now()
        full = self._seen is None or not await self._revocations.cache_is_filled()
        since = now - self._retention if full or self._seen is None else self._seen - OVERLAP
        written = 0
        async with self._session_maker() as session:
            sessions = await session.execute(
                select(AuthSession.id, AuthSession.revoked_at).where(AuthSession.revoked_at >= since)
            )
            for session_id, revoked_at in sessions:
                await self._revocations.revoke_session(session_id)
                written += 1
                self._note(revoked_at)
            cutoffs = await session.execute(
                select(UserTokenCutoff.user_id, UserTokenCutoff.revoked_before, UserTokenCutoff.recorded_at).where(
                    UserTokenCutoff.recorded_at >= since, UserTokenCutoff.revoked_before >= now - self._retention
                )
            )
            for user_id, revoked_before, recorded_at in cutoffs:
                await self._revocations.revoke_user_tokens(user_id, revoked_before.timestamp())
                written += 1
                self._note(recorded_at)
            if now - self._purged_at > PURGE_EVERY:
                await session.execute(
                    delete(UserTokenCutoff).where(UserTokenCutoff.revoked_before < now - self._retention)
                )
                await session.commit()
                self._purged_at = now
        if self._seen is None:
            self._seen = now
        if full:
            await self._revocations.mark_cache_filled()
        return written
