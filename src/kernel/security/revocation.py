"""Revoked sessions and users, in the shared store, checked on every authenticated request.

A session is revoked by id (logout, refresh-token reuse); a user's tokens issued before a moment are revoked
together (password change, deletion, deactivation, role change). Entries live as long as an access token can,
so the lists stay small. Checks fail closed: when the store cannot answer, the request is refused.

The store is a cache: the lasting record of every revocation is kept by the module that signs tokens (auth),
which fills the store again from it at start, after the store lost its data, and for other processes of the
same deployment (docs/adr/0006-durable-revocation.md). The check on the request path never reads a database.
"""

from __future__ import annotations

import time

from kernel.store import SharedStore

_FILLED_MARKER = "revoked:filled"


class Revocations:
    def __init__(self, store: SharedStore, access_token_ttl_seconds: int) -> None:
        self.store = store
        # An entry matters while access tokens issued before it live. Sessions (refresh tokens) are ended in
        # the auth module's database, which is their lasting record.
        self.session_ttl = access_token_ttl_seconds + 60
        self.user_ttl = access_token_ttl_seconds + 60

    async def revoke_session(self, session_id: str) -> None:
        await self.store.set(f"revoked:session:{session_id}", b"1", self.session_ttl)

    async def revoke_user_tokens(self, user_id: int, before: float | None = None) -> None:
        """Reject every token of `user_id` issued at or before `before` (default: now). A later cutoff already
        in the store is kept: a revocation never narrows another."""
        moment = before if before is not None else time.time()
        current = await self.user_cutoff(user_id)
        if current is not None and current >= moment:
            return
        await self.store.set(f"revoked:user:{user_id}", f"{moment:.6f}".encode(), self.user_ttl)

    async def user_cutoff(self, user_id: int) -> float | None:
        """The moment before which everything of this user was revoked, if any."""
        cutoff = await self.store.get(f"revoked:user:{user_id}")
        return float(cutoff) if cutoff is not None else None

    async def session_revoked(self, session_id: str) -> bool:
        return await self.store.get(f"revoked:session:{session_id}") is not None

    async def cache_is_filled(self) -> bool:
        """False when the store has lost what the record filled it with (a new process memory, a Redis that
        restarted empty): the record's owner then fills it again."""
        return await self.store.get(_FILLED_MARKER) is not None

    async def mark_cache_filled(self) -> None:
        await self.store.set(_FILLED_MARKER, b"1", self.user_ttl)

    async def is_revoked(self, session_id: str, user_id: int, issued_at: float) -> bool:
        """`issued_at` is the token's `iat`, which carries fractions of a second (RFC 7519 allows it)."""
        if await self.session_revoked(session_id):
            return True
        cutoff = await self.user_cutoff(user_id)
        return cutoff is not None and issued_at <= cutoff
