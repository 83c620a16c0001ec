"""The hybrid topology's gateway (compose/gateway/nginx.conf) routes every route prefix of every module to that
module's container, and a module added without a route fails here."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import pytest

from bootstrap.catalog import available_modules
from tests.deploy.deploy_checks import (
    DATABASES,
    GATEWAY_CONF,
    OLD_PORTS,
    ModuleFacts,
    gateway_problems,
    gateway_routes,
    module_facts,
)


@pytest.fixture(scope="module")
def conf() -> str:
    return GATEWAY_CONF.read_text(encoding="utf-8")


def test_every_module_has_an_old_port_and_a_database() -> None:
    assert sorted(OLD_PORTS) == available_modules(), "a new module needs its port in tests/deploy/deploy_checks.py"
    assert sorted(DATABASES) == available_modules()


def test_the_gateway_routes_every_module_prefix_to_its_module(conf: str) -> None:
    assert gateway_problems(conf, module_facts()) == []


def test_the_routes_are_read_from_the_locations(conf: str) -> None:
    routes = gateway_routes(conf)
    assert routes["/api/v1/auth"] == "auth:3001"
    assert {routes[p] for p in ("/api/v1/users", "/api/v1/roles", "/api/v1/permissions", "/api/v1/profiles")} == {
        "user:3003"
    }
    assert routes["/api/v1/pricing"] == "pricing:3006"
    assert routes["/api/v1/health"] == routes["/api/docs"] == "user:3003"


def test_a_module_without_a_gateway_route_fails(conf: str) -> None:
    lane = ModuleFacts(name="lane", port=3007, depends_on=(), route_prefixes=("/lanes",), database="lane_service_db")
    problems = gateway_problems(conf, [*module_facts(), lane])
    assert "gateway: no route for /api/v1/lanes (module lane)" in problems


def test_a_new_prefix_of_an_existing_module_without_a_route_fails(conf: str) -> None:
    facts = [
        replace(f, route_prefixes=(*f.route_prefixes, "/quotes")) if f.name == "pricing" else f for f in module_facts()
    ]
    assert "gateway: no route for /api/v1/quotes (module pricing)" in gateway_problems(conf, facts)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            lambda c: c.replace("(users|roles|permissions|profiles)", "(users|roles|profiles)"),
            "gateway: no route for /api/v1/permissions (module user)",
            id="prefix-dropped",
        ),
        pytest.param(
            lambda c: c.replace("set $module carrier:3005;", "set $module carrier:3006;"),
            "gateway: /api/v1/carriers goes to carrier:3006, not to carrier:3005",
            id="wrong-port",
        ),
        pytest.param(
            lambda c: c.replace("set $module customer:3004;", "set $module pricing:3006;"),
            "gateway: /api/v1/customers goes to pricing:3006, not to customer:3004",
            id="wrong-module",
        ),
        pytest.param(
            lambda c: re.sub(r"location ~ \^/api/docs\(/\|\$\) \{[^}]*\}", "", c),
            "gateway: no route for /api/docs",
            id="no-docs",
        ),
        pytest.param(
            lambda c: c.replace("proxy_set_header X-Forwarded-For $remote_addr;", ""),
            "gateway: X-Forwarded-For is not set from the client's address",
            id="no-forwarded-for",
        ),
        pytest.param(
            lambda c: c.replace("proxy_set_header X-Correlation-ID $correlation_id;", ""),
            "gateway: x-correlation-id is not passed on",
            id="no-correlation-id",
        ),
        pytest.param(
            lambda c: c.replace("client_max_body_size 2m;", "client_max_body_size 64k;"),
            "gateway: client_max_body_size must be set and at least the API's 1048576 bytes",
            id="body-limit-below-the-api",
        ),
        pytest.param(
            lambda c: c.replace("proxy_read_timeout 30s;", ""),
            "gateway: proxy_read_timeout is not set",
            id="no-read-timeout",
        ),
        pytest.param(
            lambda c: c.replace("set $module auth:3001;", "# set $module auth:3001;"),
            "gateway: no route for /api/v1/auth (module auth)",
            id="commented-out",
        ),
    ],
)
def test_a_broken_gateway_fails(conf: str, change: Callable[[str], str], expected: str) -> None:
    broken = change(conf)
    assert broken != conf
    assert expected in gateway_problems(broken, module_facts())
