"""Every module Protocol meets one contract, whichever implementation a consumer is handed: the in-process one
the owner's assembly provides, or split mode's HTTP client calling the owner's internal routes (kernel.remote).

Each test runs twice (`via`): once on `provided(app, Protocol)`, once on a client bound the way bootstrap binds
one (`RemoteModules.client`) whose transport is the owner's app, hosting only the owner module. The
assertions are the same: found, not found → None, exists, the domain errors raised as the same class with the
same message and fields.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from litestar import Litestar

from bootstrap.app import create_app
from bootstrap.catalog import available_modules, load_descriptor
from kernel.contracts.errors import Conflict, ValidationFailed
from kernel.modules import protocol_owner
from kernel.remote.client import RemoteModules
from kernel.remote.protocols import protocol_methods
from kernel.settings import Settings
from modules.auth.api import SessionControl
from modules.carrier.api import CarrierDirectory, CarrierSummary
from modules.customer.api import CustomerDirectory, CustomerSummary
from modules.pricing.api import PricingRuleDirectory, PricingRuleSummary
from modules.user.api import EmailTaken, NewUser, UserAccounts, UserNotFound, UserView
from tests.auth.test_assembly_seam import StandInAccounts
from tests.carrier.factories import carrier_body
from tests.conftest import data_of, http_client, running
from tests.customer.factories import customer_body
from tests.helpers import bearer, provided, runtime_of, token_for
from tests.pricing.factories import PRICING_PERMISSIONS, RULES, rule_body

VIA = ["in-process", "http"]
OWNER_URL = "http://owner.test"


@pytest.fixture(params=VIA)
def via(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@asynccontextmanager
async def owner(
    settings: Settings, modules: list[str], external: Mapping[type[Any], object] | None = None
) -> AsyncIterator[Litestar]:
    """An app hosting only `modules` (the owner), its other dependencies stood in for, its lifespan running."""
    app = create_app(settings, modules, external=external)
    async with running(app):
        yield app


@asynccontextmanager
async def implementation(app: Litestar, settings: Settings, protocol: type[Any], via: str) -> AsyncIterator[Any]:
    """What a consumer of `protocol` is handed: the owner's own object, or a client of the owner's app."""
    if via == "in-process":
        yield provided(app, protocol)
        return
    module = protocol_owner(protocol)
    assert module is not None
    remote = RemoteModules(settings, ["test"], transports={module: httpx.ASGITransport(app=app)})
    client = remote.client(protocol, module, OWNER_URL)
    assert isinstance(client, protocol)
    assert type(client).__name__ == f"Remote{protocol.__name__}"
    try:
        yield client
    finally:
        await remote.aclose()


async def created(app: Litestar, path: str, body: dict[str, Any], permissions: list[str] | None = None) -> Any:
    """A record made through the owner's public API."""
    async with http_client(app) as client:
        response = await client.post(path, json=body, headers=bearer(token_for(app, permissions=permissions)))
        assert response.status_code == 201, response.text
        return data_of(response)


# ---- carrier: CarrierDirectory


async def test_carrier_directory(settings: Settings, via: str) -> None:
    async with owner(settings, ["carrier"]) as app:
        active = await created(app, "/api/v1/carriers", carrier_body(name="Contract Freight"))
        inactive = await created(app, "/api/v1/carriers", carrier_body(isActive=False))
        async with implementation(app, settings, CarrierDirectory, via) as carriers:
            found = await carriers.get_carrier(active["id"])
            assert found == CarrierSummary(
                id=active["id"],
                name="Contract Freight",
                is_active=True,
                code=active["metadata"]["code"],
                service_types=("Express", "Ground"),
                currency="USD",
                base_rate=Decimal("12.50"),
                per_kg_rate=Decimal("1.25"),
            )
            assert isinstance(found.base_rate, Decimal)
            assert await carriers.get_carrier(987654) is None
            assert await carriers.is_active(active["id"]) is True
            assert await carriers.is_active(inactive["id"]) is False
            assert await carriers.is_active(987654) is False
            assert [c.id for c in await carriers.list_active()] == [active["id"]]


