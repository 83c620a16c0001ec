"""The assembly seam: bootstrap hands auth whatever satisfies `UserAccounts`. Here a stand-in, bound from
outside with auth hosted alone — the way split mode hands in a client of the user process."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from litestar import Litestar

from bootstrap.app import create_app
from kernel.settings import Settings, SettingsError
from modules.user.api import NewUser, RoleView, UserAccounts, UserView
from tests.conftest import http_client, running
from tests.helpers import runtime_of

NOW = datetime(2026, 12, 1, tzinfo=UTC)


class StandInAccounts:
    """Knows one account, `lane@example.com` / `lane-password-1`, and records what auth asked."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.user = UserView(
            id=7,
            email="lane@example.com",
            first_name="Lane",
            last_name="Keeper",
            full_name="Lane Keeper",
            phone=None,
            is_active=True,
            is_email_verified=True,
            last_login_at=None,
            password_changed_at=None,
            roles=(RoleView(id=3, name="user", description=None, is_active=True, permissions=("carriers.read",)),),
            created_at=NOW,
            updated_at=NOW,
        )

    async def get_user(self, user_id: int) -> UserView | None:
        self.calls.append(f"get_user {user_id}")
        return self.user if user_id == self.user.id else None

    async def find_by_email(self, email: str) -> UserView | None:
        return self.user if email == self.user.email else None

    async def exists(self, user_id: int) -> bool:
        return user_id == self.user.id

    async def authenticate(self, email: str, password: str) -> UserView | None:
        self.calls.append(f"authenticate {email}")
        return self.user if (email, password) == (self.user.email, "lane-password-1") else None

    async def register_user(self, new_user: NewUser) -> UserView:
        raise NotImplementedError

    async def check_password_change(self, user_id: int, current_password: str, new_password: str) -> None:
        raise NotImplementedError

    async def change_password(
        self, user_id: int, current_password: str, new_password: str, kept_session_id: str | None = None
    ) -> None:
        raise NotImplementedError


def test_the_stand_in_satisfies_the_protocol() -> None:
    assert isinstance(StandInAccounts(), UserAccounts)


async def test_auth_alone_signs_in_through_a_bound_stand_in(settings: Settings) -> None:
    accounts = StandInAccounts()
    app: Litestar = create_app(settings, ["auth"], external={UserAccounts: accounts})
    assert runtime_of(app).names == ["auth"]
    async with running(app), http_client(app) as client:
        refused = await client.post("/api/v1/auth/login", json={"email": "lane@example.com", "password": "nope-nope"})
        assert refused.status_code == 401
        signed_in = await client.post(
            "/api/v1/auth/login", json={"email": "lane@example.com", "password": "lane-password-1"}
        )
        assert signed_in.status_code == 200, signed_in.text
        data = signed_in.json()["data"]
        assert data["user"]["id"] == 7
        profile = await client.get("/api/v1/auth/profile", headers={"Authorization": f"Bearer {data['access_token']}"})
        assert profile.status_code == 200
        assert profile.json()["data"]["email"] == "lane@example.com"
        assert (await client.get("/api/v1/users/7")).status_code == 404  # the user module is not hosted here
    assert accounts.calls[:2] == ["authenticate lane@example.com", "authenticate lane@example.com"]
    assert "get_user 7" in accounts.calls


def test_without_a_binding_auth_alone_is_refused_naming_the_setting(settings: Settings) -> None:
    with pytest.raises(SettingsError, match="USER_SERVICE_URL"):
        create_app(settings, ["auth"])


def test_a_binding_that_does_not_satisfy_the_protocol_is_refused(settings: Settings) -> None:
    with pytest.raises(TypeError, match="does not implement UserAccounts"):
        create_app(settings, ["auth"], external={UserAccounts: object()})
