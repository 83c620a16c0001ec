"""Sign-in, sessions and tokens. Credentials are checked by the user module (it owns the hashes); this
module owns sessions and refresh tokens, issues access tokens, and revokes them."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kernel.contracts.errors import Forbidden, ValidationFailed
from kernel.contracts.events import IntegrationEvent
from kernel.security.context import Security
from kernel.security.principal import Principal
from kernel.security.throttle import LoginThrottle
from modules.auth.api import InvalidCredentials, InvalidRefreshToken
from modules.auth.events import LoginFailed, LoginSucceeded, UserRegistered
from modules.auth.internal.models import ACTIVE, REVOKED, ROTATED, AuthSession, RefreshToken, outbox
from modules.auth.internal.settings import AuthSettings
from modules.user.api import NewUser, UserAccounts, UserView

START_SESSION = insert(AuthSession)
ISSUE_REFRESH_TOKEN = insert(RefreshToken)
"""Built once: a sign-in's two rows, written on the session's connection."""


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_refresh_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class SignedIn:
    access_token: str
    refresh_token: str
    expires_in: int
    user: UserView


@dataclass(frozen=True)
class ClientInfo:
    ip: str | None = None
    user_agent: str | None = None


class AuthService:
    def __init__(
        self,
        session: AsyncSession,
        users: UserAccounts,
        security: Security,
        throttle: LoginThrottle,
        settings: AuthSettings,
    ) -> None:
        self.session = session
        self.users = users
        self.security = security
        self.throttle = throttle
        self.settings = settings

    async def login(self, email: str, password: str, client: ClientInfo) -> SignedIn:
        email_key = email.strip().lower()
        await self.throttle.check(email_key, client.ip)
        user = await self.users.authenticate(email_key, password)
        if user is None:
            await self.throttle.failed(email_key, client.ip)
            await self._publish(LoginFailed(email=email_key[:254], reason="invalid_credentials"))
            await self.session.commit()
            raise InvalidCredentials()
        await self.throttle.succeeded(email_key)
        return await self._start_session(user, client, LoginSucceeded(user_id=user.id))

    async def register(self, new_user: NewUser, client: ClientInfo) -> SignedIn:
        if not self.settings.registration_enabled:
            raise Forbidden("Registration is disabled")
        user = await self.users.register_user(new_user)
        return await self._start_session(user, client, UserRegistered(user_id=user.id, email=user.email))

    async def refresh(self, token: str) -> SignedIn:
        now = datetime.now(UTC)
        row = await self.session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(token))
        )
        if row is None:
            raise InvalidRefreshToken()
        auth_session = await self.session.get(AuthSession, row.session_id)
        if auth_session is None or auth_session.revoked_at is not None:
            raise InvalidRefreshToken()
        if row.status == ROTATED:
            await self._end_sessions([auth_session], "refresh_token_reuse")
            await self.session.commit()
            raise InvalidRefreshToken()
        if row.status != ACTIVE or row.expires_at <= now or auth_session.expires_at <= now:
            raise InvalidRefreshToken()
        if await self.security.revocations.session_revoked(auth_session.id):
            raise InvalidRefreshToken()  # revoked in the shared store; its row may not say so yet
        cutoff = await self.security.revocations.user_cutoff(auth_session.user_id)
        if cutoff is not None and auth_session.created_at.timestamp() <= cutoff:
            await self._end_sessions([auth_session], "revoked_for_user")
            await self.session.commit()
            raise InvalidRefreshToken()
        claimed = await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.id == row.id, RefreshToken.status == ACTIVE)
            .values(status=ROTATED, used_at=now)
        )
        if getattr(claimed, "rowcount", 0) != 1:  # a concurrent refresh used it first: treat as reuse
            await self._end_sessions([auth_session], "refresh_token_reuse")
            await self.session.commit()
            raise InvalidRefreshToken()
        user = await self.users.get_user(auth_session.user_id)
        if user is None or not user.is_active:
            await self._end_sessions([auth_session], "user_inactive")
            await self.session.commit()
            raise InvalidRefreshToken()
        refresh_token = await self._add_refresh_token(auth_session.id, now)
        await self.session.commit()
        return SignedIn(self._access_token(user, auth_session.id), refresh_token, self.security.access_token_ttl, user)

    async def logout(self, principal: Principal, refresh_token: str | None) -> None:
        sessions = [await self.session.get(AuthSession, principal.session_id)]
        if refresh_token is not None:
            row = await self.session.scalar(
                select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(refresh_token))
            )
            if row is not None:
                other = await self.session.get(AuthSession, row.session_id)
                if other is not None and other.user_id == principal.user_id:
                    sessions.append(other)
        await self._end_sessions([s for s in sessions if s is not None], "logout")
        await self.security.revocations.revoke_session(principal.session_id)
        await self.session.commit()

    async def change_password(self, principal: Principal, current: str, new: str) -> None:
        # A wrong current password is a failed sign-in for that email: a stolen access token must not become
        # an unthrottled way to guess the password.
        email_key = principal.email.strip().lower()
        await self.throttle.check(email_key, None)
        try:
            await self.users.check_password_change(principal.user_id, current, new)
        except ValidationFailed as exc:
            if "currentPassword" in exc.field_errors:
                await self.throttle.failed(email_key, None)
            raise
        # The other sessions' tokens are revoked in the shared store before the password changes: if the store
        # refuses, the password stays as it was and the caller can retry (an extra sign-out, should the change
        # then fail, is harmless). Their rows are marked after the change commits, because auth and user may
        # share one SQLite file, where a second writing session would wait for this one forever.
        others = await self.active_sessions(principal.user_id, exclude=principal.session_id)
        for other in others:
            await self.security.revocations.revoke_session(other.id)
        await self.users.change_password(principal.user_id, current, new, kept_session_id=principal.session_id)
        # Listed again: a sign-in that raced the change may have opened a session in between.
        others = await self.active_sessions(principal.user_id, exclude=principal.session_id)
        await self._end_sessions(others, "password_changed")
        await self.session.commit()

    async def revoke_all_sessions(self, user_id: int, reason: str) -> int:
        sessions = await self.active_sessions(user_id)
        await self._end_sessions(sessions, reason)
        await self.session.commit()
        return len(sessions)

    async def _start_session(self, user: UserView, client: ClientInfo, event: IntegrationEvent) -> SignedIn:
        now = datetime.now(UTC)
        expires_at = now + timedelta(seconds=self.settings.refresh_token_ttl)
        session_id = str(uuid.uuid4())
        connection = await self.session.connection()  # the session's transaction, without the unit of work
        await connection.execute(
            START_SESSION,
            {
                "id": session_id,
                "user_id": user.id,
                "created_at": now,
                "expires_at": expires_at,
                "client_ip": client.ip,
                "user_agent": (client.user_agent or "")[:255] or None,
            },
        )
        refresh_token = await self._add_refresh_token(session_id, now)
        await self._publish(event)
        await self.session.commit()
        return SignedIn(self._access_token(user, session_id), refresh_token, self.security.access_token_ttl, user)

    async def _add_refresh_token(self, session_id: str, now: datetime) -> str:
        token = new_refresh_token()
        connection = await self.session.connection()
        await connection.execute(
            ISSUE_REFRESH_TOKEN,
            {
                "session_id": session_id,
                "token_hash": hash_refresh_token(token),
                "status": ACTIVE,
                "created_at": now,
                "expires_at": now + timedelta(seconds=self.settings.refresh_token_ttl),
            },
        )
        return token

    def _access_token(self, user: UserView, session_id: str) -> str:
        return self.security.issuer.issue(
            user_id=user.id,
            email=user.email,
            roles=list(user.role_names),
            permissions=list(user.permission_names),
            session_id=session_id,
        )

    async def active_sessions(self, user_id: int, exclude: str | None = None) -> list[AuthSession]:
        statement = select(AuthSession).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        if exclude is not None:
            statement = statement.where(AuthSession.id != exclude)
        return list((await self.session.scalars(statement)).all())

    async def _end_sessions(self, sessions: Sequence[AuthSession], reason: str) -> None:
        """Revoke in the database (refresh tokens die) and in the shared store (access tokens die now)."""
        now = datetime.now(UTC)
        for auth_session in sessions:
            if auth_session.revoked_at is None:
                auth_session.revoked_at = now
                auth_session.revoked_reason = reason
            await self.session.execute(
                update(RefreshToken)
                .where(RefreshToken.session_id == auth_session.id, RefreshToken.status == ACTIVE)
                .values(status=REVOKED)
            )
            await self.security.revocations.revoke_session(auth_session.id)

    async def _publish(self, event: IntegrationEvent) -> None:
        await outbox.publish(self.session, event)


class SqlSessionControl:
    """In-process implementation of `SessionControl`."""

    def __init__(
        self, session_maker: async_sessionmaker[AsyncSession], services: Callable[[AsyncSession], AuthService]
    ):
        self._session_maker = session_maker
        self._services = services

    async def revoke_all_sessions(self, user_id: int, reason: str) -> int:
        async with self._session_maker() as session:
            return await self._services(session).revoke_all_sessions(user_id, reason)

    async def active_session_count(self, user_id: int) -> int:
        async with self._session_maker() as session:
            return len(await self._services(session).active_sessions(user_id))
