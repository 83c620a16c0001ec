"""User use cases: rules beyond the wire schema, password hashing, role assignment, the last-administrator
rule, token revocation and events through the outbox (written in the same transaction as the change).

Every change starts by locking the user's row (`kernel.db.locking`), so concurrent changes of one user take
turns instead of overwriting each other, and revokes tokens *before* it commits: should the shared store
refuse the revocation, nothing is committed and the caller can simply retry."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import msgspec
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.contracts.changes import apply_changes, differences
from kernel.contracts.errors import FieldErrors, ValidationFailed
from kernel.contracts.events import IntegrationEvent
from kernel.contracts.preconditions import Precondition, check
from kernel.contracts.text import name_key, trimmed
from kernel.db.base import utc_now
from kernel.db.locking import flush_or_conflict, get_locked, lock_rows
from kernel.db.pages import fetch_page
from kernel.http.fields import present
from kernel.paging import ListParams, Page
from kernel.security.revocation import Revocations
from kernel.security.throttle import LoginThrottle
from modules.user.api import EmailTaken, NewUser, UserNotFound, UserView
from modules.user.events import UserCreated, UserDeactivated, UserDeleted, UserRolesChanged, UserUpdated
from modules.user.internal.errors import DefaultRoleUnavailable, LastAdministrator, SelfDeletion
from modules.user.internal.escalation import Caller, require_authority_over, require_may_grant
from modules.user.internal.mappers import active_role_names
from modules.user.internal.models import ADMIN_ROLE, DEFAULT_ROLE, Role, User, UserProfile, outbox, user_roles
from modules.user.internal.password_policy import check_password
from modules.user.internal.passwords import hash_password, needs_rehash, verify_dummy, verify_password
from modules.user.internal.schemas import UserCreate, UserUpdate
from modules.user.internal.views import user_view_by_id

NAME_MIN, NAME_MAX = 2, 50
SORTABLE = {
    "createdAt": "created_at",
    "updatedAt": "updated_at",
    "email": "email",
    "firstName": "first_name",
    "lastName": "last_name",
    "isActive": "is_active",
    "lastLoginAt": "last_login_at",
    "id": "id",
}
SEARCHABLE = (User.first_name, User.last_name, User.email)
_CREDENTIALS = select(User.id, User.password_hash, User.is_active).where(User.email == bindparam("email"))
"""Built once: what a sign-in verifies."""
_WIRE_NAMES = {
    "email": "email",
    "password_hash": "password",
    "first_name": "firstName",
    "last_name": "lastName",
    "phone": "phone",
    "is_active": "isActive",
    "is_email_verified": "isEmailVerified",
}


def clean_name(errors: FieldErrors, field: str, raw: str) -> str:
    return trimmed(errors, field, raw, NAME_MIN, NAME_MAX)


def normalize_email(email: str) -> str:
    return email.strip().lower()


class UserService:
    """One request's (or one directory call's) work on users, in one session."""

    def __init__(self, session: AsyncSession, revocations: Revocations) -> None:
        self.session = session
        self.revocations = revocations
        self.throttle = LoginThrottle(revocations.store)

    # ---- reads

    async def get(self, user_id: int) -> User:
        user = await self.session.get(User, user_id)
        if user is None:
            raise UserNotFound()
        return user

    async def get_for_update(self, user_id: int) -> User:
        """The user, locked until this transaction ends, as last committed."""
        user = await get_locked(self.session, User, User.id == user_id)
        if user is None:
            raise UserNotFound()
        return user

    async def find_by_email(self, email: str) -> User | None:
        found: User | None = await self.session.scalar(select(User).where(User.email == normalize_email(email)))
        return found

    async def get_by_email(self, email: str) -> User:
        user = await self.find_by_email(email)
        if user is None:
            raise UserNotFound()
        return user

    async def email_exists(self, email: str) -> bool:
        found = await self.session.scalar(select(User.id).where(User.email == normalize_email(email)))
        return found is not None

    async def page(self, params: ListParams, is_active: bool | None, role: str | None) -> Page[User]:
        statement = select(User)
        if is_active is not None:
            statement = statement.where(User.is_active == is_active)
        if role is not None:
            statement = statement.where(User.roles.any(Role.name_key == name_key(role)))
        return await fetch_page(self.session, statement, params, model=User, search_columns=SEARCHABLE)

    async def active(self) -> Sequence[User]:
        return (await self.session.scalars(select(User).where(User.is_active).order_by(User.id))).all()

    async def count(self, is_active: bool | None) -> int:
        statement = select(func.count()).select_from(User)
        if is_active is not None:
            statement = statement.where(User.is_active == is_active)
        return int(await self.session.scalar(statement) or 0)

    async def with_role(self, role_name: str) -> Sequence[User]:
        """Holders of the role (any case); an unknown role has none, as with the list's `role` filter."""
        statement = select(User).where(User.roles.any(Role.name_key == name_key(role_name))).order_by(User.id)
        return (await self.session.scalars(statement)).all()

    # ---- credentials (used by the directory, for the auth module)

    async def authenticate(self, email: str, password: str) -> UserView | None:
        """The active user whose password matches, with `lastLoginAt` set in the same commit as any hash
        upgrade; None (and nothing written) otherwise."""
        # Only what the verification needs: the whole user (roles, permissions) is read once, after it. Core
        # statements on the session's connection: a sign-in needs nothing of the ORM.
        found = (
            await (await self.session.connection()).execute(_CREDENTIALS, {"email": normalize_email(email)})
        ).one_or_none()
        # The connection goes back to the pool while the hash waits its turn on the hash threads (a burst of
        # sign-ins queues there for a good part of a second): sign-ins never hold the pool's connections.
        await self.session.rollback()
        if found is None:
            await verify_dummy(password)
            return None
        user_id, verified_hash, is_active = found
        if not await verify_password(verified_hash, password):
            return None
        if not is_active:
            return None
        values: dict[str, Any] = {"last_login_at": utc_now()}
        if needs_rehash(verified_hash):
            # Legacy bcrypt (imported from the old system) or outdated argon2 parameters: upgrade in place.
            values["password_hash"] = await hash_password(password)
        connection = await self.session.connection()
        # Written only if the password and the active flag are still what was verified: a password change or
        # deactivation committed meanwhile turns this sign-in down instead of letting it start a session.
        recorded = await connection.execute(
            update(User).where(User.id == user_id, User.password_hash == verified_hash, User.is_active).values(values)
        )
        if recorded.rowcount != 1:
            await self.session.rollback()
            return None
        # Read in the update's transaction: its commit ends the sign-in's work here (no rollback after a read).
        signed_in = await user_view_by_id(connection, user_id)
        await self.session.commit()
        return signed_in

    async def check_password_change(self, user: User, current_password: str, new_password: str) -> None:
        """Raise ValidationFailed unless `current_password` is right and `new_password` is acceptable."""
        errors = FieldErrors()
        if not await verify_password(user.password_hash, current_password):
            errors.add("currentPassword", "is incorrect")
        elif new_password == current_password:
            errors.add("newPassword", "must differ from the current password")
        check_password(errors, "newPassword", new_password, user.email)
        errors.raise_if_any()

    async def change_password(
        self, user_id: int, current_password: str, new_password: str, kept_session_id: str | None = None
    ) -> User:
        user = await self.get_for_update(user_id)
        await self.check_password_change(user, current_password, new_password)
        user.password_hash = await hash_password(new_password)
        user.password_changed_at = utc_now()
        await self._publish(UserUpdated(user_id=user.id, changes=["password"], kept_session_id=kept_session_id))
        await self.session.commit()
        return user

    # ---- writes

    async def create(self, data: UserCreate, caller: Caller) -> User:
        """POST /users: roles from `roleIds` (the caller must hold every permission of them), else the role
        `user`."""
        errors = FieldErrors()
        email = normalize_email(data.email)
        first_name = clean_name(errors, "firstName", data.first_name)
        last_name = clean_name(errors, "lastName", data.last_name)
        check_password(errors, "password", data.password, email)
        if data.role_ids is not None:
            roles = await self.resolve_roles(errors, "roleIds", data.role_ids)
            await require_may_grant(self.session, caller, roles)  # before naming unknown ids or taken emails
        else:
            roles = await self._default_roles()
        errors.raise_if_any()
        return await self._insert(
            email=email,
            password=data.password,
            first_name=first_name,
            last_name=last_name,
            phone=data.phone,
            is_active=data.is_active,
            is_email_verified=data.is_email_verified,
            roles=roles,
        )

    async def register(self, new_user: NewUser) -> User:
        """Self-service registration (through the auth module): an active user with the role `user`."""
        errors = FieldErrors()
        email = normalize_email(new_user.email)
        first_name = clean_name(errors, "firstName", new_user.first_name)
        last_name = clean_name(errors, "lastName", new_user.last_name)
        check_password(errors, "password", new_user.password, email)
        errors.raise_if_any()
        return await self._insert(
            email=email,
            password=new_user.password,
            first_name=first_name,
            last_name=last_name,
            phone=new_user.phone,
            is_active=True,
            is_email_verified=False,
            roles=await self._default_roles(),
        )

    async def insert_unchecked(
        self, *, email: str, password_hash: str, first_name: str, last_name: str, roles: list[Role]
    ) -> User:
        """For the seed only: the documented development default password skips the policy, and demo users
        share one hash computed once."""
        return await self._insert(
            email=normalize_email(email),
            password_hash=password_hash,
            first_name=first_name,
            last_name=last_name,
            phone=None,
            is_active=True,
            is_email_verified=True,
            roles=roles,
        )

    async def update(
        self, user_id: int, data: UserUpdate, caller: Caller, precondition: Precondition[User] | None = None
    ) -> User:
        """PATCH /users/{id}. Which fields the caller may send is the controller's decision; the no-escalation
        rule is checked here, before anything else about the account, then `precondition`. A user changing
        their own password proves the current one, and a wrong one counts as a failed sign-in."""
        user = await self.get_for_update(user_id)
        await require_authority_over(self.session, caller, user)
        await check(precondition, user)
        errors = FieldErrors()
        changes: dict[str, Any] = {}
        if present(data.email):
            email = normalize_email(data.email)
            if email != user.email:
                changes["email"] = email
        if present(data.first_name):
            changes["first_name"] = clean_name(errors, "firstName", data.first_name)
        if present(data.last_name):
            changes["last_name"] = clean_name(errors, "lastName", data.last_name)
        if present(data.phone):
            changes["phone"] = data.phone
        if present(data.is_active):
            changes["is_active"] = data.is_active
        if present(data.is_email_verified):
            changes["is_email_verified"] = data.is_email_verified
        if present(data.password):
            check_password(errors, "password", data.password, changes.get("email", user.email))
        if changes.get("is_active") is False or present(data.role_ids):
            await self._lock_admin_role()  # before the roles' shared locks: never upgrade a shared lock
        new_roles = await self.resolve_roles(errors, "roleIds", data.role_ids) if present(data.role_ids) else None
        if new_roles is not None:
            await require_may_grant(self.session, caller, new_roles)
        proves_current = caller.user_id == user.id and present(data.password)
        if proves_current and not present(data.current_password):
            errors.add("currentPassword", "is required to change your own password")
        errors.raise_if_any()
        if proves_current:
            await self._verify_current_password(user, data.current_password)

        if "email" in changes and await self.email_exists(changes["email"]):
            raise EmailTaken()
        changed = list(differences(user, changes))
        roles_changed = new_roles is not None and {r.id for r in new_roles} != {r.id for r in user.roles}
        deactivating = "is_active" in changed and not changes["is_active"]
        if deactivating or (roles_changed and new_roles is not None and not _grants_admin(new_roles)):
            await self._ensure_not_last_admin(user)

        apply_changes(user, {attr: changes[attr] for attr in changed})
        if present(data.password):
            user.password_hash = await hash_password(data.password)
            user.password_changed_at = utc_now()
            changed.append("password_hash")
        if roles_changed and new_roles is not None:
            user.roles = new_roles
            user.updated_at = utc_now()  # a change of the association alone does not touch the row
        if not changed and not roles_changed:
            return user
        await flush_or_conflict(self.session, "users", "email", EmailTaken)
        if changed:
            await self._publish(UserUpdated(user_id=user.id, changes=[_WIRE_NAMES[a] for a in changed]))
        if roles_changed:
            await self._publish(UserRolesChanged(user_id=user.id, roles=active_role_names(user)))
        if deactivating:
            await self._publish(UserDeactivated(user_id=user.id))
        if deactivating or roles_changed or "password_hash" in changed:
            await self.revocations.revoke_user_tokens(user.id)
        await self.session.commit()
        return user

    async def _verify_current_password(self, user: User, current_password: str | msgspec.UnsetType) -> None:
        await self.throttle.check(user.email, None)
        if not present(current_password) or not await verify_password(user.password_hash, current_password):
            await self.throttle.failed(user.email, None)
            raise ValidationFailed({"currentPassword": ["is incorrect"]})

    async def set_roles(self, user_id: int, role_ids: Iterable[int], caller: Caller) -> User:
        """PATCH /users/{id}/roles: replace the set (at least one active role), within the caller's own
        permissions (no-escalation rule)."""
        user = await self.get_for_update(user_id)
        await require_authority_over(self.session, caller, user)
        errors = FieldErrors()
        await self._lock_admin_role()  # before the roles' shared locks: never upgrade a shared lock
        roles = await self.resolve_roles(errors, "roleIds", list(role_ids))
        await require_may_grant(self.session, caller, roles)  # before naming unknown ids
        errors.raise_if_any()
        if {r.id for r in roles} == {r.id for r in user.roles}:
            return user
        if not _grants_admin(roles):
            await self._ensure_not_last_admin(user)
        user.roles = roles
        user.updated_at = utc_now()
        await self.session.flush()
        await self._publish(UserRolesChanged(user_id=user.id, roles=active_role_names(user)))
        await self.revocations.revoke_user_tokens(user.id)
        await self.session.commit()
        return user

    async def delete(self, user_id: int, caller: Caller, precondition: Precondition[User] | None = None) -> None:
        if user_id == caller.user_id:
            raise SelfDeletion()
        user = await self.get_for_update(user_id)
        await require_authority_over(self.session, caller, user)
        await check(precondition, user)
        await self._ensure_not_last_admin(user)
        await self.session.execute(delete(UserProfile).where(UserProfile.user_id == user.id))
        await self.session.delete(user)
        await self._publish(UserDeleted(user_id=user.id, email=user.email))
        await self.revocations.revoke_user_tokens(user.id)
        await self.session.commit()

    # ---- helpers

    async def resolve_roles(self, errors: FieldErrors, field: str, role_ids: Sequence[int]) -> list[Role]:
        """The roles named by `role_ids` (deduplicated, in id order); reports unknown or inactive ids."""
        wanted = sorted(set(role_ids))
        if not wanted:
            errors.add(field, "must name at least one role")
            return []
        # A shared lock (MySQL): a role being deleted or deactivated right now is waited for, then seen as such.
        statement = (
            select(Role)
            .where(Role.id.in_(wanted))
            .order_by(Role.id)
            .with_for_update(read=True)
            .execution_options(populate_existing=True)  # the roles already loaded with the user may be stale
        )
        found = (await self.session.scalars(statement)).all()
        usable = [role for role in found if role.is_active]
        bad = sorted(set(wanted) - {role.id for role in usable})
        if bad:
            errors.add(field, f"unknown or inactive role id(s): {', '.join(map(str, bad))}")
        return usable

    async def _default_roles(self) -> list[Role]:
        role = await self.session.scalar(select(Role).where(Role.name_key == DEFAULT_ROLE, Role.is_active))
        if role is None:  # the seed creates it and it cannot be deactivated or deleted; a damaged database
            raise DefaultRoleUnavailable()
        return [role]

    async def _insert(
        self,
        *,
        email: str,
        password: str | None = None,
        password_hash: str | None = None,
        first_name: str,
        last_name: str,
        phone: str | None,
        is_active: bool,
        is_email_verified: bool,
        roles: list[Role],
    ) -> User:
        if await self.email_exists(email):
            raise EmailTaken()
        if password_hash is None:
            if password is None:
                raise ValueError("a new user needs a password or a password hash")
            password_hash = await hash_password(password)
        now = utc_now()
        user = User(
            email=email,
            password_hash=password_hash,
            first_name=first_name,
            last_name=last_name,
            phone=phone,
            is_active=is_active,
            is_email_verified=is_email_verified,
            password_changed_at=now,
            roles=roles,
        )
        self.session.add(user)
        await flush_or_conflict(self.session, "users", "email", EmailTaken)
        await self._publish(
            UserCreated(
                user_id=user.id,
                email=user.email,
                first_name=user.first_name,
                last_name=user.last_name,
                roles=active_role_names(user),
            )
        )
        await self.session.commit()
        return user

    async def active_admin_count(self) -> int:
        return await self._admin_count(only_active=True)

    async def admin_holder_count(self) -> int:
        """Users holding the admin role, active or not (the seed creates the default admin only at zero)."""
        return await self._admin_count(only_active=False)

    async def _admin_count(self, only_active: bool) -> int:
        statement = (
            select(func.count(func.distinct(User.id)))
            .select_from(User)
            .join(user_roles, user_roles.c.user_id == User.id)
            .join(Role, Role.id == user_roles.c.role_id)
            .where(Role.name_key == ADMIN_ROLE)
        )
        if only_active:
            statement = statement.where(Role.is_active, User.is_active)
        return int(await self.session.scalar(statement) or 0)

    async def _ensure_not_last_admin(self, user: User) -> None:
        """Deleting, deactivating or demoting `user` must leave at least one active administrator.

        The admin role's row is locked first: two administrators removing each other at the same moment take
        turns, and the second one counts what the first committed."""
        if not (user.is_active and _grants_admin(user.roles)):
            return
        await self._lock_admin_role()
        if await self.active_admin_count() <= 1:
            raise LastAdministrator()

    async def _lock_admin_role(self) -> None:
        """The lock behind the last-administrator rule (taking it again in one transaction is free)."""
        await lock_rows(self.session, Role, Role.name_key == ADMIN_ROLE)

    async def _publish(self, event: IntegrationEvent) -> None:
        await outbox.publish(self.session, event)


def _grants_admin(roles: Iterable[Role]) -> bool:
    return any(role.name_key == ADMIN_ROLE and role.is_active for role in roles)