# ---- customer: CustomerDirectory


async def test_customer_directory(settings: Settings, via: str) -> None:
    async with owner(settings, ["customer"], external={UserAccounts: StandInAccounts()}) as app:
        customer = await created(app, "/api/v1/customers", customer_body(firstName="Ada", customerType="premium"))
        async with implementation(app, settings, CustomerDirectory, via) as customers:
            assert await customers.get_customer(customer["id"]) == CustomerSummary(
                id=customer["id"],
                email=customer["email"],
                first_name="Ada",
                last_name=customer["lastName"],
                is_active=True,
                customer_type="premium",
            )
            assert await customers.get_customer(987654) is None
            assert await customers.exists(customer["id"]) is True
            assert await customers.exists(987654) is False


# ---- pricing: PricingRuleDirectory


class AnyCarrier:
    """Every carrier id names an active carrier (pricing's rules only check that theirs exists)."""

    async def get_carrier(self, carrier_id: int) -> CarrierSummary | None:
        return CarrierSummary(id=carrier_id, name=f"Carrier {carrier_id}", is_active=True)

    async def is_active(self, carrier_id: int) -> bool:
        return True

    async def list_active(self) -> list[CarrierSummary]:
        return []


class NoCustomers:
    async def get_customer(self, customer_id: int) -> CustomerSummary | None:
        return None

    async def exists(self, customer_id: int) -> bool:
        return False


async def test_pricing_rule_directory(settings: Settings, via: str) -> None:
    stand_ins = {CarrierDirectory: AnyCarrier(), CustomerDirectory: NoCustomers()}
    async with owner(settings, ["pricing"], external=stand_ins) as app:
        body = rule_body(name="Contract Rule", priority=42)
        body["conditions"]["carrierId"] = 3
        rule = await created(app, RULES, body, permissions=PRICING_PERMISSIONS)
        async with implementation(app, settings, PricingRuleDirectory, via) as rules:
            assert await rules.get_rule(rule["id"]) == PricingRuleSummary(
                id=rule["id"], name="Contract Rule", is_active=True, priority=42, carrier_id=3, currency="USD"
            )
            assert await rules.get_rule(987654) is None


# ---- user: UserAccounts


def new_user(email: str, password: str = "Contract-Pass-77") -> NewUser:
    return NewUser(email=email, password=password, first_name="Rosa", last_name="Parks", phone=None)


async def test_user_accounts_reads_and_sign_in(settings: Settings, via: str) -> None:
    async with owner(settings, ["user"]) as app:
        await runtime_of(app).seed(False)  # the roles and the default administrator
        async with implementation(app, settings, UserAccounts, via) as users:
            admin = await users.get_user(1)
            assert isinstance(admin, UserView)
            assert admin.email == "admin@example.com"
            assert "admin" in admin.role_names
            assert isinstance(admin.created_at, datetime)
            assert admin.created_at.tzinfo is not None
            assert await users.get_user(987654) is None
            assert (await users.find_by_email("ADMIN@example.com")) == admin
            assert await users.find_by_email("nobody@example.com") is None
            assert await users.exists(1) is True
            assert await users.exists(987654) is False
            assert await users.authenticate("admin@example.com", "wrong-password") is None
            signed_in = await users.authenticate("admin@example.com", "admin123")
            assert signed_in is not None
            assert signed_in.id == 1
            assert signed_in.last_login_at is not None


