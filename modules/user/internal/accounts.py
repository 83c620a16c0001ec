"""In-process implementation of `UserAccounts`: each call opens its own session and returns DTOs."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from kernel.security.revocation import Revocations
from modules.user.api import NewUser, UserView
from modules.user.internal.mappers import user_view
from modules.user.internal.models import User
from modules.user.internal.service import UserService
from modules.user.internal.views import user_view_by_id


class SqlUserAccounts:
    def __init__(self, session_maker: async_sessionmaker[AsyncSession], revocations: Revocations) -> None:
        self._session_maker = session_maker
        self._revocations = revocations

    async def get_user(self, user_id: int) -> UserView | None:
        async with self._session_maker() as session:
            return await user_view_by_id(await session.connection(), user_id)

    async def find_by_email(self, email: str) -> UserView | None:
        async with self._session_maker() as session:
            user = await UserService(session, self._revocations).find_by_email(email)
            return user_view(user) if user is not None else None

    async def exists(self, user_id: int) -> bool:
        async with self._session_maker() as session:
            return await session.scalar(select(User.id).where(User.id == user_id)) is not None

    async def authenticate(self, email: str, password: str) -> UserView | None:
        async with self._session_maker() as session:
            return await UserService(session, self._revocations).authenticate(email, password)

    async def register_user(self, new_user: NewUser) -> UserView:
        async with self._session_maker() as session:
            return user_view(await UserService(session, self._revocations).register(new_user))

    async def check_password_change(self, user_id: int, current_password: str, new_password: str) -> None:
        async with self._session_maker() as session:
            service = UserService(session, self._revocations)
            await service.check_password_change(await service.get(user_id), current_password, new_password)

    async def change_password(
        self, user_id: int, current_password: str, new_password: str, kept_session_id: str | None = None
    ) -> None:
        async with self._session_maker() as session:
            service = UserService(session, self._revocations)
            await service.change_password(user_id, current_password, new_password, kept_session_id)
