"""Role and permission use cases. A change to a role reaches tokens by revoking its holders' tokens: their next
token (after a refresh or login) carries the new permissions. What a role gives its holders changes only
within the caller's own permissions (the no-escalation rule, `escalation.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.contracts.changes import apply_changes, differences
from kernel.contracts.errors import FieldErrors
from kernel.contracts.preconditions import Precondition, check
from kernel.contracts.text import name_key, optional_text, trimmed
from kernel.db.base import utc_now
from kernel.db.locking import flush_or_conflict, get_locked
from kernel.db.pages import fetch_page
from kernel.http.fields import present
from kernel.paging import ListParams, Page
from kernel.security.revocation import Revocations
from modules.user.events import UserPermissionsChanged, UserRolesChanged
from modules.user.internal.errors import (
    AdminRoleProtected,
    DefaultRoleProtected,
    RoleInUse,
    RoleNameTaken,
    RoleNotFound,
)
from modules.user.internal.escalation import Caller, require_all, require_may_change_role
from modules.user.internal.mappers import active_role_names
from modules.user.internal.models import (
    ADMIN_ROLE,
    DEFAULT_ROLE,
    Permission,
    Role,
    User,
    outbox,
    role_permissions,
    user_roles,
)
from modules.user.internal.schemas import RoleCreate, RoleStats, RoleUpdate
from modules.user.internal.service import NAME_MAX, NAME_MIN

SORTABLE = {
    "createdAt": "created_at",
    "updatedAt": "updated_at",
    "name": "name",
    "isActive": "is_active",
    "id": "id",
}
SEARCHABLE = (Role.name, Role.description)


class RoleService:
    def __init__(self, session: AsyncSession, revocations: Revocations) -> None:
        self.session = session
        self.revocations = revocations

    async def get(self, role_id: int) -> Role:
        role = await self.session.get(Role, role_id)
        if role is None:
            raise RoleNotFound()
        return role

    async def get_for_update(self, role_id: int) -> Role:
        """The role, locked until this transaction ends (concurrent changes take turns), as last committed."""
        role = await get_locked(self.session, Role, Role.id == role_id)
        if role is None:
            raise RoleNotFound()
        return role

    async def get_by_name(self, name: str) -> Role:
        role: Role | None = await self.session.scalar(select(Role).where(Role.name_key == name_key(name)))
        if role is None:
            raise RoleNotFound()
        return role

    async def page(self, params: ListParams, active_only: bool | None) -> Page[Role]:
        statement = select(Role)
        if active_only:
            statement = statement.where(Role.is_active)
        return await fetch_page(self.session, statement, params, model=Role, search_columns=SEARCHABLE)

    async def active(self) -> Sequence[Role]:
        return (await self.session.scalars(select(Role).where(Role.is_active).order_by(Role.id))).all()

    async def users_count(self, role_id: int) -> int:
        statement = select(func.count()).select_from(user_roles).where(user_roles.c.role_id == role_id)
        return int(await self.session.scalar(statement) or 0)

    async def members(self, role_id: int) -> Sequence[User]:
        await self.get(role_id)
        statement = select(User).where(User.roles.any(Role.id == role_id)).order_by(User.id)
        return (await self.session.scalars(statement)).all()

    async def stats(self) -> RoleStats:
        total = int(await self.session.scalar(select(func.count()).select_from(Role)) or 0)
        active = int(await self.session.scalar(select(func.count()).select_from(Role).where(Role.is_active)) or 0)
        permissions = int(await self.session.scalar(select(func.count()).select_from(Permission)) or 0)
        grants = int(await self.session.scalar(select(func.count()).select_from(role_permissions)) or 0)
        return RoleStats(
            total_roles=total,
            active_roles=active,
            inactive_roles=total - active,
            total_permissions=permissions,
            average_permissions_per_role=round(grants / total, 2) if total else 0.0,
        )

    async def create(self, data: RoleCreate, caller: Caller) -> Role:
        errors = FieldErrors()
        name = trimmed(errors, "name", data.name, NAME_MIN, NAME_MAX)
        permissions = (
            await self.resolve_permissions(errors, data.permission_ids) if data.permission_ids is not None else []
        )
        require_all(caller.permissions, (p.name for p in permissions))  # before naming unknown ids
        errors.raise_if_any()
        await self._ensure_name_free(name)
        role = Role(
            name=name,
            name_key=name_key(name),
            description=optional_text(data.description),
            is_active=data.is_active,
            permissions=permissions,
        )
        self.session.add(role)
        await flush_or_conflict(self.session, "roles", "name_key", RoleNameTaken)
        await self.session.commit()
        return role

    async def update(
        self, role_id: int, data: RoleUpdate, caller: Caller, precondition: Precondition[Role] | None = None
    ) -> Role:
        role = await self.get_for_update(role_id)
        await check(precondition, role)
        errors = FieldErrors()
        changes: dict[str, Any] = {}
        if present(data.name):
            name = trimmed(errors, "name", data.name, NAME_MIN, NAME_MAX)
            if name != role.name:
                changes["name"] = name
        if present(data.description):
            changes["description"] = optional_text(data.description)
        if present(data.is_active):
            changes["is_active"] = data.is_active
        permissions = None
        if present(data.permission_ids):
            permissions = await self.resolve_permissions(errors, data.permission_ids)
        await require_may_change_role(  # before naming unknown ids or protected roles
            self.session,
            caller,
            role,
            role.permissions if permissions is None else permissions,
            active_changes="is_active" in changes and changes["is_active"] != role.is_active,
        )
        errors.raise_if_any()

        changed = differences(role, changes)
        permissions_changed = permissions is not None and {p.id for p in permissions} != {
            p.id for p in role.permissions
        }
        renamed_or_deactivated = ("name" in changed and name_key(changes["name"]) != role.name_key) or changes.get(
            "is_active"
        ) is False
        if role.name_key == ADMIN_ROLE and renamed_or_deactivated:
            raise AdminRoleProtected()
        if role.name_key == ADMIN_ROLE and permissions is not None and await self._lacks_any(permissions):
            # Without every permission nobody could undo this (roles.update would be gone with it).
            raise AdminRoleProtected("The admin role keeps every permission")
        if role.name_key == DEFAULT_ROLE and renamed_or_deactivated:
            raise DefaultRoleProtected()
        if "name" in changed and name_key(changes["name"]) != role.name_key:
            await self._ensure_name_free(changes["name"])
        if not changed and not permissions_changed:
            return role
        apply_changes(role, changed)
        if "name" in changed:
            role.name_key = name_key(role.name)
        if permissions_changed and permissions is not None:
            role.permissions = permissions
            role.updated_at = utc_now()  # a change of the association alone does not touch the row
        await flush_or_conflict(self.session, "roles", "name_key", RoleNameTaken)
        holders = await self.members(role.id)
        if "name" in changed or "is_active" in changed:
            # The role names in the holders' tokens change.
            await outbox.publish_many(
                self.session, [UserRolesChanged(user_id=user.id, roles=active_role_names(user)) for user in holders]
            )
        elif permissions_changed:
            await outbox.publish_many(self.session, [UserPermissionsChanged(user_id=user.id) for user in holders])
        for user in holders:  # before the commit: a refused revocation leaves the change undone, to retry
            await self.revocations.revoke_user_tokens(user.id)
        await self.session.commit()
        return role

    async def delete(self, role_id: int, caller: Caller, precondition: Precondition[Role] | None = None) -> None:
        """Deleting a role takes every permission out of it: the caller must hold them all."""
        role = await self.get_for_update(role_id)
        await require_may_change_role(self.session, caller, role, [])
        await check(precondition, role)
        if role.name_key == ADMIN_ROLE:
            raise AdminRoleProtected("The admin role cannot be deleted")
        if role.name_key == DEFAULT_ROLE:
            raise DefaultRoleProtected()
        if await self.users_count(role.id):
            raise RoleInUse()
        await self.session.delete(role)
        await self.session.commit()

    async def _lacks_any(self, permissions: Sequence[Permission]) -> bool:
        total = await self.session.scalar(select(func.count()).select_from(Permission))
        return len({p.id for p in permissions}) < (total or 0)

    async def resolve_permissions(self, errors: FieldErrors, permission_ids: Sequence[int]) -> list[Permission]:
        wanted = sorted(set(permission_ids))
        if not wanted:
            return []
        found = (
            await self.session.scalars(select(Permission).where(Permission.id.in_(wanted)).order_by(Permission.name))
        ).all()
        missing = sorted(set(wanted) - {p.id for p in found})
        if missing:
            errors.add("permissionIds", f"unknown permission id(s): {', '.join(map(str, missing))}")
        return list(found)

    async def _ensure_name_free(self, name: str) -> None:
        if await self.session.scalar(select(Role.id).where(Role.name_key == name_key(name))) is not None:
            raise RoleNameTaken()


class PermissionService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def all(self) -> Sequence[Permission]:
        statement = select(Permission).order_by(Permission.category, Permission.name)
        return (await self.session.scalars(statement)).all()

    async def categories(self) -> list[str]:
        statement = select(Permission.category).distinct().order_by(Permission.category)
        return list((await self.session.scalars(statement)).all())

    async def in_category(self, category: str) -> Sequence[Permission]:
        statement = (
            select(Permission)
            .where(func.upper(Permission.category) == category.strip().upper())
            .order_by(Permission.name)
        )
        return (await self.session.scalars(statement)).all()
