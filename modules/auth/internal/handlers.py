"""Reactions to user events: a deleted, deactivated or re-roled user, or one whose password changed, has its
sessions ended here, so their refresh tokens stop working. (The user module already rejected the user's access
tokens through the shared revocation list when it made the change.)"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.events.envelope import EventEnvelope
from kernel.events.transport import Subscription
from modules.auth.internal.models import ACTIVE, REVOKED, AuthSession, RefreshToken
from modules.user.events import UserDeactivated, UserDeleted, UserRolesChanged, UserUpdated


async def end_user_sessions(session: AsyncSession, user_id: int, reason: str) -> None:
    session_ids = list(
        await session.scalars(
            select(AuthSession.id).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        )
    )
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


async def on_user_deleted(session: AsyncSession, event: UserDeleted, envelope: EventEnvelope) -> None:
    await end_user_sessions(session, event.user_id, "user_deleted")


async def on_user_deactivated(session: AsyncSession, event: UserDeactivated, envelope: EventEnvelope) -> None:
    await end_user_sessions(session, event.user_id, "user_deactivated")


async def on_user_roles_changed(session: AsyncSession, event: UserRolesChanged, envelope: EventEnvelope) -> None:
    await end_user_sessions(session, event.user_id, "roles_changed")


async def on_user_updated(session: AsyncSession, event: UserUpdated, envelope: EventEnvelope) -> None:
    if "password" in event.changes:
        await end_user_sessions(session, event.user_id, "password_changed")


SUBSCRIPTIONS = [
    Subscription(UserUpdated, on_user_updated),
    Subscription(UserDeleted, on_user_deleted),
    Subscription(UserDeactivated, on_user_deactivated),
    Subscription(UserRolesChanged, on_user_roles_changed),
]
