"""User, role, permission and profile request/response shapes (camelCase on the wire, unknown fields rejected).

Wire shapes check types and sizes; the service checks the rules (trimmed name lengths, the password policy,
ids that must exist). The `User` response is `modules.user.api.UserView` itself.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, UnsetType

from kernel.http.fields import MAX_ID, Email, PageOut, Phone, RequestBody, ResponseBody, Url
from modules.user.api import MAX_PASSWORD_LENGTH, UserView

NameField = str
"""Trimmed and checked against 2-50 characters by the service, with one message at any length (the 1 MiB body
limit bounds it)."""
PasswordField = Annotated[str, msgspec.Meta(max_length=MAX_PASSWORD_LENGTH)]
"""The policy (8-128 characters, …) is checked by the service; the upper bound here says the same words."""
Id = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
IdList = Annotated[list[Id], msgspec.Meta(max_length=500)]
RoleDescription = Annotated[str, msgspec.Meta(max_length=255)]
Bio = Annotated[str, msgspec.Meta(max_length=500)]
AddressLine = Annotated[str, msgspec.Meta(max_length=200)]
AddressShort = Annotated[str, msgspec.Meta(max_length=100)]
AddressCode = Annotated[str, msgspec.Meta(max_length=20)]


# ---- users


class UserCreate(RequestBody):
    email: Email
    password: PasswordField
    first_name: NameField
    last_name: NameField
    phone: Phone | None = None
    is_active: bool = True
    is_email_verified: bool = False
    role_ids: IdList | None = None


class UserUpdate(RequestBody):
    """PATCH: only the fields sent change. The user themself may send only names, phone and password, and
    a new password of their own only with the current one."""

    email: Email | UnsetType = UNSET
    password: PasswordField | UnsetType = UNSET
    current_password: PasswordField | UnsetType = UNSET
    first_name: NameField | UnsetType = UNSET
    last_name: NameField | UnsetType = UNSET
    phone: Phone | UnsetType | None = UNSET
    is_active: bool | UnsetType = UNSET
    is_email_verified: bool | UnsetType = UNSET
    role_ids: IdList | UnsetType = UNSET


SELF_EDITABLE = frozenset({"first_name", "last_name", "phone", "password", "current_password"})


class RoleAssignment(RequestBody):
    role_ids: IdList


class UserPage(PageOut[UserView], rename={"items": "users"}):
    items: list[UserView]
    sort_keys = ("createdAt", "updatedAt", "email", "firstName", "lastName", "isActive", "lastLoginAt", "id")
    """The keys of `service.SORTABLE` (which imports this file); tests/test_openapi_document.py keeps them equal."""


class ExistsOut(ResponseBody):
    exists: bool


# ---- roles and permissions


class RoleCreate(RequestBody):
    name: NameField
    description: RoleDescription | None = None
    is_active: bool = True
    permission_ids: IdList | None = None


class RoleUpdate(RequestBody):
    """PATCH (and PUT): only the fields sent change; `permissionIds` replaces the whole set."""

    name: NameField | UnsetType = UNSET
    description: RoleDescription | UnsetType | None = UNSET
    is_active: bool | UnsetType = UNSET
    permission_ids: IdList | UnsetType = UNSET


class RoleOut(ResponseBody):
    id: int
    name: str
    description: str | None
    is_active: bool
    permissions: list[str]
    created_at: datetime
    updated_at: datetime


class RoleDetailOut(ResponseBody):
    id: int
    name: str
    description: str | None
    is_active: bool
    permissions: list[str]
    created_at: datetime
    updated_at: datetime
    users_count: int
    permissions_count: int


class RolePage(PageOut[RoleOut], rename={"items": "data"}):
    items: list[RoleOut]
    """`data` (sic): the old admin frontend reads roles from this key."""
    sort_keys = ("createdAt", "updatedAt", "name", "isActive", "id")
    """The keys of `roles.SORTABLE`; tests/test_openapi_document.py keeps them equal."""


class RoleStats(ResponseBody):
    total_roles: int
    active_roles: int
    inactive_roles: int
    total_permissions: int
    average_permissions_per_role: float


class RoleMemberOut(ResponseBody):
    id: int
    email: str
    first_name: str
    last_name: str
    is_active: bool


class PermissionOut(ResponseBody):
    id: int
    name: str
    category: str
    description: str | None


class CategoriesOut(ResponseBody):
    categories: list[str]


# ---- profiles


class Address(RequestBody):
    street: AddressLine | None = None
    city: AddressShort | None = None
    state: AddressShort | None = None
    zip_code: AddressCode | None = None
    country: AddressShort | None = None


class SocialLinks(RequestBody):
    linkedin: Url | None = None
    twitter: Url | None = None
    github: Url | None = None
    website: Url | None = None


class ProfileCreate(RequestBody):
    date_of_birth: date | None = None
    bio: Bio | None = None
    avatar: Url | None = None
    address: Address | None = None
    social_links: SocialLinks | None = None
    preferences: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None


class ProfileUpdate(RequestBody):
    """PATCH: only the fields sent change; an object field replaces the whole object."""

    date_of_birth: date | UnsetType | None = UNSET
    bio: Bio | UnsetType | None = UNSET
    avatar: Url | UnsetType | None = UNSET
    address: Address | UnsetType | None = UNSET
    social_links: SocialLinks | UnsetType | None = UNSET
    preferences: dict[str, Any] | UnsetType | None = UNSET
    metadata: dict[str, Any] | UnsetType | None = UNSET


class ProfileOut(ResponseBody):
    id: int
    user_id: int
    date_of_birth: date | None
    bio: str | None
    avatar: str | None
    address: dict[str, Any] | None
    social_links: dict[str, Any] | None
    preferences: dict[str, Any]
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
