"""Reference data (permissions, roles), the first administrator and, on request, demo users.

Idempotent: every start may run it. Only what is missing is added: permissions by name, roles by name (a new
role gets its seeded permissions; the `admin` role also gains any permission added later), the default
administrator only while no user holds `admin`, demo users only when their email is free.

Demo users share the password `Freightdesk-Demo-1`, never logged. The accounts are listed in the README and
docs/reference-data.md; tests/docs/test_demo_accounts.py keeps those tables and this list in step.
"""

from __future__ import annotations

import logging
import secrets
import sys

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.modules import ModuleContext
from kernel.settings import SettingsError
from modules.user.internal.models import ADMIN_ROLE, Permission, Role
from modules.user.internal.password_policy import password_problems
from modules.user.internal.passwords import hash_password
from modules.user.internal.service import UserService

log = logging.getLogger("freightdesk.user")

ADMIN_EMAIL = "admin@example.com"
DEFAULT_ADMIN_PASSWORD = "admin123"  # noqa: S105
"""The documented default login of the system being replaced; development only."""
ADMIN_PASSWORD_SETTING = "FREIGHTDESK_ADMIN_PASSWORD"  # noqa: S105 (a setting name)
DEMO_PASSWORD = "Freightdesk-Demo-1"  # noqa: S105 (documented demo login)

_ACTIONS: dict[str, tuple[str, ...]] = {
    "users": ("create", "read", "update", "delete", "list"),
    "roles": ("create", "read", "update", "delete", "assign", "list"),
    "customers": ("create", "read", "update", "delete", "list"),
    "carriers": ("create", "read", "update", "delete", "list"),
    "pricing": ("view", "update", "calculate", "approve"),
    "system": ("config", "logs", "monitoring", "backup"),
    "analytics": ("view", "export", "reports"),
    "settings": ("view", "update", "advanced"),
    "content": ("create", "read", "update", "delete", "publish"),
}
PERMISSIONS: list[tuple[str, str, str]] = [
    (f"{resource}.{action}", resource.upper(), f"{action.capitalize()} {resource}")
    for resource, actions in _ACTIONS.items()
    for action in actions
]
"""(name, category, description): the 40 permissions of docs/api.md §3."""


def _all_of(*resources: str) -> set[str]:
    return {name for name, _, _ in PERMISSIONS if name.split(".")[0] in resources}


ROLES: list[tuple[str, str, set[str]]] = [
    (ADMIN_ROLE, "Administrator: every permission", {name for name, _, _ in PERMISSIONS}),
    (
        "manager",
        "Manages customers, carriers and pricing",
        _all_of("customers", "carriers", "pricing") | {"users.read", "users.list", "analytics.view"},
    ),
    ("user", "Calculates prices and looks up carriers", {"pricing.calculate", "carriers.read", "carriers.list"}),
    ("moderator", "Manages content", _all_of("content") | {"users.read"}),
]

DEMO_USERS: list[tuple[str, str, str]] = [
    # first name, last name, role
    ("Olivia", "Bennett", ADMIN_ROLE),
    ("Marcus", "Reyes", "manager"),
    ("Priya", "Shah", "manager"),
    ("Lukas", "Meyer", "manager"),
    ("Emma", "Carter", "user"),
    ("Noah", "Kim", "user"),
    ("Sofia", "Rossi", "user"),
    ("Liam", "Okafor", "user"),
    ("Hana", "Sato", "moderator"),
    ("Diego", "Alvarez", "moderator"),
    ("Chloe", "Martin", "moderator"),
]


def demo_email(first_name: str, last_name: str) -> str:
    return f"{first_name}.{last_name}@demo.freightdesk.example".lower()


async def seed_users(context: ModuleContext, demo: bool) -> None:
    async with context.session_maker() as session:
        permissions = await _seed_permissions(session)
        roles = await _seed_roles(session, permissions)
        await session.commit()
        service = UserService(session, context.security.revocations)
        if await service.admin_holder_count() == 0:
            await _seed_admin(context, service, roles[ADMIN_ROLE])
        if demo:
            await _seed_demo_users(service, roles)


async def _seed_permissions(session: AsyncSession) -> dict[str, Permission]:
    existing = {p.name: p for p in (await session.scalars(select(Permission))).all()}
    for name, category, description in PERMISSIONS:
        if name not in existing:
            permission = Permission(name=name, category=category, description=description)
            session.add(permission)
            existing[name] = permission
    await session.flush()
    return existing


async def _seed_roles(session: AsyncSession, permissions: dict[str, Permission]) -> dict[str, Role]:
    existing = {r.name_key: r for r in (await session.scalars(select(Role))).all()}
    for name, description, granted in ROLES:
        role = existing.get(name)
        if role is None:
            role = Role(
                name=name,
                name_key=name,
                description=description,
                is_active=True,
                permissions=sorted((permissions[p] for p in granted), key=lambda p: p.name),
            )
            session.add(role)
            existing[name] = role
        elif name == ADMIN_ROLE:
            held = {p.name for p in role.permissions}
            missing = [permissions[p] for p in sorted(granted - held)]
            if missing:
                role.permissions = [*role.permissions, *missing]
    await session.flush()
    return existing


def _admin_password(context: ModuleContext) -> tuple[str, bool]:
    """The first administrator's password and whether it was generated (and must be shown once)."""
    configured = context.settings.value(ADMIN_PASSWORD_SETTING)
    if configured is not None:
        problems = password_problems(configured, ADMIN_EMAIL)
        if problems:
            raise SettingsError(f"{ADMIN_PASSWORD_SETTING}: the password {', '.join(problems)}")
        return configured, False
    if context.settings.production:
        return secrets.token_urlsafe(18), True
    return DEFAULT_ADMIN_PASSWORD, False


async def _seed_admin(context: ModuleContext, service: UserService, admin_role: Role) -> None:
    if await service.email_exists(ADMIN_EMAIL):
        log.warning(
            "no active user holds the admin role and %s exists without it; grant the role to someone", ADMIN_EMAIL
        )
        return
    password, generated = _admin_password(context)
    await service.insert_unchecked(
        email=ADMIN_EMAIL,
        password_hash=await hash_password(password),
        first_name="System",
        last_name="Administrator",
        roles=[admin_role],
    )
    if generated:
        # Shown exactly once, to the operator's terminal, never to the log.
        print(
            f"Created the first administrator {ADMIN_EMAIL} with the generated password: {password}\n"
            "Store it now; it is not shown again. Change it after the first login.",
            file=sys.stderr,
        )
    elif password == DEFAULT_ADMIN_PASSWORD:
        log.warning(
            "!!! Created the default administrator %s with the documented DEFAULT PASSWORD. "
            "Anyone who knows it can sign in: change it now, or set %s before the first start. !!!",
            ADMIN_EMAIL,
            ADMIN_PASSWORD_SETTING,
        )
    else:
        log.info("created the first administrator %s with the password from %s", ADMIN_EMAIL, ADMIN_PASSWORD_SETTING)


async def _seed_demo_users(service: UserService, roles: dict[str, Role]) -> None:
    shared_hash: str | None = None
    for first_name, last_name, role_name in DEMO_USERS:
        email = demo_email(first_name, last_name)
        if await service.email_exists(email):
            continue
        shared_hash = shared_hash or await hash_password(DEMO_PASSWORD)
        await service.insert_unchecked(
            email=email, password_hash=shared_hash, first_name=first_name, last_name=last_name, roles=[roles[role_name]]
        )
