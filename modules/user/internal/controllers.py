"""User, role, permission and profile HTTP routes: parse, call the service, shape the response, declare the
permission. The services are bound by the module's assembly (`module.py`). Owner-or-permission routes declare
AUTHENTICATED and check the owner in the handler. Every write hands the service the caller (`Caller`: id and
permissions), which applies the no-escalation rule."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter, QueryParameter

from kernel.contracts.errors import FieldErrors, Forbidden
from kernel.http.access import AUTHENTICATED, requires
from kernel.http.conditional import CONDITIONS_DEPENDENCY, ConditionalResponse, Conditions, ConditionsDependency
from kernel.http.fields import CountOut, ResourceId
from kernel.http.list_query import LimitQuery, PageQuery, SearchQuery, SortByQuery, SortOrderQuery, list_query
from kernel.paging import parse_bool, parse_list_params
from kernel.security.principal import Principal
from modules.user.api import UserView
from modules.user.internal.escalation import Caller
from modules.user.internal.mappers import (
    permission_out,
    profile_out,
    role_detail_out,
    role_member_out,
    role_out,
    user_view,
)
from modules.user.internal.models import Role, User
from modules.user.internal.profiles import ProfileService
from modules.user.internal.roles import SORTABLE as ROLE_SORTABLE
from modules.user.internal.roles import PermissionService, RoleService
from modules.user.internal.schemas import (
    SELF_EDITABLE,
    CategoriesOut,
    ExistsOut,
    PermissionOut,
    ProfileCreate,
    ProfileOut,
    ProfileUpdate,
    RoleAssignment,
    RoleCreate,
    RoleDetailOut,
    RoleMemberOut,
    RoleOut,
    RolePage,
    RoleStats,
    RoleUpdate,
    UserCreate,
    UserPage,
    UserUpdate,
)
from modules.user.internal.service import SORTABLE as USER_SORTABLE
from modules.user.internal.service import UserService

IsActiveFilter = Annotated[str | None, QueryParameter(name="isActive", description="true or false")]
RoleFilter = Annotated[str | None, QueryParameter(name="role", description="Role name (ignoring case)")]
ActiveOnlyFilter = Annotated[str | None, QueryParameter(name="activeOnly", description="true or false")]
EmailPath = Annotated[str, PathParameter(min_length=1, max_length=254)]
NamePath = Annotated[str, PathParameter(min_length=1, max_length=100)]


UserSvc = NamedDependency[UserService]
RoleSvc = NamedDependency[RoleService]
PermissionSvc = NamedDependency[PermissionService]
ProfileSvc = NamedDependency[ProfileService]
CurrentPrincipal = NamedDependency[Principal]


def _bool_filter(name: str, raw: str | None) -> bool | None:
    errors = FieldErrors()
    value = parse_bool(errors, name, raw)
    errors.raise_if_any()
    return value


def _views(users: Sequence[User]) -> list[UserView]:
    return [user_view(u) for u in users]


def _role_detail(role_service: RoleService) -> Callable[[Role], Awaitable[RoleDetailOut]]:
    """How GET /roles/{id} represents a role (with its user count): what its ETag names."""

    async def detail(role: Role) -> RoleDetailOut:
        return role_detail_out(role, await role_service.users_count(role.id))

    return detail


def _caller(principal: Principal) -> Caller:
    return Caller(user_id=principal.user_id, permissions=principal.permissions)


def _authorize_user_update(principal: Principal, user_id: int, data: UserUpdate) -> None:
    """Holders of `users.update` may change anything (roles also need `roles.assign`); the user themself only
    their names, phone and password."""
    sent = {field for field in data.__struct_fields__ if getattr(data, field) is not msgspec.UNSET}
    if not principal.has("users.update") and (principal.user_id != user_id or not sent <= SELF_EDITABLE):
        raise Forbidden("Forbidden")
    if "role_ids" in sent:
        principal.require("roles.assign")


async def _updated_role(
    role_service: RoleService, principal: Principal, conditions: Conditions, role_id: int, data: RoleUpdate
) -> RoleOut:
    """PATCH and PUT /roles/{id}: the response is the role without counts, its ETag the detail's a GET answers."""
    detail = _role_detail(role_service)
    role = await role_service.update(role_id, data, _caller(principal), conditions.precondition(detail))
    conditions.tag_as(await detail(role))
    return role_out(role)


