"""Sessions and refresh tokens, on the auth module's own base (tables prefixed `auth_`: the identity
database is shared with the user module, whose history is separate)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kernel.db.base import IntPrimaryKey, UTCDateTime, module_metadata, utc_now
from kernel.events.outbox import Inbox, Outbox

ACTIVE = "active"
ROTATED = "rotated"
REVOKED = "revoked"


class AuthBase(DeclarativeBase):
    """The auth module's own registry and MetaData."""

    metadata = module_metadata("auth")


class AuthSession(AuthBase):
    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    """The `sid` claim of every access token issued in this session."""
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    """A user of the user module: a reference by id, never a foreign key across modules."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    """Also the lasting record of the session's revocation, read back into the revocation cache."""
    revoked_reason: Mapped[str | None] = mapped_column(String(50))
    client_ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))


class RefreshToken(IntPrimaryKey, AuthBase):
    __tablename__ = "auth_refresh_tokens"
    __table_args__ = {"sqlite_autoincrement": True}

    session_id: Mapped[str] = mapped_column(ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 of the opaque token; the token itself is never stored."""
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class UserTokenCutoff(AuthBase):
    """The lasting record of "every token of this user issued at or before `revoked_before` is void" (user
    deleted, deactivated, re-roled, password or permissions changed), kept as long as such a token can live."""

    __tablename__ = "auth_user_token_cutoffs"

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    revoked_before: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, index=True)


outbox = Outbox.for_base(AuthBase)
inbox = Inbox.for_base(AuthBase)
