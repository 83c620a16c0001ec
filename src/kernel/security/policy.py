"""The access policy the app-wide guard consults once identity is hosted: bearer token → permission."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from litestar.connection import ASGIConnection

from kernel.contracts.errors import Forbidden, Unauthorized
from kernel.security.principal import attach_principal
from kernel.security.tokens import TokenVerifier

AUTHENTICATED_ONLY = "authenticated"
"""The permission name that any valid user token satisfies (`kernel.http.access.AUTHENTICATED` declares it)."""


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class TokenAccessPolicy:
    """Access tokens (signed JWTs of users), plus static machine tokens from configuration, each good for a
    fixed set of permissions and nothing else (a Prometheus scraper's token reads `/metrics`)."""

    def __init__(self, verifier: TokenVerifier, machine_tokens: Mapping[str, frozenset[str]] | None = None) -> None:
        self.verifier = verifier
        self.machine_tokens = dict(machine_tokens or {})

    def _machine_grants(self, token: str) -> frozenset[str] | None:
        for known, grants in self.machine_tokens.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                return grants
        return None

    async def authorize(self, connection: ASGIConnection[Any, Any, Any, Any], permission: str) -> None:
        token = bearer_token(connection)
        if token is None:
            raise Unauthorized("Unauthorized")
        grants = self._machine_grants(token)
        if grants is not None:
            if permission not in grants:  # not a user: never good for authenticated-only routes either
                raise Forbidden("Forbidden")
            return
        principal = await self.verifier.verify(token)
        attach_principal(connection, principal)
        if permission != AUTHENTICATED_ONLY and not principal.has(permission):
            raise Forbidden("Forbidden")
