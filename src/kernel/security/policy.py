"""The access policy the app-wide guard consults once identity is hosted: bearer token → permission."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection

from kernel.contracts.errors import Forbidden, Unauthorized
from kernel.security.principal import attach_principal
from kernel.security.tokens import TokenVerifier

AUTHENTICATED = "authenticated"


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class TokenAccessPolicy:
    def __init__(self, verifier: TokenVerifier) -> None:
        self.verifier = verifier

    async def authorize(self, connection: ASGIConnection[Any, Any, Any, Any], permission: str) -> None:
        token = bearer_token(connection)
        if token is None:
            raise Unauthorized("Unauthorized")
        principal = await self.verifier.verify(token)
        attach_principal(connection, principal)
        if permission != AUTHENTICATED and not principal.has(permission):
            raise Forbidden("Forbidden")
