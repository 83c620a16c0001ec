"""Integration events the user module publishes (through its outbox). Payloads carry no secrets."""

from __future__ import annotations

from typing import ClassVar

from kernel.contracts.events import IntegrationEvent


class UserCreated(IntegrationEvent, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "user.created"
    event_version: ClassVar[int] = 1
    user_id: int
    email: str
    first_name: str
    last_name: str
    roles: list[str]


class UserUpdated(IntegrationEvent, frozen=True, kw_only=True, omit_defaults=True):
    event_type: ClassVar[str] = "user.updated"
    event_version: ClassVar[int] = 1
    user_id: int
    changes: list[str]
    """Wire names of the fields that changed (`password` when it changed; never its value)."""
    kept_session_id: str | None = None
    """A password changed by its owner through a session of theirs: the session that stays signed in (the
    others were ended before the change). None for every other change, a password reset among them."""


class UserDeleted(IntegrationEvent, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "user.deleted"
    event_version: ClassVar[int] = 1
    user_id: int
    email: str


class UserRolesChanged(IntegrationEvent, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "user.roles_changed"
    event_version: ClassVar[int] = 1
    user_id: int
    roles: list[str]


class UserDeactivated(IntegrationEvent, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "user.deactivated"
    event_version: ClassVar[int] = 1
    user_id: int


class UserPermissionsChanged(IntegrationEvent, frozen=True, kw_only=True):
    """A role the user holds gained or lost permissions: tokens issued before carry the old set."""

    event_type: ClassVar[str] = "user.permissions_changed"
    event_version: ClassVar[int] = 1
    user_id: int


ALL_EVENTS = (UserCreated, UserUpdated, UserDeleted, UserRolesChanged, UserDeactivated, UserPermissionsChanged)
