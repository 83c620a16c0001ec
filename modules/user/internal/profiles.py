"""Profiles: one per user, read and written by the owner or by holders of `users.update`; another account's
profile is written only by a caller holding every permission of that account (the no-escalation rule)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.contracts.changes import apply_changes
from kernel.contracts.errors import FieldErrors
from kernel.contracts.text import optional_text
from kernel.db.locking import flush_or_conflict, get_locked, lock_rows
from kernel.http.fields import present
from modules.user.api import UserNotFound
from modules.user.internal.errors import ProfileExists, ProfileNotFound
from modules.user.internal.escalation import Caller, require_authority_over
from modules.user.internal.models import User, UserProfile
from modules.user.internal.schemas import Address, ProfileCreate, ProfileUpdate, SocialLinks

MAX_DOCUMENT_CHARS = 2000
MAX_DOCUMENT_DEPTH = 10
"""Nesting of a free-form object; MariaDB's JSON check refuses documents nested 32 deep."""


def _check_birth_date(errors: FieldErrors, value: date | None) -> date | None:
    if value is not None and value > datetime.now(UTC).date():
        errors.add("dateOfBirth", "must not be in the future")
    return value


def _document(errors: FieldErrors, field: str, value: dict[str, Any] | None) -> dict[str, Any] | None:
    """A free-form object (preferences, metadata), bounded so a profile row stays small."""
    if value is None:
        return None
    if len(msgspec.json.encode(value)) > MAX_DOCUMENT_CHARS:
        errors.add(field, f"must be at most {MAX_DOCUMENT_CHARS} characters as JSON")
    elif _depth(value) > MAX_DOCUMENT_DEPTH:
        errors.add(field, f"must be nested at most {MAX_DOCUMENT_DEPTH} levels deep")
    return value


def _depth(value: Any) -> int:
    """Nesting depth of objects and arrays (iterative: a 2,000-character document can nest 1,000 deep)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth + 1)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _object(value: Address | SocialLinks | None) -> dict[str, Any] | None:
    """A typed sub-object as stored: camelCase keys, blank and absent entries dropped."""
    if value is None:
        return None
    document: dict[str, Any] = msgspec.to_builtins(value)
    cleaned = {key: item.strip() for key, item in document.items() if isinstance(item, str) and item.strip()}
    return cleaned or None


class ProfileService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int) -> UserProfile:
        await self.ensure_user(user_id)
        profile = await self._find(user_id)
        if profile is None:
            raise ProfileNotFound()
        return profile

    async def get_for_update(self, user_id: int, caller: Caller) -> UserProfile:
        """The profile, locked until this transaction ends (concurrent changes take turns), once the caller
        may write it."""
        await self._authorize(user_id, caller)
        profile = await get_locked(self.session, UserProfile, UserProfile.user_id == user_id)
        if profile is None:
            raise ProfileNotFound()
        return profile

    async def create(self, user_id: int, data: ProfileCreate, caller: Caller) -> UserProfile:
        # Locking the user's row makes a concurrent deletion of the user wait for us, or us see it.
        if not await lock_rows(self.session, User, User.id == user_id):
            raise UserNotFound()
        await self._authorize(user_id, caller)
        errors = FieldErrors()
        profile = UserProfile(
            user_id=user_id,
            date_of_birth=_check_birth_date(errors, data.date_of_birth),
            bio=optional_text(data.bio),
            avatar=data.avatar,
            address=_object(data.address),
            social_links=_object(data.social_links),
            preferences=_document(errors, "preferences", data.preferences),
            extra=_document(errors, "metadata", data.metadata),
        )
        errors.raise_if_any()
        if await self._find(user_id) is not None:
            raise ProfileExists()
        self.session.add(profile)
        await flush_or_conflict(self.session, "user_profiles", "user_id", ProfileExists)
        await self.session.commit()
        return profile

    async def update(self, user_id: int, data: ProfileUpdate, caller: Caller) -> UserProfile:
        profile = await self.get_for_update(user_id, caller)
        errors = FieldErrors()
        changes: dict[str, Any] = {}
        if present(data.date_of_birth):
            changes["date_of_birth"] = _check_birth_date(errors, data.date_of_birth)
        if present(data.bio):
            changes["bio"] = optional_text(data.bio)
        if present(data.avatar):
            changes["avatar"] = data.avatar
        if present(data.address):
            changes["address"] = _object(data.address)
        if present(data.social_links):
            changes["social_links"] = _object(data.social_links)
        if present(data.preferences):
            changes["preferences"] = _document(errors, "preferences", data.preferences)
        if present(data.metadata):
            changes["extra"] = _document(errors, "metadata", data.metadata)
        errors.raise_if_any()
        if apply_changes(profile, changes):
            await self.session.commit()
        return profile

    async def delete(self, user_id: int, caller: Caller) -> None:
        profile = await self.get_for_update(user_id, caller)
        await self.session.delete(profile)
        await self.session.commit()

    async def _authorize(self, user_id: int, caller: Caller) -> None:
        """404 for an unknown user; 403 for another account holding a permission the caller does not."""
        user = await self.session.get(User, user_id)
        if user is None:
            raise UserNotFound()
        await require_authority_over(self.session, caller, user)

    async def ensure_user(self, user_id: int) -> None:
        if await self.session.scalar(select(User.id).where(User.id == user_id)) is None:
            raise UserNotFound()

    async def _find(self, user_id: int) -> UserProfile | None:
        found: UserProfile | None = await self.session.scalar(select(UserProfile).where(UserProfile.user_id == user_id))
        return found
