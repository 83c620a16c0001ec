"""Faults of the split topology (each module its own process and MariaDB database, events over Redis Streams,
Protocols over HTTP), seen from outside: a killed consumer, a Redis outage, a module that is down, and two
replicas of one module. One system of this file's own, on a Redis of its own with an append-only file, so
the tests may kill what they like; the tests run in the order written.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.blackbox.test_blackbox_api import data, eventually
from tests.blackbox.topology import System, started_system
from tests.conftest import IN_CI, require_service
from tests.isolation import MYSQL_URL
from tests.own_redis import OwnRedis

USERS = 200
PASSWORD = "Correct-Horse-42"


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnRedis]:
    executable = shutil.which("redis-server")
    if executable is None:
        if IN_CI:
            pytest.fail("redis-server is required when CI=true but is not on PATH")
        pytest.skip("redis-server not installed")
    server = OwnRedis(executable, tmp_path_factory.mktemp("fault-redis"), persistent=True)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def split(redis_server: OwnRedis, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    require_service("mysql", bool(MYSQL_URL))
    tmp_path: Path = tmp_path_factory.mktemp("faults")
    with started_system("split", tmp_path, REDIS_URL=redis_server.url) as system:
        yield system


@pytest.fixture
def admin(split: System) -> Iterator[httpx.Client]:
    with split.client() as client:
        tokens = data(client.post("/api/v1/auth/login", json={"email": "admin@example.com", "password": "admin123"}))
        client.headers["Authorization"] = f"Bearer {tokens['access_token']}"
        yield client


def customers_tagged(admin: httpx.Client, tag: str) -> int:
    listed = data(admin.get("/api/v1/customers", params={"search": tag, "limit": 1}))
    return int(listed["total"])


def create_users(split: System, headers: httpx.Headers, tag: str, count: int, failures: list[Any]) -> None:
    """`count` users through the user process, on a client of this thread's own."""
    with split.client() as client:
        client.headers.update(headers)
        for n in range(count):
            body = {"email": f"{tag}-{n}@example.com", "password": PASSWORD, "firstName": "Fay", "lastName": "Fault"}
            try:
                response = client.post("/api/v1/users", json=body)
            except httpx.HTTPError as exc:  # the system went away under the thread (a failed test's teardown)
                failures.append((n, type(exc).__name__, str(exc)))
                return
            if response.status_code != 201:
                failures.append((n, response.status_code, response.text))


def test_two_replicas_of_pricing_use_a_rule_change_within_a_second(split: System, admin: httpx.Client) -> None:
    replica = split.start_replica("pricing")
    carrier = data(admin.post("/api/v1/carriers", json={"name": "Replica Haulage"}), 201)
    shipment = {
        "carrierId": carrier["id"],
        "serviceType": "Drum",
        "weight": 1,
        "originCountry": "PL",
        "destinationCountry": "CZ",
    }
    rule = data(
        admin.post(
            "/api/v1/pricing/rules",
            json={
                "name": "Drums",
                "conditions": {"carrierId": carrier["id"]},
                "pricing": {"baseRate": 10, "currency": "EUR"},
            },
        ),
        201,
    )
    replicas = [split.server_of("pricing").base_url, replica.base_url]
    with httpx.Client(headers=admin.headers, timeout=10) as direct:
        for base_url in replicas:  # both have compiled the rule set with the rule in it
            priced = data(direct.post(f"{base_url}/api/v1/pricing/calculate", json=shipment), 201)
            assert priced["calculation"]["total"] == 10.0

        changed_at = time.monotonic()
        data(
            direct.patch(
                f"{replicas[0]}/api/v1/pricing/rules/{rule['id']}",
                json={"pricing": {"baseRate": 12, "currency": "EUR"}},
            )
        )

        def replica_prices_twelve() -> bool:
            answer = direct.post(f"{replicas[1]}/api/v1/pricing/calculate", json=shipment)
            return answer.status_code == 201 and answer.json()["data"]["calculation"]["total"] == 12.0

        eventually(replica_prices_twelve, "the other replica pricing with the changed rule")
        assert time.monotonic() - changed_at <= 1.5  # within a second, plus the requests' own time
    replica.stop()


@pytest.mark.timeout(900)  # 200 argon2 hashes in the user process come first
def test_a_customer_process_killed_while_users_register_loses_no_profile(split: System, admin: httpx.Client) -> None:
    tag = f"killed{time.time_ns() % 10**8}"
    failures: list[Any] = []
    writer = threading.Thread(target=create_users, args=(split, admin.headers, tag, USERS, failures))
    writer.start()
    customer = split.server_of("customer")
    # each user costs an argon2 hash in the user process first: on a busy machine that is a second or more
    eventually(lambda: customers_tagged(admin, tag) >= 10, "the first profiles", seconds=120)
    customer.kill()  # kill -9 in the middle of the flow
    time.sleep(1.0)
    customer.start()
    writer.join(timeout=600)
    assert not writer.is_alive()
    assert failures == []  # creating users never needed the customer process
    deadline = time.monotonic() + 60
    while customers_tagged(admin, tag) < USERS and time.monotonic() < deadline:
        time.sleep(0.5)
    assert customers_tagged(admin, tag) == USERS  # exactly: none lost, none twice


def test_a_redis_outage_loses_no_event_and_health_stays_up(
    split: System, admin: httpx.Client, redis_server: OwnRedis
) -> None:
    tag = f"outage{time.time_ns() % 10**8}"
    failures: list[Any] = []
    create_users(split, admin.headers, tag, 30, failures)
    assert failures == []
    redis_server.stop()  # events committed in the outbox, some maybe in a stream, not all delivered
    try:
        with httpx.Client(timeout=10) as plain:
            for server in split.processes:
                assert plain.get(f"{server.base_url}/api/v1/health/live").status_code == 200
                health = plain.get(f"{server.base_url}/api/v1/health")
                assert health.status_code == 200, health.text  # degraded, not down
            assert plain.get(f"{split.processes[0].base_url}/api/docs/openapi.json").status_code == 200
    finally:
        redis_server.start()
    eventually(lambda: customers_tagged(admin, tag) == 30, "every profile once Redis is back", seconds=60)
    time.sleep(1.0)
    assert customers_tagged(admin, tag) == 30


def test_with_carrier_down_pricing_answers_503_naming_it_and_the_rest_serves(
    split: System, admin: httpx.Client
) -> None:
    shipment = {
        "carrierId": 1,
        "serviceType": "Express",
        "weight": 5.5,
        "originCountry": "US",
        "destinationCountry": "US",
    }
    assert admin.post("/api/v1/pricing/calculate", json=shipment).status_code == 201
    carrier = split.server_of("carrier")
    carrier.stop()
    try:
        refused = admin.post("/api/v1/pricing/calculate", json=shipment)
        assert refused.status_code == 503, refused.text
        assert "carrier" in refused.json()["message"]
        assert admin.get("/api/v1/pricing/rules").status_code == 200
        assert admin.get("/api/v1/customers").status_code == 200
        assert admin.get("/api/v1/users").status_code == 200
        health = httpx.get(f"{split.server_of('pricing').base_url}/api/v1/health", timeout=10).json()["data"]
        assert health["status"] == "degraded"
        assert "carrier" in str(health["dependencies"])
    finally:
        carrier.start()
    eventually(
        lambda: admin.post("/api/v1/pricing/calculate", json=shipment).status_code == 201,
        "pricing calculating again once carrier is back",
    )
