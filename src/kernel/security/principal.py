"""Who is calling: the verified claims of the request's access token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection

from kernel.contracts.errors import Forbidden, Unauthorized

PRINCIPAL_STATE_KEY = "principal"
PRINCIPAL_DEPENDENCY = "current_principal"


@dataclass(frozen=True)
class Principal:
    user_id: int
    email: str
    roles: tuple[str, ...]
    permissions: frozenset[str]
    session_id: str
    token_id: str
    issued_at: float

    def has(self, permission: str) -> bool:
        return permission in self.permissions

    def require(self, permission: str) -> None:
        if permission not in self.permissions:
            raise Forbidden("Forbidden")

    def require_self_or(self, user_id: int, permission: str) -> None:
        """Owner-or-permission routes (profiles, own user record)."""
        if user_id != self.user_id and permission not in self.permissions:
            raise Forbidden("Forbidden")


def attach_principal(connection: ASGIConnection[Any, Any, Any, Any], principal: Principal) -> None:
    connection.state[PRINCIPAL_STATE_KEY] = principal


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    principal = connection.state.get(PRINCIPAL_STATE_KEY)
    if not isinstance(principal, Principal):
        raise Unauthorized("Unauthorized")
    return principal


async def provide_principal(request: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    """Litestar dependency `current_principal` for guarded routes."""
    return principal_of(request)