class UserController(Controller):
    path = "/users"
    tags = ["users"]
    dependencies = CONDITIONS_DEPENDENCY

    @get("/", opt=requires("users.list"), summary="List users; search over firstName, lastName and email")
    async def list_users(
        self,
        user_service: UserSvc,
        is_active: IsActiveFilter = None,
        role: RoleFilter = None,
        page: PageQuery = None,
        limit: LimitQuery = None,
        search: SearchQuery = None,
        sort_by: SortByQuery = None,
        sort_order: SortOrderQuery = None,
    ) -> UserPage:
        errors = FieldErrors()
        active = parse_bool(errors, "isActive", is_active)
        if role is not None and len(role) > 50:
            errors.add("role", "must be at most 50 characters")
        params = parse_list_params(list_query(page, limit, search, sort_by, sort_order), USER_SORTABLE, errors)
        listed = await user_service.page(params, active, role.strip() if role and role.strip() else None)
        return UserPage.of(listed, _views(listed.items))

    @post("/", opt=requires("users.create"), summary="Create a user (role `user` unless roleIds are given)")
    async def create_user(
        self, user_service: UserSvc, current_principal: CurrentPrincipal, data: JSONBody[UserCreate]
    ) -> UserView:
        return user_view(await user_service.create(data, _caller(current_principal)))

    @get("/active", opt=requires("users.list"), summary="Every active user")
    async def active_users(self, user_service: UserSvc) -> list[UserView]:
        return _views(await user_service.active())

    @get("/count", opt=requires("users.list"), summary="How many users (optionally by isActive)")
    async def count_users(self, user_service: UserSvc, is_active: IsActiveFilter = None) -> CountOut:
        return CountOut(count=await user_service.count(_bool_filter("isActive", is_active)))

    @get("/email/{email:str}", opt=requires("users.read"), summary="Find a user by email (ignoring case)")
    async def user_by_email(self, user_service: UserSvc, email: EmailPath) -> UserView:
        return user_view(await user_service.get_by_email(email))

    @get("/exists/{email:str}", opt=requires("users.read"), summary="Whether a user has this email")
    async def user_exists(self, user_service: UserSvc, email: EmailPath) -> ExistsOut:
        return ExistsOut(exists=await user_service.email_exists(email))

    @get("/role/{role_name:str}", opt=requires("users.list"), summary="Users holding a role (by name)")
    async def users_with_role(self, user_service: UserSvc, role_name: NamePath) -> list[UserView]:
        return _views(await user_service.with_role(role_name))

    @get(
        "/{id:int}",
        opt=AUTHENTICATED,
        summary="One user (users.read, or the user themself)",
        response_class=ConditionalResponse,
    )
    async def get_user(self, user_service: UserSvc, current_principal: CurrentPrincipal, id: ResourceId) -> UserView:
        current_principal.require_self_or(id, "users.read")  # before the lookup: no probing which ids exist
        return user_view(await user_service.get(id))

    @patch(
        "/{id:int}",
        opt=AUTHENTICATED,
        summary="Change some fields (users.update; self: names, phone, password with currentPassword)",
        response_class=ConditionalResponse,
    )
    async def update_user(
        self,
        user_service: UserSvc,
        current_principal: CurrentPrincipal,
        conditions: ConditionsDependency,
        id: ResourceId,
        data: JSONBody[UserUpdate],
    ) -> UserView:
        _authorize_user_update(current_principal, id, data)  # before the lookup: no probing which ids exist
        precondition = conditions.precondition(user_view)
        return user_view(await user_service.update(id, data, _caller(current_principal), precondition))

    @patch("/{id:int}/roles", opt=requires("roles.assign"), summary="Replace the user's roles")
    async def set_user_roles(
        self,
        user_service: UserSvc,
        current_principal: CurrentPrincipal,
        id: ResourceId,
        data: JSONBody[RoleAssignment],
    ) -> UserView:
        return user_view(await user_service.set_roles(id, data.role_ids, _caller(current_principal)))

    @delete(
        "/{id:int}",
        opt=requires("users.delete"),
        summary="Delete a user",
        status_code=204,
        response_class=ConditionalResponse,
    )
    async def delete_user(
        self,
        user_service: UserSvc,
        current_principal: CurrentPrincipal,
        conditions: ConditionsDependency,
        id: ResourceId,
    ) -> None:
        await user_service.delete(id, _caller(current_principal), conditions.precondition(user_view))


