"""Auth request and response shapes. Token fields keep the old snake_case names the old clients read."""

from __future__ import annotations

from typing import Annotated

import msgspec

from kernel.http.fields import Email, Phone, RequestBody, ResponseBody
from modules.user.api import MAX_PASSWORD_LENGTH, UserView

Password = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]
"""A password presented (login, current password): bounded only to keep junk out."""
NewPassword = Annotated[str, msgspec.Meta(max_length=MAX_PASSWORD_LENGTH)]
"""A password being set: the user module's policy applies, whose upper bound this repeats in the same words."""
Name = str
"""The user module trims and checks names (2-50 characters) with one message at any length."""
Token = Annotated[str, msgspec.Meta(min_length=1, max_length=4096)]
AnyEmail = Annotated[str, msgspec.Meta(min_length=1, max_length=254)]
"""Login accepts any string as the email: a malformed one simply matches no user (same 401)."""


class LoginRequest(RequestBody):
    email: AnyEmail
    password: Password


class RegisterRequest(RequestBody):
    """Shape only; the user module applies the name, phone and password rules (one policy everywhere)."""

    email: Email
    password: NewPassword
    first_name: Name
    last_name: Name
    phone: Phone | None = None


class RefreshRequest(RequestBody):
    refresh_token: Token


class LogoutRequest(RequestBody):
    refresh_token: Token | None = None


class ChangePasswordRequest(RequestBody):
    current_password: Password
    new_password: NewPassword


class AuthResponse(msgspec.Struct, kw_only=True):
    access_token: str
    token: str
    refresh_token: str
    token_type: str
    expires_in: int = msgspec.field(name="expiresIn")
    user: UserView


class MessageOut(ResponseBody):
    message: str
