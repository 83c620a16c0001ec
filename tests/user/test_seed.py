"""The first administrator: the documented default only in development, never in production."""

from __future__ import annotations

import dataclasses
import logging

import httpx
import pytest
from litestar import Litestar

from kernel.modules import ModuleContext
from kernel.settings import SettingsError
from modules.user.api import UserAccounts
from modules.user.internal.seed import seed_users
from tests.helpers import provided
from tests.user.factories import user_context


def with_settings(app: Litestar, production: bool, admin_password: str | None = None) -> ModuleContext:
    context = user_context(app)
    environ = dict(context.settings.environ)
    environ.pop("FREIGHTDESK_ADMIN_PASSWORD", None)
    if admin_password is not None:
        environ["FREIGHTDESK_ADMIN_PASSWORD"] = admin_password
    settings = dataclasses.replace(context.settings, env="production" if production else "development", environ=environ)
    return dataclasses.replace(context, settings=settings)


async def test_development_creates_the_default_admin_with_a_warning(
    client: httpx.AsyncClient, app: Litestar, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="freightdesk.user"):
        await seed_users(with_settings(app, production=False), False)
    assert "DEFAULT PASSWORD" in caplog.text
    assert "admin123" not in caplog.text
    users = provided(app, UserAccounts)
    admin = await users.authenticate("admin@example.com", "admin123")
    assert admin is not None
    assert admin.role_names == ("admin",)
    assert len(admin.permission_names) == 40


async def test_production_refuses_the_default_password_and_generates_one(
    client: httpx.AsyncClient, app: Litestar, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed_users(with_settings(app, production=True), False)
    printed = capsys.readouterr().err
    assert "admin@example.com" in printed
    generated = printed.split("generated password: ", 1)[1].split()[0]
    users = provided(app, UserAccounts)
    assert await users.authenticate("admin@example.com", "admin123") is None
    assert await users.authenticate("admin@example.com", generated) is not None
    await seed_users(with_settings(app, production=True), False)  # an admin exists: nothing printed again
    assert capsys.readouterr().err == ""


async def test_production_uses_the_configured_password_when_it_passes_the_policy(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    with pytest.raises(SettingsError, match="is too common"):
        await seed_users(with_settings(app, production=True, admin_password="admin123"), False)
    await seed_users(with_settings(app, production=True, admin_password="Correct-Horse-42"), False)
    users = provided(app, UserAccounts)
    assert await users.authenticate("admin@example.com", "Correct-Horse-42") is not None


async def test_no_second_default_admin_while_a_deactivated_admin_exists(
    client: httpx.AsyncClient, app: Litestar, caplog: pytest.LogCaptureFixture
) -> None:
    """Reference data (docs/reference-data.md): the default admin is created only when no user holds the admin role."""
    from sqlalchemy import func, select, update

    from modules.user.internal.models import User

    await seed_users(with_settings(app, production=False), False)
    async with user_context(app).session_maker() as session:
        await session.execute(update(User).values(is_active=False))
        await session.commit()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="freightdesk.user"):
        await seed_users(with_settings(app, production=False), False)
    assert "DEFAULT PASSWORD" not in caplog.text
    async with user_context(app).session_maker() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 1
