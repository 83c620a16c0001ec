"""Token verification: remembered signatures never skip the revocation check or the expiry."""

from __future__ import annotations

import asyncio
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kernel.security.keys import KeyRing
from kernel.security.revocation import Revocations
from kernel.security.tokens import InvalidToken, TokenIssuer, TokenVerifier
from kernel.store import MemoryStore


def pair(ttl: int = 60) -> tuple[TokenIssuer, TokenVerifier]:
    keys = KeyRing.from_keys(Ed25519PrivateKey.generate())
    revocations = Revocations(MemoryStore(), access_token_ttl_seconds=ttl)
    return TokenIssuer(keys, "auth-service", ttl), TokenVerifier(keys, "auth-service", revocations)


def issue(issuer: TokenIssuer, session_id: str = "s1", now: float | None = None) -> str:
    return issuer.issue(
        user_id=7, email="u@example.com", roles=["user"], permissions=["p"], session_id=session_id, now=now
    )


async def test_revocation_is_checked_even_for_a_remembered_token() -> None:
    issuer, verifier = pair()
    token = issue(issuer)
    assert (await verifier.verify(token)).user_id == 7
    assert (await verifier.verify(token)).permissions == frozenset({"p"})
    await verifier.revocations.revoke_session("s1")
    with pytest.raises(InvalidToken):
        await verifier.verify(token)


async def test_user_cutoff_rejects_older_tokens_but_not_newer_ones() -> None:
    issuer, verifier = pair()
    old = issue(issuer, "old")
    await verifier.verify(old)
    await verifier.revocations.revoke_user_tokens(7)
    new = issue(issuer, "new", now=time.time() + 0.01)
    with pytest.raises(InvalidToken):
        await verifier.verify(old)
    assert (await verifier.verify(new)).session_id == "new"


async def test_a_remembered_token_still_expires() -> None:
    issuer, verifier = pair(ttl=2)
    token = issue(issuer)  # exp = floor(now) + 2: valid for at least one more second, at most two
    await verifier.verify(token)
    await asyncio.sleep(2.1)
    with pytest.raises(InvalidToken):
        await verifier.verify(token)


async def test_the_memory_of_tokens_is_bounded() -> None:
    issuer, verifier = pair()
    verifier.CACHE_SIZE = 3
    for n in range(5):
        await verifier.verify(issue(issuer, f"s{n}"))
    assert len(verifier._verified) == 3
