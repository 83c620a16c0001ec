"""Domain errors of the user module that stay inside it (`UserNotFound` and `EmailTaken` are in api.py)."""

from __future__ import annotations

from kernel.contracts.errors import Conflict, NotFound


class RoleNotFound(NotFound):
    default_message = "Role not found"


class RoleNameTaken(Conflict):
    default_message = "Role name already exists"


class RoleInUse(Conflict):
    default_message = "Role is assigned to users; remove it from them first"


class AdminRoleProtected(Conflict):
    default_message = "The admin role cannot be deactivated or renamed"


class DefaultRoleProtected(Conflict):
    default_message = "The default role user cannot be deactivated, renamed or deleted (new accounts get it)"


class DefaultRoleUnavailable(Conflict):
    default_message = "The default role user is missing or inactive; an administrator must restore it"


class LastAdministrator(Conflict):
    default_message = "Cannot remove the last administrator"


class SelfDeletion(Conflict):
    default_message = "You cannot delete your own account"


class ProfileNotFound(NotFound):
    default_message = "Profile not found"


class ProfileExists(Conflict):
    default_message = "Profile already exists"
