"""A user's `UserView` read with one joined query as plain rows, for the paths that only read it (a sign-in,
the directory's lookup by id). A user with 40 permissions is 40 rows; as rows they cost half the CPU the ORM
spends building 40 objects and their collections, and one round trip instead of the relationships' three.
`mappers.user_view` builds the same view from ORM objects: a test holds the two equal."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from modules.user.api import RoleView, UserView
from modules.user.internal.mappers import user_view_of
from modules.user.internal.models import Permission, Role, User, role_permissions, user_roles

_USER_WITH_ROLES = (
    select(
        User.id,
        User.email,
        User.first_name,
        User.last_name,
        User.phone,
        User.is_active,
        User.is_email_verified,
        User.last_login_at,
        User.password_changed_at,
        User.created_at,
        User.updated_at,
        Role.id.label("role_id"),
        Role.name.label("role_name"),
        Role.description.label("role_description"),
        Role.is_active.label("role_is_active"),
        Permission.name.label("permission"),
    )
    .select_from(User)
    .outerjoin(user_roles, user_roles.c.user_id == User.id)
    .outerjoin(Role, Role.id == user_roles.c.role_id)
    .outerjoin(role_permissions, role_permissions.c.role_id == Role.id)
    .outerjoin(Permission, Permission.id == role_permissions.c.permission_id)
    .where(User.id == bindparam("user_id"))
    .order_by(Role.id, Permission.name)
)


async def user_view_by_id(connection: AsyncConnection, user_id: int) -> UserView | None:
    """The user's view, read in `connection`'s transaction; None when there is no such user."""
    return user_view_of_rows((await connection.execute(_USER_WITH_ROLES, {"user_id": user_id})).all())


def user_view_of_rows(rows: Sequence[Any]) -> UserView | None:
    """The view of the rows of `_USER_WITH_ROLES` (one user's)."""
    if not rows:
        return None
    roles: dict[int, tuple[Any, list[str]]] = {}
    for row in rows:
        if row.role_id is None:
            continue
        _, permissions = roles.setdefault(row.role_id, (row, []))
        if row.permission is not None:
            permissions.append(row.permission)
    return user_view_of(
        rows[0],
        tuple(
            RoleView(
                id=role_id,
                name=role.role_name,
                description=role.role_description,
                is_active=role.role_is_active,
                permissions=tuple(permissions),
            )
            for role_id, (role, permissions) in roles.items()
        ),
    )
