"""Customer hosted alone, its `UserAccounts` bound from outside (as split mode will bind a client of the user
process): `userId` is checked through that binding only, never by reading the user tables."""

from __future__ import annotations

import pytest
from litestar import Litestar

from bootstrap.app import create_app
from kernel.settings import Settings, SettingsError
from modules.customer.internal.service import CustomerRules
from modules.user.api import UserAccounts
from tests.auth.test_assembly_seam import StandInAccounts
from tests.conftest import data_of, http_client, running
from tests.customer.factories import BASE, customer_body
from tests.helpers import bearer, runtime_of, token_for


async def test_customer_alone_checks_users_through_the_bound_accounts(settings: Settings) -> None:
    accounts = StandInAccounts()  # knows user 7 only
    app: Litestar = create_app(settings, ["customer"], external={UserAccounts: accounts})
    assert runtime_of(app).names == ["customer"]
    async with running(app), http_client(app) as client:
        client.headers.update(bearer(token_for(app)))
        linked = await client.post(BASE, json=customer_body(userId=7))
        assert linked.status_code == 201, linked.text
        assert data_of(linked)["userId"] == 7
        unknown = await client.post(BASE, json=customer_body(userId=8, firstName="x"))
        assert unknown.json()["fieldErrors"] == {
            "firstName": ["must be 2-50 characters (after trimming spaces)"],
            "userId": ["must be the id of an existing user"],
        }
        assert (await client.get("/api/v1/users/7")).status_code == 404  # the user module is not hosted here


async def test_the_rules_ask_the_bound_accounts(settings: Settings) -> None:
    rules = CustomerRules(StandInAccounts())
    assert await rules.problems({"user_id": 7}) == {}
    assert await rules.problems({"user_id": 8, "first_name": "Ok"}) == {
        "userId": ["must be the id of an existing user"]
    }


def test_without_a_binding_customer_alone_is_refused_naming_the_setting(settings: Settings) -> None:
    with pytest.raises(SettingsError, match=r"USER_SERVICE_URL: module 'customer' needs 'user' \(UserAccounts\)"):
        create_app(settings, ["customer"])
