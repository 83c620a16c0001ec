"""The sign-in's and the directory's `UserView` (one joined query read as rows) is the view the ORM mapping
gives, for every shape of roles: several roles in order, an inactive one, one without permissions, none."""

from __future__ import annotations

import pytest
from litestar import Litestar
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from modules.user.api import UserView
from modules.user.internal.mappers import user_view
from modules.user.internal.models import Permission, Role, User
from modules.user.internal.views import user_view_by_id
from tests.user.factories import seed, user_context


async def both_views(app: Litestar, user_id: int) -> tuple[UserView | None, UserView | None]:
    async with user_context(app).session_maker() as session:
        rows_view = await user_view_by_id(await session.connection(), user_id)
        user = await session.scalar(
            select(User).where(User.id == user_id).options(selectinload(User.roles).selectinload(Role.permissions))
        )
        return rows_view, user_view(user) if user is not None else None


@pytest.mark.parametrize("roles", [("admin",), ("user", "spare", "dormant"), ()], ids=["admin", "mixed", "none"])
async def test_the_row_view_is_the_orm_view(app: Litestar, roles: tuple[str, ...]) -> None:
    await seed(app)
    async with user_context(app).session_maker() as session:
        permissions = list(await session.scalars(select(Permission).order_by(Permission.id).limit(3)))
        extra = {
            "spare": Role(name="spare", name_key="spare", description=None, is_active=True, permissions=[]),
            "dormant": Role(
                name="dormant", name_key="dormant", description="off", is_active=False, permissions=permissions
            ),
        }
        by_name = {role.name: role for role in await session.scalars(select(Role))} | extra
        user = User(
            email="viewed@example.com",
            password_hash="not-a-hash",
            first_name="View",
            last_name="Ed",
            phone="+4912345",
            roles=[by_name[name] for name in roles],
        )
        session.add(user)
        await session.commit()
        user_id = user.id

    rows_view, orm_view = await both_views(app, user_id)
    assert rows_view is not None
    assert rows_view == orm_view
    assert [role.name for role in rows_view.roles] == sorted(roles, key=lambda name: by_name[name].id)
    if roles == ("admin",):
        assert len(rows_view.roles[0].permissions) > 10


async def test_no_such_user_has_no_view(app: Litestar) -> None:
    await seed(app)
    assert await both_views(app, 999_999) == (None, None)
