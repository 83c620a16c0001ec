"""ORM rows to the shapes that leave the module (DTOs of api.py and wire Structs). Never a hash."""

from __future__ import annotations

from typing import Any

from modules.user.api import RoleView, UserView
from modules.user.internal.models import Permission, Role, User, UserProfile
from modules.user.internal.schemas import PermissionOut, ProfileOut, RoleDetailOut, RoleMemberOut, RoleOut


def role_view(role: Role) -> RoleView:
    return RoleView(
        id=role.id,
        name=role.name,
        description=role.description,
        is_active=role.is_active,
        permissions=tuple(p.name for p in role.permissions),
    )


def user_view(user: User) -> UserView:
    return user_view_of(user, tuple(role_view(role) for role in user.roles))


def user_view_of(user: Any, roles: tuple[RoleView, ...]) -> UserView:
    """The view of anything with a user's attributes: the ORM `User`, or a row of `views`' joined query."""
    return UserView(
        id=user.id,
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
        full_name=f"{user.first_name} {user.last_name}",
        phone=user.phone,
        is_active=user.is_active,
        is_email_verified=user.is_email_verified,
        last_login_at=user.last_login_at,
        password_changed_at=user.password_changed_at,
        roles=roles,
        created_at=user.created_at,
        updated_at=user.updated_at,
    )


def active_role_names(user: User) -> list[str]:
    return [role.name for role in user.roles if role.is_active]


def role_out(role: Role) -> RoleOut:
    return RoleOut(
        id=role.id,
        name=role.name,
        description=role.description,
        is_active=role.is_active,
        permissions=[p.name for p in role.permissions],
        created_at=role.created_at,
        updated_at=role.updated_at,
    )


def role_detail_out(role: Role, users_count: int) -> RoleDetailOut:
    return RoleDetailOut(
        id=role.id,
        name=role.name,
        description=role.description,
        is_active=role.is_active,
        permissions=[p.name for p in role.permissions],
        created_at=role.created_at,
        updated_at=role.updated_at,
        users_count=users_count,
        permissions_count=len(role.permissions),
    )


def role_member_out(user: User) -> RoleMemberOut:
    return RoleMemberOut(
        id=user.id, email=user.email, first_name=user.first_name, last_name=user.last_name, is_active=user.is_active
    )


def permission_out(permission: Permission) -> PermissionOut:
    return PermissionOut(
        id=permission.id, name=permission.name, category=permission.category, description=permission.description
    )


def profile_out(profile: UserProfile) -> ProfileOut:
    return ProfileOut(
        id=profile.id,
        user_id=profile.user_id,
        date_of_birth=profile.date_of_birth,
        bio=profile.bio,
        avatar=profile.avatar,
        address=profile.address,
        social_links=profile.social_links,
        preferences=profile.preferences or {},  # free-form objects: empty, never null (docs/api.md §4)
        metadata=profile.extra or {},
        created_at=profile.created_at,
        updated_at=profile.updated_at,
    )