class RoleController(Controller):
    path = "/roles"
    tags = ["roles"]
    dependencies = CONDITIONS_DEPENDENCY

    @get("/", opt=requires("roles.list"), summary="List roles (key `data`); search over name and description")
    async def list_roles(
        self,
        role_service: RoleSvc,
        active_only: ActiveOnlyFilter = None,
        page: PageQuery = None,
        limit: LimitQuery = None,
        search: SearchQuery = None,
        sort_by: SortByQuery = None,
        sort_order: SortOrderQuery = None,
    ) -> RolePage:
        errors = FieldErrors()
        active = parse_bool(errors, "activeOnly", active_only)
        params = parse_list_params(list_query(page, limit, search, sort_by, sort_order), ROLE_SORTABLE, errors)
        listed = await role_service.page(params, active)
        return RolePage.of(listed, [role_out(r) for r in listed.items])

    @post("/", opt=requires("roles.create"), summary="Create a role")
    async def create_role(
        self, role_service: RoleSvc, current_principal: CurrentPrincipal, data: JSONBody[RoleCreate]
    ) -> RoleOut:
        return role_out(await role_service.create(data, _caller(current_principal)))

    @get("/active", opt=requires("roles.list"), summary="Every active role")
    async def active_roles(self, role_service: RoleSvc) -> list[RoleOut]:
        return [role_out(r) for r in await role_service.active()]

    @get("/stats", opt=requires("roles.list"), summary="Counts of roles and permissions")
    async def role_stats(self, role_service: RoleSvc) -> RoleStats:
        return await role_service.stats()

    @get("/name/{name:str}", opt=requires("roles.read"), summary="Find a role by name (ignoring case)")
    async def role_by_name(self, role_service: RoleSvc, name: NamePath) -> RoleDetailOut:
        role = await role_service.get_by_name(name)
        return role_detail_out(role, await role_service.users_count(role.id))

    @get(
        "/{id:int}",
        opt=requires("roles.read"),
        summary="One role with its user and permission counts",
        response_class=ConditionalResponse,
    )
    async def get_role(self, role_service: RoleSvc, id: ResourceId) -> RoleDetailOut:
        role = await role_service.get(id)
        return role_detail_out(role, await role_service.users_count(role.id))

    @get("/{id:int}/users", opt=requires("roles.read"), summary="The users holding a role")
    async def role_members(self, role_service: RoleSvc, id: ResourceId) -> list[RoleMemberOut]:
        return [role_member_out(u) for u in await role_service.members(id)]

    @patch(
        "/{id:int}",
        opt=requires("roles.update"),
        summary="Change a role; permissionIds replaces the set",
        response_class=ConditionalResponse,
    )
    async def update_role(
        self,
        role_service: RoleSvc,
        current_principal: CurrentPrincipal,
        conditions: ConditionsDependency,
        id: ResourceId,
        data: JSONBody[RoleUpdate],
    ) -> RoleOut:
        return await _updated_role(role_service, current_principal, conditions, id, data)

    @put(
        "/{id:int}",
        opt=requires("roles.update"),
        summary="Alias of PATCH (the old clients use both)",
        response_class=ConditionalResponse,
    )
    async def replace_role(
        self,
        role_service: RoleSvc,
        current_principal: CurrentPrincipal,
        conditions: ConditionsDependency,
        id: ResourceId,
        data: JSONBody[RoleUpdate],
    ) -> RoleOut:
        return await _updated_role(role_service, current_principal, conditions, id, data)

    @delete(
        "/{id:int}",
        opt=requires("roles.delete"),
        summary="Delete a role no user holds",
        status_code=204,
        response_class=ConditionalResponse,
    )
    async def delete_role(
        self,
        role_service: RoleSvc,
        current_principal: CurrentPrincipal,
        conditions: ConditionsDependency,
        id: ResourceId,
    ) -> None:
        precondition = conditions.precondition(_role_detail(role_service))
        await role_service.delete(id, _caller(current_principal), precondition)


