"""Auth module's public interface: what other modules may ask about sessions."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from kernel.contracts.calls import idempotent
from kernel.contracts.errors import Unauthorized


@runtime_checkable
class SessionControl(Protocol):
    """Methods marked `@idempotent` may be sent again by split mode's client after a call failed without an
    answer; `revoke_all_sessions` is not (a second call would report 0 sessions ended)."""

    async def revoke_all_sessions(self, user_id: int, reason: str) -> int:
        """End every active session of the user (refresh tokens die, access tokens are rejected at once).
        Returns how many sessions were ended."""

    @idempotent
    async def active_session_count(self, user_id: int) -> int: ...


class InvalidCredentials(Unauthorized):
    default_message = "Invalid credentials"


class InvalidRefreshToken(Unauthorized):
    default_message = "Invalid refresh token"
