"""Auth module descriptor. Only bootstrap imports this."""

from __future__ import annotations

from kernel.http.health import module_health_route
from kernel.modules import DatabaseSpec, ModuleContext, ModuleDescriptor
from modules.auth.api import SessionControl
from modules.auth.events import ALL_EVENTS
from modules.auth.internal.controllers import AuthController
from modules.auth.internal.handlers import SUBSCRIPTIONS
from modules.auth.internal.models import AuthBase, outbox
from modules.auth.internal.service import SqlSessionControl
from modules.user.api import UserDirectory


def _session_control(context: ModuleContext) -> SqlSessionControl:
    # The user directory is looked up on use: in split mode it is bound after this module starts.
    return SqlSessionControl(
        context.session_maker,
        lambda: context.interfaces.get(UserDirectory),  # type: ignore[type-abstract]
        context.security,
    )


descriptor = ModuleDescriptor(
    name="auth",
    summary="Sign-in, sessions, access and refresh tokens, login protection",
    depends_on=("user",),
    database=DatabaseSpec(metadata=AuthBase.metadata, default_file="shared_user.sqlite", outbox=outbox),
    route_prefixes=("/auth",),
    route_handlers=[module_health_route("/auth/health", "auth"), AuthController],
    publishes=ALL_EVENTS,
    subscriptions=SUBSCRIPTIONS,
    provides={SessionControl: _session_control},
    signs_tokens=True,
)
