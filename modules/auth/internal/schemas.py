"""Auth request and response shapes. Token fields keep the old snake_case names the old clients read."""

from __future__ import annotations

from typing import Annotated

import msgspec

from kernel.http.fields import Email, Phone, RequestBody, ResponseBody
from modules.user.api import UserView

Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Token = Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]
AnyEmail = Annotated[str, msgspec.Meta(min_length=1, max_length=254)]
"""Login accepts any string as the email: a malformed one simply matches no user (same 401)."""


class LoginRequest(RequestBody):
    email: AnyEmail
    password: Password


class RegisterRequest(RequestBody):
    """Shape only; the user module applies the name, phone and password rules (one policy everywhere)."""

    email: Email
    password: Password
    first_name: Name
    last_name: Name
    phone: Phone | None = None


class RefreshRequest(RequestBody):
    refresh_token: Token


class LogoutRequest(RequestBody):
    refresh_token: Token | None = None


class ValidateTokenRequest(RequestBody):
    token: Token


class ChangePasswordRequest(RequestBody):
    current_password: Password
    new_password: Password


class AuthResponse(msgspec.Struct, kw_only=True):
    access_token: str
    token: str
    refresh_token: str
    token_type: str
    expires_in: int = msgspec.field(name="expiresIn")
    user: UserView


class MessageOut(ResponseBody):
    message: str
