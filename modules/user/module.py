"""The user module: what it is, what it needs, how it is assembled. Only bootstrap imports this."""

from __future__ import annotations

from functools import partial

from litestar import Router
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.http.health import module_health_route
from kernel.modules import AssembledModule, DatabaseSpec, ModuleContext, ModuleDescriptor
from modules.user.api import UserAccounts
from modules.user.events import ALL_EVENTS
from modules.user.internal.accounts import SqlUserAccounts
from modules.user.internal.controllers import (
    PermissionController,
    ProfileController,
    RoleController,
    UserController,
)
from modules.user.internal.models import UserBase, outbox
from modules.user.internal.profiles import ProfileService
from modules.user.internal.roles import PermissionService, RoleService
from modules.user.internal.seed import seed_users
from modules.user.internal.service import UserService


def assemble(context: ModuleContext) -> AssembledModule:
    """User needs no other module; it writes revocations to the process's shared revocation list."""
    revocations = context.security.revocations

    def provide_user_service(user_db_session: NamedDependency[AsyncSession]) -> UserService:
        return UserService(user_db_session, revocations)

    def provide_role_service(user_db_session: NamedDependency[AsyncSession]) -> RoleService:
        return RoleService(user_db_session, revocations)

    def provide_permission_service(user_db_session: NamedDependency[AsyncSession]) -> PermissionService:
        return PermissionService(user_db_session)

    def provide_profile_service(user_db_session: NamedDependency[AsyncSession]) -> ProfileService:
        return ProfileService(user_db_session)

    routes = Router(
        path="/",
        route_handlers=[
            module_health_route("/users/health", "user"),
            UserController,
            RoleController,
            PermissionController,
            ProfileController,
        ],
        dependencies={
            "user_db_session": context.session_dependency(),
            "user_service": Provide(provide_user_service, sync_to_thread=False),
            "role_service": Provide(provide_role_service, sync_to_thread=False),
            "permission_service": Provide(provide_permission_service, sync_to_thread=False),
            "profile_service": Provide(provide_profile_service, sync_to_thread=False),
        },
    )
    accounts: UserAccounts = SqlUserAccounts(context.session_maker, revocations)
    return AssembledModule(routes=[routes], provides={UserAccounts: accounts}, seed=partial(seed_users, context))


descriptor = ModuleDescriptor(
    name="user",
    summary="Identity: users, roles, permissions, role assignment and profiles",
    database=DatabaseSpec(metadata=UserBase.metadata, default_file="shared_user.sqlite", outbox=outbox),
    route_prefixes=("/users", "/roles", "/permissions", "/profiles"),
    provides=(UserAccounts,),
    publishes=ALL_EVENTS,
    assemble=assemble,
)
