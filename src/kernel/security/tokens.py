"""Access-token verification without a database: signature by a known public key, claims, revocation.

Only EdDSA with a key from the ring is accepted, so `alg: none` and HS256-with-the-public-key tokens fail
before any claim is read.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

import jwt

from kernel.contracts.errors import ServiceUnavailable, Unauthorized
from kernel.security.keys import ALGORITHM, KeyRing
from kernel.security.principal import Principal
from kernel.security.revocation import Revocations
from kernel.store import StoreUnavailable

REQUIRED_CLAIMS = ["exp", "iat", "sub", "sid", "jti", "iss"]


class InvalidToken(Unauthorized):
    default_message = "Invalid token"


class TokenVerifier:
    CACHE_SIZE = 10_000

    def __init__(self, keys: KeyRing, issuer: str, revocations: Revocations, leeway_seconds: int = 0) -> None:
        self.keys = keys
        self.issuer = issuer
        self.revocations = revocations
        self.leeway = leeway_seconds
        # Signature checks cost more than the rest of a small request; a token's claims cannot change, so a
        # verified token is remembered until it expires. Revocation is still looked up on every request.
        self._verified: dict[str, tuple[Principal, float, float]] = {}

    def _cached(self, token: str) -> Principal | None:
        entry = self._verified.get(token)
        if entry is None:
            return None
        principal, not_before, expires_at = entry
        now = time.time()
        if now < not_before - self.leeway or now >= expires_at + self.leeway:
            del self._verified[token]
            return None
        return principal

    def _remember(self, token: str, principal: Principal, claims: Mapping[str, Any]) -> None:
        if len(self._verified) >= self.CACHE_SIZE:
            self._verified.pop(next(iter(self._verified)))
        not_before = float(claims.get("nbf", claims["iat"]))
        self._verified[token] = (principal, not_before, float(claims["exp"]))

    def decode(self, token: str) -> Mapping[str, Any]:
        """Signature and claims only (no revocation lookup). Raises InvalidToken."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken() from None
        key = self.keys.verification_keys.get(str(header.get("kid", "")))
        if header.get("alg") != ALGORITHM or key is None:
            raise InvalidToken()
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": REQUIRED_CLAIMS, "verify_aud": False},
            )
        except jwt.PyJWTError:
            raise InvalidToken() from None
        return claims

    async def verify(self, token: str) -> Principal:
        principal = self._cached(token) or self._principal(token)
        try:
            revoked = await self.revocations.is_revoked(principal.session_id, principal.user_id, principal.issued_at)
        except StoreUnavailable:
            raise ServiceUnavailable("Session store unavailable") from None  # fail closed
        if revoked:
            raise InvalidToken()
        return principal

    def _principal(self, token: str) -> Principal:
        claims = self.decode(token)
        try:
            principal = Principal(
                user_id=int(claims["sub"]),
                email=str(claims.get("email", "")),
                roles=tuple(str(r) for r in claims.get("roles", [])),
                permissions=frozenset(str(p) for p in claims.get("permissions", [])),
                session_id=str(claims["sid"]),
                token_id=str(claims["jti"]),
                issued_at=float(claims["iat"]),
            )
        except (TypeError, ValueError):
            raise InvalidToken() from None
        self._remember(token, principal, claims)
        return principal


class TokenIssuer:
    """Signs access tokens (only a process holding the private key can: the one hosting auth)."""

    def __init__(self, keys: KeyRing, issuer: str, ttl_seconds: int) -> None:
        self.keys = keys
        self.issuer = issuer
        self.ttl_seconds = ttl_seconds

    def issue(
        self,
        *,
        user_id: int,
        email: str,
        roles: list[str],
        permissions: list[str],
        session_id: str,
        now: float | None = None,
    ) -> str:
        if self.keys.signing_key is None:
            raise RuntimeError("this process holds no signing key")
        issued_at = round(now if now is not None else time.time(), 6)
        claims = {
            "iss": self.issuer,
            "sub": str(user_id),
            "email": email,
            "roles": roles,
            "permissions": permissions,
            "sid": session_id,
            "jti": uuid.uuid4().hex,
            "iat": issued_at,
            "nbf": int(issued_at),
            "exp": int(issued_at) + self.ttl_seconds,
        }
        return jwt.encode(claims, self.keys.signing_key, algorithm=ALGORITHM, headers={"kid": self.keys.signing_kid})