async def test_user_accounts_writes_and_their_domain_errors(settings: Settings, via: str) -> None:
    async with owner(settings, ["user"]) as app:
        await runtime_of(app).seed(False)  # the role `user` new accounts get
        async with implementation(app, settings, UserAccounts, via) as users:
            registered = await users.register_user(new_user("rosa@example.com"))
            assert registered.email == "rosa@example.com"
            assert registered.role_names == ("user",)

            with pytest.raises(EmailTaken) as taken:
                await users.register_user(new_user("Rosa@example.com"))
            assert taken.value.message == "Email already exists"
            assert isinstance(taken.value, Conflict)

            with pytest.raises(ValidationFailed) as weak:
                await users.register_user(new_user("weak@example.com", password="short"))
            assert set(weak.value.field_errors) == {"password"}
            assert all(isinstance(m, str) for m in weak.value.field_errors["password"])

            with pytest.raises(ValidationFailed) as wrong:
                await users.check_password_change(registered.id, "not-the-password", "Another-Pass-88")
            assert wrong.value.field_errors == {"currentPassword": ["is incorrect"]}
            with pytest.raises(UserNotFound) as missing:
                await users.change_password(987654, "Contract-Pass-77", "Another-Pass-88")
            assert missing.value.message == "User not found"

            assert await users.check_password_change(registered.id, "Contract-Pass-77", "Another-Pass-88") is None
            assert await users.change_password(registered.id, "Contract-Pass-77", "Another-Pass-88") is None
            assert await users.authenticate("rosa@example.com", "Another-Pass-88") is not None


# ---- auth: SessionControl


async def test_session_control(settings: Settings, via: str) -> None:
    accounts = StandInAccounts()  # knows user 7, lane@example.com
    async with owner(settings, ["auth"], external={UserAccounts: accounts}) as app:
        async with http_client(app) as client:
            for _ in range(2):
                login = {"email": "lane@example.com", "password": "lane-password-1"}
                assert (await client.post("/api/v1/auth/login", json=login)).status_code == 200
        async with implementation(app, settings, SessionControl, via) as sessions:
            assert await sessions.active_session_count(7) == 2
            assert await sessions.active_session_count(8) == 0
            assert await sessions.revoke_all_sessions(7, "contract test") == 2
            assert await sessions.active_session_count(7) == 0
            assert await sessions.revoke_all_sessions(7, "contract test") == 0


# ---- what holds for every Protocol


def provided_protocols() -> list[tuple[str, type[Any]]]:
    return [(name, protocol) for name in available_modules() for protocol in load_descriptor(name).provides]


def test_every_provided_protocol_has_a_contract_test_here() -> None:
    """A Protocol added to a module's `provides` without a test above fails here."""
    tested = {CarrierDirectory, CustomerDirectory, PricingRuleDirectory, UserAccounts, SessionControl}
    assert {protocol for _, protocol in provided_protocols()} == tested


READS = re.compile(r"^(get|find|list|exists|is|has|count|active|check)(_|$)")
"""Method names that read (or, like `check_password_change`, check and change nothing): safe to send again."""
SENT_ONCE = {
    "UserAccounts.authenticate",  # records the sign-in, may upgrade a legacy hash
    "UserAccounts.register_user",
    "UserAccounts.change_password",
    "SessionControl.revoke_all_sessions",  # a repeat would report 0 sessions ended
}


def test_reads_are_marked_idempotent_and_writes_are_not() -> None:
    """The marks in each api.py (`@idempotent`) decide what the HTTP client retries: a new read without one
    would not be retried, a write with one could be applied twice."""
    marked, unmarked = set(), set()
    for module, protocol in provided_protocols():
        for spec in protocol_methods(module, protocol):
            (marked if spec.idempotent else unmarked).add(spec.label)
            if READS.match(spec.name):
                assert spec.idempotent, f"{spec.label} reads but is not marked @idempotent"
    assert unmarked == SENT_ONCE
    assert "CarrierDirectory.list_active" in marked


def test_every_protocol_method_is_served_on_an_internal_route(tmp_path: object) -> None:
    app = create_app(Settings.from_mapping({"FREIGHTDESK_DATA_DIR": str(tmp_path), "FREIGHTDESK_LOG_LEVEL": "WARNING"}))
    served = {route.path for route in app.routes}
    expected = {
        f"/internal/v1{spec.path}"
        for module, protocol in provided_protocols()
        for spec in protocol_methods(module, protocol)
    }
    assert "/internal/v1/carrier/CarrierDirectory/list_active" in expected
    assert expected <= served
