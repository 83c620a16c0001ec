"""Service tokens: how one process of a deployment proves itself to another on the internal routes.

A service token is an HS256 JWT signed with the deployment's shared `FREIGHTDESK_SERVICE_SECRET`: audience
`freightdesk-internal`, issuer the modules of the calling process (`pricing`), and a lifetime of 30 seconds
(the verifier refuses any token whose lifetime exceeds 60). The caller keeps one token and signs the next when
half of its life is gone. A user's access token is never one: it is signed with another key and algorithm.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
from litestar.connection import ASGIConnection

from kernel.contracts.errors import Unauthorized
from kernel.security.policy import bearer_token

SERVICE_AUDIENCE = "freightdesk-internal"
SERVICE_TOKEN_SECONDS = 30
MAX_SERVICE_TOKEN_SECONDS = 60
CLOCK_SKEW_SECONDS = 5
ALGORITHM = "HS256"


class ServiceTokens:
    """Signs this process's service tokens and verifies those of the others. Without a secret (a production
    process that was not given one, which production mode refuses to start) it signs nothing and verifies
    nothing: every internal route answers 401."""

    def __init__(
        self,
        secret: str | None,
        issuer: str,
        *,
        lifetime: int = SERVICE_TOKEN_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if lifetime > MAX_SERVICE_TOKEN_SECONDS:
            raise ValueError(f"a service token lives at most {MAX_SERVICE_TOKEN_SECONDS} s")
        self._secret = secret
        self.issuer = issuer
        self._lifetime = lifetime
        self._clock = clock
        self._current: tuple[str, float] | None = None

    def issue(self) -> str:
        """A token good for at least half its lifetime."""
        if self._secret is None:
            raise RuntimeError("no FREIGHTDESK_SERVICE_SECRET: this process cannot call another")
        now = self._clock()
        if self._current is None or self._current[1] - now < self._lifetime / 2:
            issued_at = int(now)
            expires = issued_at + self._lifetime
            claims = {"iss": self.issuer, "aud": SERVICE_AUDIENCE, "iat": issued_at, "exp": expires}
            self._current = (jwt.encode(claims, self._secret, algorithm=ALGORITHM), float(expires))
        return self._current[0]

    def verify(self, token: str) -> str:
        """The calling process's issuer; Unauthorized for a token that is not a valid, current service token."""
        if self._secret is None:
            raise Unauthorized("Invalid service token")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=SERVICE_AUDIENCE,
                options={"require": ["iss", "aud", "iat", "exp"]},
                leeway=CLOCK_SKEW_SECONDS,
            )
        except jwt.PyJWTError:
            raise Unauthorized("Invalid service token") from None
        issuer, issued_at, expires = claims["iss"], claims["iat"], claims["exp"]
        if not isinstance(issuer, str) or not issuer or expires - issued_at > MAX_SERVICE_TOKEN_SECONDS:
            raise Unauthorized("Invalid service token")
        return issuer


class ServiceAccessPolicy:
    """The access policy of the routes declared `SERVICE` (kernel.http.access): a bearer service token."""

    def __init__(self, tokens: ServiceTokens) -> None:
        self.tokens = tokens

    async def authorize(self, connection: ASGIConnection[Any, Any, Any, Any], permission: str) -> None:
        token = bearer_token(connection)
        if token is None:
            raise Unauthorized("Service token required")
        self.tokens.verify(token)
