"""Identity tables on the user module's own base (own registry, own MetaData).

The auth module shares the database (its tables are prefixed `auth_`) but keeps its own history and base;
nothing outside this module maps these tables.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Column, Date, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from kernel.db.base import IntPrimaryKey, Timestamps, UTCDateTime, lookup_key, module_metadata
from kernel.events.outbox import Outbox

ADMIN_ROLE = "admin"
"""The role holding every permission (it cannot be renamed, deactivated, deleted or lose one)."""
DEFAULT_ROLE = "user"
"""The role every new account gets, self-registered ones included."""


class UserBase(DeclarativeBase):
    """The user module's own registry and MetaData."""

    metadata = module_metadata("user")


user_roles = Table(
    "user_roles",
    UserBase.metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", Integer, ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True, index=True),
)

role_permissions = Table(
    "role_permissions",
    UserBase.metadata,
    Column("role_id", Integer, ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
    Column("permission_id", Integer, ForeignKey("permissions.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Permission(IntPrimaryKey, UserBase):
    __tablename__ = "permissions"
    __table_args__ = {"sqlite_autoincrement": True}

    name: Mapped[str] = mapped_column(String(100), unique=True)
    category: Mapped[str] = mapped_column(String(50), index=True)
    description: Mapped[str | None] = mapped_column(String(255))


class Role(IntPrimaryKey, Timestamps, UserBase):
    __tablename__ = "roles"
    __table_args__ = {"sqlite_autoincrement": True}

    name: Mapped[str] = mapped_column(String(50))
    name_key: Mapped[str] = mapped_column(lookup_key(50), unique=True)
    """Lower-cased name: uniqueness ignoring case, the same on every database (see `lookup_key`)."""
    description: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    permissions: Mapped[list[Permission]] = relationship(
        secondary=role_permissions, lazy="selectin", order_by=Permission.name
    )


class User(IntPrimaryKey, Timestamps, UserBase):
    __tablename__ = "users"
    __table_args__ = {"sqlite_autoincrement": True}

    email: Mapped[str] = mapped_column(String(254), unique=True)
    """Stored lower-cased, so uniqueness ignores case."""
    password_hash: Mapped[str] = mapped_column(String(255))
    first_name: Mapped[str] = mapped_column(String(50))
    last_name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str | None] = mapped_column(String(25))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    is_email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    roles: Mapped[list[Role]] = relationship(secondary=user_roles, lazy="selectin", order_by=Role.id)

    def __repr__(self) -> str:
        # Never the hash, not even in a debug log or a traceback.
        return f"User(id={self.id!r}, email={self.email!r})"


class UserProfile(IntPrimaryKey, Timestamps, UserBase):
    __tablename__ = "user_profiles"
    __table_args__ = {"sqlite_autoincrement": True}

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    bio: Mapped[str | None] = mapped_column(String(500))
    avatar: Mapped[str | None] = mapped_column(Text)
    address: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    social_links: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    preferences: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    extra: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSON)


outbox = Outbox.for_base(UserBase)
