"""Everything security-related a process builds once from its settings and hands to its modules."""

from __future__ import annotations

from dataclasses import dataclass

from kernel.security.keys import KeyRing
from kernel.security.revocation import Revocations
from kernel.security.tokens import TokenIssuer, TokenVerifier
from kernel.settings import Settings
from kernel.store import SharedStore


@dataclass(frozen=True)
class Security:
    store: SharedStore
    keys: KeyRing
    revocations: Revocations
    verifier: TokenVerifier
    issuer: TokenIssuer
    access_token_ttl: int

    @classmethod
    def build(cls, settings: Settings, store: SharedStore, signs_tokens: bool = True) -> Security:
        keys = KeyRing.load(settings, signs_tokens)
        revocations = Revocations(store, settings.access_token_ttl)
        return cls(
            store=store,
            keys=keys,
            revocations=revocations,
            verifier=TokenVerifier(keys, settings.jwt_issuer, revocations),
            issuer=TokenIssuer(keys, settings.jwt_issuer, settings.access_token_ttl),
            access_token_ttl=settings.access_token_ttl,
        )
