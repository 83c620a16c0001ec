"""The no-escalation rule (docs/api.md §3.7, docs/adr/0007-no-escalation.md): no caller gives anyone, another
account or itself, a permission the caller does not hold, nor acts on an account more privileged than itself.

The services apply it before any write, with the caller as plain values (`Caller`): every write of users,
roles and profiles takes one, so no route, present or future, reaches a write without it.

- **Acting on another account** (any change of its record, roles or profile, or deleting it) needs every
  permission the account holds through any of its roles, active or not (a deactivated role can be
  reactivated).
- **Granting a role** needs every permission of the role.
- Both count the permissions of the default role `user` as held by every caller: anyone may get them by
  self-registration (`POST /auth/register`), so giving them grants nothing new.
- **Changing a role's permission set** (or its active flag, or deleting it) needs every permission added or
  removed; for a role the caller holds itself, every permission of the old and new set.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.contracts.errors import Forbidden
from modules.user.internal.models import DEFAULT_ROLE, Permission, Role, User, role_permissions, user_roles


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks for a change: the account's id and the permissions it holds (the access token's claims)."""

    user_id: int
    permissions: frozenset[str]


def permissions_of(roles: Iterable[Role]) -> frozenset[str]:
    """Every permission of the roles, active or not."""
    return frozenset(permission.name for role in roles for permission in role.permissions)


def require_all(held: frozenset[str], needed: Iterable[str]) -> None:
    """403 unless `held` covers `needed`; says nothing about which permission is missing."""
    if not held.issuperset(needed):
        raise Forbidden("Forbidden")


async def public_permissions(session: AsyncSession) -> frozenset[str]:
    """The permissions of the active default role: what anyone holds once registered."""
    statement = (
        select(Permission.name)
        .join(role_permissions, role_permissions.c.permission_id == Permission.id)
        .join(Role, Role.id == role_permissions.c.role_id)
        .where(Role.name_key == DEFAULT_ROLE, Role.is_active)
    )
    return frozenset((await session.scalars(statement)).all())


async def require_authority_over(session: AsyncSession, caller: Caller, target: User) -> None:
    """Acting on another account needs every permission it holds; one's own account is one's own."""
    if target.id == caller.user_id:
        return
    require_all(caller.permissions | await public_permissions(session), permissions_of(target.roles))


async def require_may_grant(session: AsyncSession, caller: Caller, roles: Iterable[Role]) -> None:
    """Giving an account these roles (to another account or to oneself) needs every permission of them."""
    needed = permissions_of(roles)
    if needed <= caller.permissions:
        return
    require_all(caller.permissions | await public_permissions(session), needed)


async def require_may_change_role(
    session: AsyncSession,
    caller: Caller,
    role: Role,
    new_permissions: Iterable[Permission],
    *,
    active_changes: bool = False,
) -> None:
    """Changing what `role` gives its holders: every permission added or removed; when its active flag flips
    (or the caller holds the role itself), every permission of the old and the new set."""
    old = permissions_of([role])
    new = frozenset(permission.name for permission in new_permissions)
    if old == new and not active_changes:
        return
    require_all(caller.permissions, old | new if active_changes else old ^ new)
    if not (old | new) <= caller.permissions and await _holds(session, caller.user_id, role.id):
        raise Forbidden("Forbidden")


async def _holds(session: AsyncSession, user_id: int, role_id: int) -> bool:
    statement = select(user_roles.c.user_id).where(user_roles.c.user_id == user_id, user_roles.c.role_id == role_id)
    return await session.scalar(statement) is not None
