"""User module's public interface. The user module owns every user record *and its password hash*; the
auth module (sessions, tokens) asks through `UserAccounts` and never sees a hash."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

import msgspec

from kernel.contracts.calls import idempotent
from kernel.contracts.errors import Conflict, NotFound


class RoleView(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    id: int
    name: str
    description: str | None
    is_active: bool
    permissions: tuple[str, ...]


class UserView(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """The `User` object of docs/api.md §4, exactly as it goes on the wire (never a password or hash)."""

    id: int
    email: str
    first_name: str
    last_name: str
    full_name: str
    phone: str | None
    is_active: bool
    is_email_verified: bool
    last_login_at: datetime | None
    password_changed_at: datetime | None
    roles: tuple[RoleView, ...]
    created_at: datetime
    updated_at: datetime

    @property
    def role_names(self) -> tuple[str, ...]:
        return tuple(role.name for role in self.roles if role.is_active)

    @property
    def permission_names(self) -> tuple[str, ...]:
        """Union of the permissions of the user's active roles, sorted."""
        return tuple(sorted({p for role in self.roles if role.is_active for p in role.permissions}))


class NewUser(msgspec.Struct, frozen=True, kw_only=True):
    email: str
    password: str
    first_name: str
    last_name: str
    phone: str | None = None


MAX_PASSWORD_LENGTH = 128
"""The password policy's upper bound, for request schemas that accept a new password (register, …)."""


@runtime_checkable
class UserAccounts(Protocol):
    """What other modules may ask of users. Every method opens its own session and returns DTOs.

    Methods marked `@idempotent` may be sent again by split mode's client after a call failed without an answer;
    the others write (`authenticate` records the sign-in and may upgrade a legacy hash) and are sent once."""

    @idempotent
    async def get_user(self, user_id: int) -> UserView | None:
        """The user, or None when no user has that id."""

    @idempotent
    async def find_by_email(self, email: str) -> UserView | None:
        """Case-insensitive lookup."""

    @idempotent
    async def exists(self, user_id: int) -> bool: ...

    async def authenticate(self, email: str, password: str) -> UserView | None:
        """The active user whose password matches, with the sign-in recorded (`lastLoginAt`), else None —
        with comparable timing whether or not the email exists (a dummy hash is verified). A legacy bcrypt
        hash is upgraded to argon2id on success. Nothing is written when it fails."""

    async def register_user(self, new_user: NewUser) -> UserView:
        """Create an active user with the role `user`. Raises EmailTaken or ValidationFailed (password policy,
        names, phone — fieldErrors keyed by the request's camelCase field names)."""

    @idempotent
    async def check_password_change(self, user_id: int, current_password: str, new_password: str) -> None:
        """Raise what `change_password` would raise, changing nothing: lets the caller revoke sessions between
        the check and the change, so a refused revocation never leaves a changed password behind."""

    async def change_password(
        self, user_id: int, current_password: str, new_password: str, kept_session_id: str | None = None
    ) -> None:
        """Raises ValidationFailed with `currentPassword: ["is incorrect"]` or the policy's messages on
        `newPassword`; UserNotFound. Does not revoke sessions (the caller decides which). `kept_session_id`: the
        session that asked for the change, which the `user.updated` event names so that it stays signed in."""


class UserNotFound(NotFound):
    default_message = "User not found"


class EmailTaken(Conflict):
    default_message = "Email already exists"
