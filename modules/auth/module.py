"""The auth module: what it is, what it needs, how it is assembled. Only bootstrap imports this."""

from __future__ import annotations

from litestar import Router
from litestar.di import NamedDependency, Provide
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.http.health import module_health_route
from kernel.modules import AssembledModule, DatabaseSpec, ModuleContext, ModuleDescriptor
from kernel.security.throttle import LoginThrottle
from modules.auth.api import SessionControl
from modules.auth.events import ALL_EVENTS
from modules.auth.internal.controllers import AuthController
from modules.auth.internal.handlers import SUBSCRIBES_TO, UserEventHandlers
from modules.auth.internal.models import AuthBase, inbox, outbox
from modules.auth.internal.revocations import RevocationSync
from modules.auth.internal.service import AuthService, SqlSessionControl
from modules.auth.internal.settings import AuthSettings
from modules.user.api import UserAccounts


def assemble(context: ModuleContext, *, users: UserAccounts) -> AssembledModule:
    """Auth checks credentials and registers accounts through the user module's `UserAccounts`."""
    settings = AuthSettings.read(context.settings)
    throttle = LoginThrottle(context.security.store)

    def auth_service(session: AsyncSession) -> AuthService:
        return AuthService(session, users, context.security, throttle, settings)

    def provide_auth_service(auth_db_session: NamedDependency[AsyncSession]) -> AuthService:
        return auth_service(auth_db_session)

    routes = Router(
        path="/",
        route_handlers=[module_health_route("/auth/health", "auth"), AuthController],
        dependencies={
            "auth_db_session": context.session_dependency(),
            "auth_service": Provide(provide_auth_service, sync_to_thread=False),
        },
    )
    sessions: SessionControl = SqlSessionControl(context.session_maker, auth_service)
    revocations = context.security.revocations
    return AssembledModule(
        routes=[routes],
        provides={SessionControl: sessions},
        subscriptions=UserEventHandlers(revocations).subscriptions(),
        background=[RevocationSync(context.session_maker, revocations)],
    )


descriptor = ModuleDescriptor(
    name="auth",
    summary="Sign-in, sessions, access and refresh tokens, login protection",
    depends_on=("user",),
    database=DatabaseSpec(metadata=AuthBase.metadata, default_file="shared_user.sqlite", outbox=outbox, inbox=inbox),
    route_prefixes=("/auth",),
    provides=(SessionControl,),
    publishes=ALL_EVENTS,
    subscribes_to=SUBSCRIBES_TO,
    signs_tokens=True,
    assemble=assemble,
)
