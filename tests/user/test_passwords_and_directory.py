"""Password storage and the in-process `UserAccounts` the auth module uses."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import bcrypt
import httpx
import pytest
from argon2 import PasswordHasher, Type
from litestar import Litestar
from sqlalchemy import select, update

from kernel.contracts.errors import ValidationFailed
from modules.user.api import EmailTaken, NewUser, UserAccounts, UserNotFound
from modules.user.internal.models import User
from modules.user.internal.passwords import hash_password, needs_rehash, verify_password
from tests.helpers import outbox_rows, provided
from tests.user.factories import PASSWORD, create_user, seed, user_context


def directory(app: Litestar) -> UserAccounts:
    return provided(app, UserAccounts)


async def stored_hash(app: Litestar, user_id: int) -> str:
    async with user_context(app).session_maker() as session:
        value = await session.scalar(select(User.password_hash).where(User.id == user_id))
        assert value is not None
        return value


async def test_passwords_are_stored_as_argon2id(client: httpx.AsyncClient, app: Litestar) -> None:
    await seed(app)
    user = await create_user(client, app)
    stored = await stored_hash(app, user["id"])
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert await verify_password(stored, PASSWORD)
    assert not await verify_password(stored, "wrong-password")


async def test_authenticate(client: httpx.AsyncClient, app: Litestar) -> None:
    await seed(app)
    user = await create_user(client, app, email="login@example.com")
    users = directory(app)

    async def last_login() -> object:
        view = await users.get_user(user["id"])
        assert view is not None
        return view.last_login_at

    assert await last_login() is None
    assert await users.authenticate("login@example.com", "Wrong-Password-9") is None
    assert await last_login() is None  # a failed attempt writes nothing
    found = await users.authenticate("LOGIN@example.com", PASSWORD)
    assert found is not None
    assert found.id == user["id"]
    assert found.last_login_at is not None
    assert found.role_names == ("user",)
    assert "carriers.read" in found.permission_names
    assert await users.authenticate("login@example.com", "Wrong-Password-9") is None
    assert await users.authenticate("nobody@example.com", PASSWORD) is None
    await client.patch(f"/api/v1/users/{user['id']}", json={"isActive": False}, headers=client.headers)
    assert await users.authenticate("login@example.com", PASSWORD) is None


async def test_legacy_bcrypt_hash_verifies_and_is_upgraded(client: httpx.AsyncClient, app: Litestar) -> None:
    await seed(app)
    user = await create_user(client, app, email="legacy@example.com")
    for prefix in ("$2b$", "$2a$", "$2y$"):
        legacy = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
        legacy = prefix + legacy[4:]
        async with user_context(app).session_maker() as session:
            await session.execute(update(User).where(User.id == user["id"]).values(password_hash=legacy))
            await session.commit()
        assert needs_rehash(legacy)
        assert await directory(app).authenticate("legacy@example.com", "Wrong-Password-9") is None
        assert await stored_hash(app, user["id"]) == legacy  # a failed login changes nothing
        found = await directory(app).authenticate("legacy@example.com", PASSWORD)
        assert found is not None
        assert found.id == user["id"]
        upgraded = await stored_hash(app, user["id"])
        assert upgraded.startswith("$argon2id$")
        assert not needs_rehash(upgraded)


async def test_directory_reads(client: httpx.AsyncClient, app: Litestar) -> None:
    await seed(app)
    user = await create_user(client, app, email="reader@example.com")
    users = directory(app)
    view = await users.get_user(user["id"])
    assert view is not None
    assert view.email == "reader@example.com"
    assert view.full_name == f"{user['firstName']} {user['lastName']}"
    assert await users.get_user(999999) is None
    by_email = await users.find_by_email("Reader@Example.com")
    assert by_email is not None
    assert by_email.id == user["id"]
    assert await users.find_by_email("nobody@example.com") is None
    assert await users.exists(user["id"])
    assert not await users.exists(999999)


async def test_register_user_gets_role_user_and_publishes_created(client: httpx.AsyncClient, app: Litestar) -> None:
    await seed(app)
    users = directory(app)
    before = len(await outbox_rows(app, "user"))
    view = await users.register_user(
        NewUser(email="New.Person@Example.com", password=PASSWORD, first_name=" New ", last_name="Person")
    )
    assert view.email == "new.person@example.com"
    assert view.first_name == "New"
    assert view.role_names == ("user",)
    assert view.is_active
    assert [r.event_type for r in (await outbox_rows(app, "user"))[before:]] == ["user.created"]
    assert await users.authenticate("new.person@example.com", PASSWORD) is not None
    with pytest.raises(EmailTaken):
        await users.register_user(
            NewUser(email="new.person@example.com", password=PASSWORD, first_name="Al", last_name="Bo")
        )
    with pytest.raises(ValidationFailed) as failure:
        await users.register_user(
            NewUser(email="weak@example.com", password="password", first_name="W", last_name="Eak")
        )
    assert failure.value.field_errors == {
        "firstName": ["must be 2-50 characters (after trimming spaces)"],
        "password": ["is too common"],
    }


async def test_change_password(client: httpx.AsyncClient, app: Litestar) -> None:
    await seed(app)
    user = await create_user(client, app, email="changer@example.com")
    users = directory(app)
    with pytest.raises(ValidationFailed) as failure:
        await users.change_password(user["id"], "Wrong-Password-9", "short")
    assert failure.value.field_errors == {
        "currentPassword": ["is incorrect"],
        "newPassword": ["must be at least 8 characters"],
    }
    await users.change_password(user["id"], PASSWORD, "Second-Password-2")
    assert await users.authenticate("changer@example.com", "Second-Password-2") is not None
    assert await users.authenticate("changer@example.com", PASSWORD) is None
    changed = await users.get_user(user["id"])
    assert changed is not None
    assert changed.password_changed_at is not None
    assert changed.password_changed_at > datetime.fromisoformat(str(user["passwordChangedAt"]).replace("Z", "+00:00"))
    with pytest.raises(UserNotFound):
        await users.change_password(999999, PASSWORD, "Second-Password-2")


async def test_hash_password_is_salted() -> None:
    first, second = await hash_password(PASSWORD), await hash_password(PASSWORD)
    assert first != second


@pytest.mark.parametrize(
    ("parameters", "replaced"),
    [
        ({"memory_cost": 7_168, "time_cost": 5}, False),  # today's
        ({"memory_cost": 12_288, "time_cost": 3}, True),  # the previous version's: more memory for the same work
        ({"memory_cost": 65_536, "time_cost": 3}, True),  # earlier versions': slower than a sign-in needs
        ({"memory_cost": 6_144, "time_cost": 5}, True),  # less memory
        ({"memory_cost": 7_168, "time_cost": 4}, True),  # fewer passes
        ({"memory_cost": 7_168, "time_cost": 5, "type": Type.I}, True),  # another variant
    ],
)
def test_argon2_hashes_made_with_other_parameters_are_replaced(parameters: dict[str, Any], replaced: bool) -> None:
    password_hash = PasswordHasher(parallelism=1, **parameters).hash(PASSWORD)
    assert needs_rehash(password_hash) is replaced