class PermissionController(Controller):
    path = "/permissions"
    tags = ["permissions"]

    @get("/", opt=requires("roles.read"), summary="Every permission, ordered by category and name")
    async def list_permissions(self, permission_service: PermissionSvc) -> list[PermissionOut]:
        return [permission_out(p) for p in await permission_service.all()]

    @get("/categories", opt=requires("roles.read"), summary="The permission categories")
    async def permission_categories(self, permission_service: PermissionSvc) -> CategoriesOut:
        return CategoriesOut(categories=await permission_service.categories())

    @get("/category/{category:str}", opt=requires("roles.read"), summary="Permissions of a category (any case)")
    async def permissions_in_category(
        self, permission_service: PermissionSvc, category: NamePath
    ) -> list[PermissionOut]:
        return [permission_out(p) for p in await permission_service.in_category(category)]


class ProfileController(Controller):
    """`/profiles/me` for the caller; `/profiles/{userId}` for the owner or a holder of `users.update`."""

    path = "/profiles"
    tags = ["profiles"]

    @get("/me", opt=AUTHENTICATED, summary="The caller's profile")
    async def my_profile(self, profile_service: ProfileSvc, current_principal: CurrentPrincipal) -> ProfileOut:
        return profile_out(await profile_service.get(current_principal.user_id))

    @post("/me", opt=AUTHENTICATED, summary="Create the caller's profile")
    async def create_my_profile(
        self, profile_service: ProfileSvc, current_principal: CurrentPrincipal, data: JSONBody[ProfileCreate]
    ) -> ProfileOut:
        return profile_out(await profile_service.create(current_principal.user_id, data, _caller(current_principal)))

    @patch("/me", opt=AUTHENTICATED, summary="Change the caller's profile")
    async def update_my_profile(
        self, profile_service: ProfileSvc, current_principal: CurrentPrincipal, data: JSONBody[ProfileUpdate]
    ) -> ProfileOut:
        return profile_out(await profile_service.update(current_principal.user_id, data, _caller(current_principal)))

    @delete("/me", opt=AUTHENTICATED, summary="Delete the caller's profile", status_code=204)
    async def delete_my_profile(self, profile_service: ProfileSvc, current_principal: CurrentPrincipal) -> None:
        await profile_service.delete(current_principal.user_id, _caller(current_principal))

    @get("/{user_id:int}", opt=AUTHENTICATED, summary="A user's profile (owner or users.update)")
    async def get_profile(
        self, profile_service: ProfileSvc, current_principal: CurrentPrincipal, user_id: ResourceId
    ) -> ProfileOut:
        current_principal.require_self_or(user_id, "users.update")  # before the lookup: no probing which ids exist
        await profile_service.ensure_user(user_id)
        return profile_out(await profile_service.get(user_id))

    @post("/{user_id:int}", opt=AUTHENTICATED, summary="Create a user's profile (owner or users.update)")
    async def create_profile(
        self,
        profile_service: ProfileSvc,
        current_principal: CurrentPrincipal,
        user_id: ResourceId,
        data: JSONBody[ProfileCreate],
    ) -> ProfileOut:
        current_principal.require_self_or(user_id, "users.update")  # before the lookup: no probing which ids exist
        return profile_out(await profile_service.create(user_id, data, _caller(current_principal)))

    @patch("/{user_id:int}", opt=AUTHENTICATED, summary="Change a user's profile (owner or users.update)")
    async def update_profile(
        self,
        profile_service: ProfileSvc,
        current_principal: CurrentPrincipal,
        user_id: ResourceId,
        data: JSONBody[ProfileUpdate],
    ) -> ProfileOut:
        current_principal.require_self_or(user_id, "users.update")  # before the lookup: no probing which ids exist
        return profile_out(await profile_service.update(user_id, data, _caller(current_principal)))

    @delete(
        "/{user_id:int}", opt=AUTHENTICATED, summary="Delete a user's profile (owner or users.update)", status_code=204
    )
    async def delete_profile(
        self, profile_service: ProfileSvc, current_principal: CurrentPrincipal, user_id: ResourceId
    ) -> None:
        current_principal.require_self_or(user_id, "users.update")  # before the lookup: no probing which ids exist
        await profile_service.delete(user_id, _caller(current_principal))
