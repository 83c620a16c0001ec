"""User module descriptor. Only bootstrap imports this."""

from __future__ import annotations

from kernel.http.health import module_health_route
from kernel.modules import DatabaseSpec, ModuleDescriptor
from modules.user.api import UserDirectory
from modules.user.events import ALL_EVENTS
from modules.user.internal.controllers import (
    USER_DEPENDENCIES,
    PermissionController,
    ProfileController,
    RoleController,
    UserController,
)
from modules.user.internal.directory import SqlUserDirectory
from modules.user.internal.models import UserBase, outbox
from modules.user.internal.seed import seed_users

descriptor = ModuleDescriptor(
    name="user",
    summary="Identity: users, roles, permissions, role assignment and profiles",
    database=DatabaseSpec(metadata=UserBase.metadata, default_file="shared_user.sqlite", outbox=outbox),
    route_prefixes=("/users", "/roles", "/permissions", "/profiles"),
    route_handlers=[
        module_health_route("/users/health", "user"),
        UserController,
        RoleController,
        PermissionController,
        ProfileController,
    ],
    publishes=ALL_EVENTS,
    provides={UserDirectory: lambda context: SqlUserDirectory(context.session_maker, context.security.revocations)},
    dependencies=USER_DEPENDENCIES,
    seed=seed_users,
)
