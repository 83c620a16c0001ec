"""Auth HTTP routes: parse, call the service, shape the response, declare access. `auth_service` is bound by
the module's assembly (`module.py`)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from kernel.contracts.errors import Unauthorized
from kernel.http.access import AUTHENTICATED, PUBLIC
from kernel.http.envelope import RAW_BODY
from kernel.http.rate_limit import rate_limited
from kernel.security.principal import Principal
from kernel.security.throttle import RateLimit
from modules.auth.internal.schemas import (
    AuthResponse,
    ChangePasswordRequest,
    LoginRequest,
    LogoutRequest,
    MessageOut,
    RefreshRequest,
    RegisterRequest,
)
from modules.auth.internal.service import AuthService, ClientInfo, SignedIn
from modules.user.api import NewUser, UserNotFound, UserView

# Per client IP (docs/api.md §3.8). Login has its own limits on failed attempts (kernel.security.throttle).
REGISTER_LIMIT = RateLimit("auth:register", limit=20, window_seconds=60 * 60)
REFRESH_LIMIT = RateLimit("auth:refresh", limit=120, window_seconds=60)
VALIDATE_TOKEN_LIMIT = RateLimit("auth:validate-token", limit=600, window_seconds=60)


def client_info(request: Request[Any, Any, Any]) -> ClientInfo:
    return ClientInfo(ip=request.client.host if request.client else None, user_agent=request.headers.get("user-agent"))


def auth_response(signed_in: SignedIn) -> AuthResponse:
    return AuthResponse(
        access_token=signed_in.access_token,
        token=signed_in.access_token,
        refresh_token=signed_in.refresh_token,
        token_type="Bearer",  # noqa: S106 - the token scheme, not a secret
        expires_in=signed_in.expires_in,
        user=signed_in.user,
    )


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]

    @post("/login", opt=PUBLIC, status_code=200, summary="Sign in with email and password")
    async def login(
        self, request: Request[Any, Any, Any], auth_service: NamedDependency[AuthService], data: JSONBody[LoginRequest]
    ) -> AuthResponse:
        return auth_response(await auth_service.login(data.email, data.password, client_info(request)))

    @post(
        "/register",
        opt={**PUBLIC, **rate_limited(REGISTER_LIMIT)},
        status_code=201,
        summary="Create an account (role `user`) and sign in",
    )
    async def register(
        self,
        request: Request[Any, Any, Any],
        auth_service: NamedDependency[AuthService],
        data: JSONBody[RegisterRequest],
    ) -> AuthResponse:
        new_user = NewUser(
            email=data.email,
            password=data.password,
            first_name=data.first_name,
            last_name=data.last_name,
            phone=data.phone,
        )
        return auth_response(await auth_service.register(new_user, client_info(request)))

    @post(
        "/refresh",
        opt={**PUBLIC, **rate_limited(REFRESH_LIMIT)},
        status_code=200,
        summary="Trade a refresh token for new tokens (rotated)",
    )
    async def refresh(self, auth_service: NamedDependency[AuthService], data: JSONBody[RefreshRequest]) -> AuthResponse:
        return auth_response(await auth_service.refresh(data.refresh_token))

    @post("/logout", opt=AUTHENTICATED, status_code=200, summary="End this session (and the refresh token's)")
    async def logout(
        self,
        auth_service: NamedDependency[AuthService],
        current_principal: NamedDependency[Principal],
        data: JSONBody[LogoutRequest | None] = None,
    ) -> MessageOut:
        await auth_service.logout(current_principal, data.refresh_token if data else None)
        return MessageOut(message="Logged out successfully")

    @get("/profile", opt=AUTHENTICATED, summary="The signed-in user, with roles and permissions")
    async def profile(
        self, auth_service: NamedDependency[AuthService], current_principal: NamedDependency[Principal]
    ) -> UserView:
        user = await auth_service.users.get_user(current_principal.user_id)
        if user is None:
            raise UserNotFound()
        return user

    @post(
        "/validate-token",
        opt={**PUBLIC, **rate_limited(VALIDATE_TOKEN_LIMIT)},
        status_code=200,
        summary="Check an access token; returns its user",
        description='Body `{"token": "<access token>"}`. Whatever is wrong (the body, the token, its user) is '
        'the same 401 "Invalid token".',
    )
    async def validate_token(
        self, auth_service: NamedDependency[AuthService], request: Request[Any, Any, Any]
    ) -> UserView:
        token = _token_in(await request.body())
        if token is None:
            raise Unauthorized("Invalid token")
        try:
            principal = await auth_service.security.verifier.verify(token)
        except Unauthorized:
            raise Unauthorized("Invalid token") from None
        user = await auth_service.users.get_user(principal.user_id)
        if user is None or not user.is_active:
            raise Unauthorized("Invalid token")
        return user

    @post("/change-password", opt=AUTHENTICATED, status_code=200, summary="Change your password")
    async def change_password(
        self,
        auth_service: NamedDependency[AuthService],
        current_principal: NamedDependency[Principal],
        data: JSONBody[ChangePasswordRequest],
    ) -> MessageOut:
        await auth_service.change_password(current_principal, data.current_password, data.new_password)
        return MessageOut(message="Password changed successfully")

    @get(
        "/.well-known/jwks.json",
        opt={**PUBLIC, RAW_BODY: True},
        summary="Public keys that verify access tokens (JWKS, not enveloped)",
    )
    async def jwks(self, auth_service: NamedDependency[AuthService]) -> dict[str, Any]:
        return auth_service.security.keys.jwks()


def _token_in(body: bytes) -> str | None:
    """The `token` of a validate-token body, or None for any body that has no string there."""
    try:
        document = msgspec.json.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):  # bad UTF-8 is not a DecodeError
        return None
    token = document.get("token") if isinstance(document, dict) else None
    return token if isinstance(token, str) else None
