"""Integration events the auth module publishes. Never a password or a token."""

from __future__ import annotations

from typing import ClassVar

from kernel.contracts.events import IntegrationEvent


class UserRegistered(IntegrationEvent, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "auth.user_registered"
    event_version: ClassVar[int] = 1
    user_id: int
    email: str


class LoginSucceeded(IntegrationEvent, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "auth.login_succeeded"
    event_version: ClassVar[int] = 1
    user_id: int


class LoginFailed(IntegrationEvent, frozen=True, kw_only=True):
    event_type: ClassVar[str] = "auth.login_failed"
    event_version: ClassVar[int] = 1
    email: str
    reason: str


ALL_EVENTS = (UserRegistered, LoginSucceeded, LoginFailed)
