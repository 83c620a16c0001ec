"""Reactions to user events: a deleted, deactivated or re-roled user, or one whose password changed, has its
sessions ended here, so their refresh tokens stop working, and every such change (a permissions change too)
is recorded as a cutoff for the user's access tokens. The user module already rejected those tokens through
the shared revocation cache when it made the change; this record is what makes that last (revocations.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.events.envelope import EventEnvelope
from kernel.events.transport import Subscription
from kernel.security.revocation import Revocations
from modules.auth.internal.models import ACTIVE, REVOKED, AuthSession, RefreshToken
from modules.auth.internal.revocations import record_user_cutoff
from modules.user.events import (
    UserDeactivated,
    UserDeleted,
    UserPermissionsChanged,
    UserRolesChanged,
    UserUpdated,
)


async def end_user_sessions(session: AsyncSession, user_id: int, reason: str, kept: str | None = None) -> None:
    """End the user's sessions (all but `kept`, when given) and their refresh tokens."""
    session_ids = [
        session_id
        for session_id in await session.scalars(
            select(AuthSession.id).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        )
        if session_id != kept
    ]
    if not session_ids:
        return
    await session.execute(
        update(AuthSession)
        .where(AuthSession.id.in_(session_ids))
        .values(revoked_at=datetime.now(UTC), revoked_reason=reason)
    )
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.session_id.in_(session_ids), RefreshToken.status == ACTIVE)
        .values(status=REVOKED)
    )


class UserEventHandlers:
    """Each handler ends the user's sessions where the change calls for it and records the user-wide cutoff
    (the moment the change happened) in auth's revocation record, in the inbox's transaction."""

    def __init__(self, revocations: Revocations) -> None:
        self.revocations = revocations

    async def _void_tokens(self, session: AsyncSession, user_id: int, envelope: EventEnvelope) -> None:
        await record_user_cutoff(session, self.revocations, user_id, envelope.occurred_at)

    async def on_user_deleted(self, session: AsyncSession, event: UserDeleted, envelope: EventEnvelope) -> None:
        await end_user_sessions(session, event.user_id, "user_deleted")
        await self._void_tokens(session, event.user_id, envelope)

    async def on_user_deactivated(self, session: AsyncSession, event: UserDeactivated, envelope: EventEnvelope) -> None:
        await end_user_sessions(session, event.user_id, "user_deactivated")
        await self._void_tokens(session, event.user_id, envelope)

    async def on_user_roles_changed(
        self, session: AsyncSession, event: UserRolesChanged, envelope: EventEnvelope
    ) -> None:
        await end_user_sessions(session, event.user_id, "roles_changed")
        await self._void_tokens(session, event.user_id, envelope)

    async def on_user_updated(self, session: AsyncSession, event: UserUpdated, envelope: EventEnvelope) -> None:
        if "password" not in event.changes:
            return
        if event.kept_session_id is not None:
            # Changed by its owner through auth's change-password, which revoked the other sessions before the
            # change (their tokens are refused by session, durably): end any that raced it, keep the asking one,
            # and void no token user-wide, which would sign the owner out too.
            await end_user_sessions(session, event.user_id, "password_changed", kept=event.kept_session_id)
            return
        await end_user_sessions(session, event.user_id, "password_changed")
        await self._void_tokens(session, event.user_id, envelope)

    async def on_user_permissions_changed(
        self, session: AsyncSession, event: UserPermissionsChanged, envelope: EventEnvelope
    ) -> None:
        # Sessions live on (a refresh gives tokens with the new permissions); tokens issued before are void.
        await self._void_tokens(session, event.user_id, envelope)

    def subscriptions(self) -> list[Subscription]:
        return [
            Subscription(UserDeleted, self.on_user_deleted),
            Subscription(UserDeactivated, self.on_user_deactivated),
            Subscription(UserRolesChanged, self.on_user_roles_changed),
            Subscription(UserUpdated, self.on_user_updated),
            Subscription(UserPermissionsChanged, self.on_user_permissions_changed),
        ]


SUBSCRIBES_TO = (UserDeleted, UserDeactivated, UserRolesChanged, UserUpdated, UserPermissionsChanged)
