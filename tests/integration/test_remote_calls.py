"""Calls to a module in another process (kernel.remote): who may make them, what a caller sees when the other
process is slow, failing or gone, and what the process health says about it.

The owner is an app hosting only the called module(s); the network between is `httpx.ASGITransport` around
`Faulty`, which counts the internal calls that reach the owner and, when told, answers them late or with a 503
of its own. Everything here is about HTTP, not databases: SQLite only.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from litestar import Litestar
from litestar.types import Receive, Scope, Send

from bootstrap.app import create_app
from kernel.contracts.errors import ServiceUnavailable
from kernel.remote.circuit import CLOSED, HALF_OPEN, OPEN
from kernel.remote.client import CallPolicy, ModuleUnavailable, RemoteModule, RemoteModules
from kernel.remote.protocols import protocol_methods
from kernel.remote.tokens import SERVICE_AUDIENCE, ServiceTokens
from kernel.settings import DEVELOPMENT_SERVICE_SECRET, Settings, SettingsError
from modules.carrier.api import CarrierDirectory
from modules.user.api import NewUser, UserAccounts
from tests.auth.test_assembly_seam import StandInAccounts
from tests.conftest import data_of, http_client, running
from tests.e2e.test_run_command import free_port
from tests.helpers import ADMIN_PERMISSIONS, bearer, provided, runtime_of, token_for
from tests.pricing.factories import PRICING_PERMISSIONS

SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])
OWNER_URL = "http://owner.test"
GET_CARRIER = "carrier/CarrierDirectory/get_carrier"
IS_ACTIVE = "carrier/CarrierDirectory/is_active"
REGISTER_USER = "user/UserAccounts/register_user"
CALCULATE = "/api/v1/pricing/calculate"
EXAMPLE = {"carrierId": 1, "serviceType": "Express", "weight": 5.5, "originCountry": "US", "destinationCountry": "US"}


class Faulty:
    """The owner's app behind a network: counts each internal call that reaches it (by path under
    /internal/v1/) and, when told, answers it late (`delay`) or with a bare 503 (`failures` more times, or
    for ever while `failing`)."""

    def __init__(self, app: Litestar) -> None:
        self.app = app
        self.calls: Counter[str] = Counter()
        self.failing = False
        self.failures = 0
        self.delay = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] == "http" and path.startswith("/internal/v1/"):
            self.calls[path.removeprefix("/internal/v1/")] += 1
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.failing or self.failures > 0:
                self.failures = max(self.failures - 1, 0)
                await send(
                    {"type": "http.response.start", "status": 503, "headers": [(b"content-type", b"text/plain")]}
                )
                await send({"type": "http.response.body", "body": b"busy"})
                return
        await self.app(scope, receive, send)


def with_values(environment: Mapping[str, str], **values: str) -> Settings:
    return Settings.from_mapping({**environment, **values})


@asynccontextmanager
async def hosting(
    settings: Settings, modules: list[str], external: Mapping[type[Any], object] | None = None
) -> AsyncIterator[tuple[Litestar, Faulty]]:
    app = create_app(settings, modules, external=external)
    async with running(app):
        yield app, Faulty(app)


@asynccontextmanager
async def clients(settings: Settings, faulty: Faulty, *modules: str) -> AsyncIterator[RemoteModules]:
    remote = RemoteModules(settings, ["test"], transports={m: httpx.ASGITransport(app=faulty) for m in modules})
    try:
        yield remote
    finally:
        await remote.aclose()


# ---- who may call


def signed(secret: str, **claims: Any) -> str:
    now = int(time.time())
    return jwt.encode({"iss": "pricing", "aud": SERVICE_AUDIENCE, "iat": now, "exp": now + 30, **claims}, secret)


def refused_tokens(app: Litestar) -> dict[str, str | None]:
    now = int(time.time())
    return {
        "no token": None,
        "not a token": "not-a-jwt",
        "a user's token with every permission": token_for(app, permissions=[*ADMIN_PERMISSIONS, *PRICING_PERMISSIONS]),
        "expired": signed(DEVELOPMENT_SERVICE_SECRET, iat=now - 120, exp=now - 60),
        "signed with another secret": signed("another-secret-of-at-least-32-characters"),
        "for another audience": signed(DEVELOPMENT_SERVICE_SECRET, aud="somewhere-else"),
        "living longer than 60 s": signed(DEVELOPMENT_SERVICE_SECRET, exp=now + 3600),
        "without an issuer": jwt.encode(
            {"aud": SERVICE_AUDIENCE, "iat": now, "exp": now + 30}, DEVELOPMENT_SERVICE_SECRET
        ),
    }


@SQLITE_ONLY
async def test_without_a_valid_service_token_a_call_is_refused_and_not_run(settings: Settings) -> None:
    body = {"new_user": {"email": "intruder@example.com", "password": "Contract-Pass-77", "first_name": "Eve",
                         "last_name": "Intruder", "phone": None}}  # fmt: skip
    async with hosting(settings, ["user"]) as (app, _):
        await runtime_of(app).seed(False)
        users: UserAccounts = provided(app, UserAccounts)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=OWNER_URL) as raw:
            for case, token in refused_tokens(app).items():
                headers = bearer(token) if token else {}
                answer = await raw.post(f"/internal/v1/{REGISTER_USER}", json=body, headers=headers)
                assert answer.status_code == 401, (case, answer.text)
                assert answer.json()["error"] == "Unauthorized", case
                assert set(answer.json()) == {"message", "statusCode", "error", "timestamp", "path"}, case
            assert await users.find_by_email("intruder@example.com") is None  # nothing was run

            valid = ServiceTokens(DEVELOPMENT_SERVICE_SECRET, "pricing").issue()
            accepted = await raw.post(f"/internal/v1/{REGISTER_USER}", json=body, headers=bearer(valid))
            assert accepted.status_code == 200, accepted.text
            assert accepted.json()["email"] == "intruder@example.com"  # the return value itself, no envelope
            assert await users.find_by_email("intruder@example.com") is not None


@SQLITE_ONLY
async def test_internal_routes_are_not_in_the_openapi_document(client: httpx.AsyncClient, app: Litestar) -> None:
    internal = [route.path for route in app.routes if route.path.startswith("/internal/")]
    assert "/internal/v1/carrier/CarrierDirectory/get_carrier" in internal
    documented = (await client.get("/api/docs/openapi.json")).json()["paths"]
    assert "/api/v1/carriers/{id}" in documented
    assert [path for path in documented if "internal" in path] == []


@pytest.mark.parametrize("secret", [None, DEVELOPMENT_SERVICE_SECRET], ids=["unset", "the development default"])
def test_production_refuses_to_start_without_a_service_secret_of_its_own(tmp_path: Path, secret: str | None) -> None:
    values = {"FREIGHTDESK_ENV": "production", "FREIGHTDESK_DATA_DIR": str(tmp_path)}
    if secret is not None:
        values["FREIGHTDESK_SERVICE_SECRET"] = secret
    with pytest.raises(SettingsError, match="FREIGHTDESK_SERVICE_SECRET"):
        create_app(Settings.from_mapping(values))
    configured = Settings.from_mapping({**values, "FREIGHTDESK_SERVICE_SECRET": "s" * 40})
    assert configured.production_problems({}) == []
    assert Settings.from_mapping({"FREIGHTDESK_DATA_DIR": str(tmp_path)}).service_token_secret() is not None
    with pytest.raises(SettingsError, match="FREIGHTDESK_SERVICE_SECRET: use at least 32 characters"):
        Settings.from_mapping({"FREIGHTDESK_SERVICE_SECRET": "short"})


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("FREIGHTDESK_SERVICE_TIMEOUT", "0"),
        ("FREIGHTDESK_SERVICE_CONNECT_TIMEOUT", "soon"),
        ("FREIGHTDESK_SERVICE_RETRIES", "-1"),
        ("FREIGHTDESK_SERVICE_CIRCUIT_FAILURES", "0"),
        ("FREIGHTDESK_SERVICE_CIRCUIT_OPEN", "-5"),
        ("CARRIER_SERVICE_URL", "carrier:3005"),
    ],
)
def test_a_wrong_call_setting_stops_the_start_naming_it(tmp_path: Path, setting: str, value: str) -> None:
    with pytest.raises(SettingsError, match=setting):
        create_app(Settings.from_mapping({"FREIGHTDESK_DATA_DIR": str(tmp_path), setting: value}), ["pricing"])


# ---- retries, timeouts, the circuit


@SQLITE_ONLY
async def test_an_idempotent_call_is_retried_after_a_failure_without_an_answer(environment: dict[str, str]) -> None:
    settings = with_values(environment, FREIGHTDESK_SERVICE_RETRIES="2")
    async with hosting(settings, ["carrier"]) as (_, faulty), clients(settings, faulty, "carrier") as remote:
        carriers: Any = remote.client(CarrierDirectory, "carrier", OWNER_URL)
        faulty.failures = 2
        assert await carriers.get_carrier(987654) is None  # third time lucky
        assert faulty.calls[GET_CARRIER] == 3

        faulty.failing = True
        with pytest.raises(ModuleUnavailable, match=r"^carrier module unavailable$"):
            await carriers.get_carrier(987654)
        assert faulty.calls[GET_CARRIER] == 3 + 3  # the call and its two retries


@SQLITE_ONLY
async def test_a_call_that_is_not_idempotent_is_sent_once(environment: dict[str, str]) -> None:
    settings = with_values(environment, FREIGHTDESK_SERVICE_RETRIES="2")
    async with hosting(settings, ["user"]) as (_, faulty), clients(settings, faulty, "user") as remote:
        users: Any = remote.client(UserAccounts, "user", OWNER_URL)
        faulty.failing = True
        new_user = NewUser(email="once@example.com", password="Contract-Pass-77", first_name="Una", last_name="Once")
        with pytest.raises(ModuleUnavailable, match=r"^user module unavailable$"):
            await users.register_user(new_user)
        assert faulty.calls[REGISTER_USER] == 1


async def test_a_refused_connection_is_retried_with_backoff_for_reads_only() -> None:
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    policy = CallPolicy(connect_timeout=0.5, timeout=1.0, retries=3, circuit_failures=10, circuit_open_seconds=1.0)
    nobody = RemoteModule(
        "carrier", f"http://127.0.0.1:{free_port()}", ServiceTokens("s" * 40, "test"), policy, sleep=record
    )
    get_carrier, *_ = protocol_methods("carrier", CarrierDirectory)
    with pytest.raises(ModuleUnavailable):
        await nobody.invoke(get_carrier, b'{"carrier_id": 1}')
    assert len(waits) == 3
    assert all(0 < wait <= 1.0 for wait in waits)
    assert waits[2] > waits[0]  # backing off

    users = RemoteModule(
        "user", f"http://127.0.0.1:{free_port()}", ServiceTokens("s" * 40, "test"), policy, sleep=record
    )
    register = next(spec for spec in protocol_methods("user", UserAccounts) if spec.name == "register_user")
    waits.clear()
    with pytest.raises(ModuleUnavailable):
        await users.invoke(register, b"{}")
    assert waits == []
    await nobody.aclose()
    await users.aclose()


@SQLITE_ONLY
async def test_an_answer_past_the_timeout_is_a_503_naming_the_module_in_the_callers_error_shape(
    environment: dict[str, str],
) -> None:
    owner_settings = Settings.from_mapping(environment)
    caller_settings = with_values(
        environment,
        FREIGHTDESK_SERVICE_TIMEOUT="0.3",
        CARRIER_SERVICE_URL=OWNER_URL,
        CUSTOMER_SERVICE_URL=OWNER_URL,
    )
    external = {UserAccounts: StandInAccounts()}
    async with hosting(owner_settings, ["carrier", "customer"], external) as (_, faulty):
        faulty.delay = 5.0
        transports = {m: httpx.ASGITransport(app=faulty) for m in ("carrier", "customer")}
        caller = create_app(
            caller_settings, ["pricing"], remote=RemoteModules(caller_settings, ["pricing"], transports)
        )
        async with running(caller), http_client(caller) as client:
            started = time.monotonic()
            answer = await client.post(CALCULATE, json=EXAMPLE, headers=bearer(token_for(caller, PRICING_PERMISSIONS)))
            elapsed = time.monotonic() - started
    assert answer.status_code == 503, answer.text
    assert answer.json()["message"] == "carrier module unavailable"
    assert answer.json()["error"] == "Service Unavailable"
    assert answer.json()["path"] == CALCULATE
    assert int(answer.headers["retry-after"]) >= 1
    assert elapsed < 0.3 + 1.0, elapsed
    assert faulty.calls[IS_ACTIVE] == 1  # a timeout is not retried, even for a read


@SQLITE_ONLY
async def test_the_circuit_opens_after_consecutive_failures_and_a_probe_closes_it(environment: dict[str, str]) -> None:
    settings = with_values(
        environment,
        FREIGHTDESK_SERVICE_RETRIES="0",
        FREIGHTDESK_SERVICE_CIRCUIT_FAILURES="3",
        FREIGHTDESK_SERVICE_CIRCUIT_OPEN="0.3",
    )
    async with hosting(settings, ["carrier"]) as (_, faulty), clients(settings, faulty, "carrier") as remote:
        carriers: Any = remote.client(CarrierDirectory, "carrier", OWNER_URL)
        (target,) = remote.modules

        faulty.failures = 2
        for _ in range(2):
            with pytest.raises(ModuleUnavailable):
                await carriers.get_carrier(1)
        assert await carriers.get_carrier(987654) is None  # an answer: the count of failures starts again
        faulty.failing = True
        for _ in range(3):
            with pytest.raises(ModuleUnavailable):
                await carriers.get_carrier(1)
        assert target.circuit.state == OPEN
        assert faulty.calls[GET_CARRIER] == 6

        with pytest.raises(ModuleUnavailable) as fast:
            await carriers.get_carrier(1)
        assert faulty.calls[GET_CARRIER] == 6  # failed at once, without a request
        assert fast.value.retry_after == 1

        await asyncio.sleep(0.35)
        assert target.circuit.state == HALF_OPEN
        with pytest.raises(ModuleUnavailable):  # the probe fails: open again
            await carriers.get_carrier(1)
        assert (target.circuit.state, faulty.calls[GET_CARRIER]) == (OPEN, 7)

        faulty.failing = False
        await asyncio.sleep(0.35)
        assert await carriers.get_carrier(987654) is None  # the probe succeeds
        assert (target.circuit.state, faulty.calls[GET_CARRIER]) == (CLOSED, 8)


# ---- split end to end, in one test process


@SQLITE_ONLY
async def test_pricing_alone_calculates_through_clients_of_the_carrier_and_customer_process(
    environment: dict[str, str],
) -> None:
    owner_settings = Settings.from_mapping(environment)
    caller_settings = with_values(environment, CARRIER_SERVICE_URL=OWNER_URL, CUSTOMER_SERVICE_URL=OWNER_URL)
    async with hosting(owner_settings, ["carrier", "customer"], {UserAccounts: StandInAccounts()}) as (owner, faulty):
        await runtime_of(owner).seed(True, only=["carrier"])
        transports = {m: httpx.ASGITransport(app=faulty) for m in ("carrier", "customer")}
        caller = create_app(
            caller_settings, ["pricing"], remote=RemoteModules(caller_settings, ["pricing"], transports)
        )
        await runtime_of(caller).seed(True)  # the demo rules name carriers 1-4, checked over HTTP
        assert faulty.calls[GET_CARRIER] >= 4
        async with running(caller), http_client(caller) as client:
            client.headers.update(bearer(token_for(caller, PRICING_PERMISSIONS)))
            priced = await client.post(CALCULATE, json=EXAMPLE)
            assert priced.status_code == 201, priced.text
            assert data_of(priced)["calculation"]["total"] == 37.27
            unknown = await client.post(CALCULATE, json={**EXAMPLE, "customerId": 987654, "carrierId": 987654})
            assert unknown.status_code == 400
            assert unknown.json()["fieldErrors"] == {
                "carrierId": ["must name an active carrier"],
                "customerId": ["must name an existing customer"],
            }

            health = data_of(await client.get("/api/v1/health"))
            assert health["status"] == "healthy"
            assert set(health["dependencies"]) == {"carrier", "customer"}
            assert health["dependencies"]["carrier"]["reachable"] is True
            assert health["dependencies"]["carrier"]["circuit"] == CLOSED

            faulty.failing = True
            down = await client.post(CALCULATE, json=EXAMPLE)
            assert (down.status_code, down.json()["message"]) == (503, "carrier module unavailable")
            health = data_of(await client.get("/api/v1/health"))
            assert health["status"] == "degraded"
            assert health["dependencies"]["carrier"]["status"] == "degraded"
            assert health["dependencies"]["carrier"]["message"] == "answered 503 to the service probe"
            assert (await client.get("/api/v1/health/ready")).status_code == 200  # its own readiness only
    assert faulty.calls[IS_ACTIVE] >= 2
    assert faulty.calls["customer/CustomerDirectory/exists"] == 1


@SQLITE_ONLY
async def test_a_caller_with_another_secret_is_refused_and_its_health_says_why(environment: dict[str, str]) -> None:
    owner_settings = Settings.from_mapping(environment)
    caller_settings = with_values(
        environment,
        FREIGHTDESK_SERVICE_SECRET="a-secret-the-owner-does-not-share-0123456789",
        CARRIER_SERVICE_URL=OWNER_URL,
    )
    async with (
        hosting(owner_settings, ["carrier"]) as (_, faulty),
        clients(caller_settings, faulty, "carrier") as remote,
    ):
        carriers: Any = remote.client(CarrierDirectory, "carrier", OWNER_URL)
        with pytest.raises(ServiceUnavailable, match="carrier module unavailable"):
            await carriers.get_carrier(1)
        (target,) = remote.modules
        check = await target.check()
        assert check["reachable"] is True
        assert check["status"] == "degraded"
        assert "FREIGHTDESK_SERVICE_SECRET" in check["message"]
