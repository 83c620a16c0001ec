"""Every compose file is valid for `docker-compose config` with the settings it needs, refuses to resolve without
its passwords, and keeps the rules of its topology (tests/deploy/deploy_checks.py).

`docker-compose` is Debian's package (`apt-get install docker-compose`); it validates offline, with no Docker
daemon. Missing locally, these tests skip; with CI=true they fail (.ci/run installs it).
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.deploy_checks import (
    COMPOSE_DIR,
    hybrid_compose_problems,
    module_facts,
    single_compose_problems,
)

IN_CI = os.environ.get("CI", "").lower() == "true"
SINGLE = COMPOSE_DIR / "docker-compose.yml"
HYBRID = COMPOSE_DIR / "docker-compose.hybrid.yml"

# What compose/example.env asks for, with values production accepts.
PASSWORDS = {
    "FREIGHTDESK_IDENTITY_DB_PASSWORD": "identity-pw-0123456789",
    "FREIGHTDESK_CUSTOMER_DB_PASSWORD": "customer-pw-0123456789",
    "FREIGHTDESK_CARRIER_DB_PASSWORD": "carrier-pw-0123456789",
    "FREIGHTDESK_PRICING_DB_PASSWORD": "pricing-pw-0123456789",
}
ENVIRONMENTS = {
    SINGLE.name: {**PASSWORDS, "FREIGHTDESK_SERVICE_SECRET": "service-secret-0123456789abcdef"},
    HYBRID.name: {**PASSWORDS, "FREIGHTDESK_SERVICE_SECRET": "service-secret-0123456789abcdef"},
}


def docker_compose() -> str:
    binary = shutil.which("docker-compose")
    if binary is not None:
        return binary
    if IN_CI:
        pytest.fail("docker-compose is required when CI=true (.ci/run installs it: apt-get install docker-compose)")
    pytest.skip("docker-compose not installed (apt-get install docker-compose)")


def run_compose(
    file: Path, settings: dict[str, str], tmp_path: Path, *arguments: str
) -> subprocess.CompletedProcess[str]:
    """`docker-compose -f FILE ARGUMENTS` with exactly `settings` (an env file of its own, nothing inherited:
    neither a developer's compose/.env nor their shell's FREIGHTDESK_* settings)."""
    env_file = tmp_path / "compose.env"
    env_file.write_text("".join(f"{key}={value}\n" for key, value in settings.items()), encoding="utf-8")
    environment = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    return subprocess.run(  # noqa: S603 (our own arguments)
        [docker_compose(), "--env-file", str(env_file), "-f", str(file), *arguments],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def configs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Each file as `docker-compose config` resolves it (once: the command takes a second or so)."""
    resolved = {}
    for file in (SINGLE, HYBRID):
        result = run_compose(file, ENVIRONMENTS[file.name], tmp_path_factory.mktemp("compose"), "config")
        assert result.returncode == 0, result.stderr
        resolved[file.name] = yaml.safe_load(result.stdout)
    return resolved


def resolved(configs: dict[str, dict[str, Any]], file: Path) -> dict[str, Any]:
    """A copy of the file's resolved config, for a test to change."""
    return copy.deepcopy(configs[file.name])


def test_every_compose_file_is_checked() -> None:
    assert sorted(p.name for p in COMPOSE_DIR.glob("docker-compose*.yml")) == sorted(ENVIRONMENTS)


@pytest.mark.parametrize("file", [SINGLE, HYBRID], ids=lambda p: p.name)
def test_compose_file_is_valid(file: Path, tmp_path: Path) -> None:
    result = run_compose(file, ENVIRONMENTS[file.name], tmp_path, "config", "-q")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("file", "missing"),
    [(SINGLE, name) for name in ENVIRONMENTS[SINGLE.name]] + [(HYBRID, name) for name in ENVIRONMENTS[HYBRID.name]],
    ids=lambda value: value.name if isinstance(value, Path) else value,
)
def test_compose_file_refuses_to_resolve_without_a_secret(file: Path, missing: str, tmp_path: Path) -> None:
    settings = {key: value for key, value in ENVIRONMENTS[file.name].items() if key != missing}
    result = run_compose(file, settings, tmp_path, "config", "-q")
    assert result.returncode != 0
    assert missing in result.stderr


def test_single_process_stack_keeps_its_rules(configs: dict[str, dict[str, Any]]) -> None:
    assert single_compose_problems(resolved(configs, SINGLE), module_facts()) == []


def test_hybrid_stack_keeps_its_rules(configs: dict[str, dict[str, Any]]) -> None:
    assert hybrid_compose_problems(resolved(configs, HYBRID), module_facts()) == []


def test_hybrid_stack_has_the_old_topology(configs: dict[str, dict[str, Any]]) -> None:
    services = resolved(configs, HYBRID)["services"]
    ports = {name: services[name]["environment"]["PORT"] for name in ("auth", "user", "customer", "carrier", "pricing")}
    assert ports == {"auth": "3001", "user": "3003", "customer": "3004", "carrier": "3005", "pricing": "3006"}
    assert services["pricing"]["environment"]["CARRIER_SERVICE_URL"] == "http://carrier:3005"
    assert services["pricing"]["environment"]["CUSTOMER_SERVICE_URL"] == "http://customer:3004"
    assert services["auth"]["environment"]["USER_SERVICE_URL"] == "http://user:3003"
    assert sorted(n for n, s in services.items() if s.get("image", "").startswith("mysql")) == [
        "mysql-carrier",
        "mysql-customer",
        "mysql-identity",
        "mysql-pricing",
    ]


Change = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Change:
    def change(config: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = config
        for key in parents:
            node = node[key]
        if value is None:
            del node[last]
        else:
            node[last] = value

    return change


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(_set("services.mysql.ports", ["3306:3306"]), "mysql: publishes", id="database-published"),
        pytest.param(
            _set("services.freightdesk.ports", ["8000:8000"]),
            "freightdesk: publishes [':8000:8000']",
            id="app-on-every-interface",
        ),
        pytest.param(
            _set("services.redis.command", ["redis-server"]),
            "redis: not started with --appendonly yes",
            id="redis-not-persistent",
        ),
        pytest.param(
            _set("services.freightdesk.restart", None),
            "freightdesk: restart is None, not 'unless-stopped'",
            id="no-restart",
        ),
        pytest.param(
            _set("services.freightdesk.healthcheck", None),
            "freightdesk: its healthcheck does not call",
            id="no-healthcheck",
        ),
        pytest.param(
            _set("services.freightdesk.depends_on.migrate", {"condition": "service_started"}),
            "freightdesk: does not wait for migrate to complete successfully",
            id="migration-not-awaited",
        ),
        pytest.param(
            _set(
                "services.freightdesk.environment.CARRIER_DATABASE_URL",
                "mysql+asyncmy://freightdesk:freightdesk@mysql:3306/carrier_service_db",
            ),
            "freightdesk: CARRIER_DATABASE_URL has an empty or documented default password",
            id="default-password",
        ),
        pytest.param(
            _set(
                "services.freightdesk.environment.PRICING_DATABASE_URL",
                "mysql+asyncmy://freightdesk_carrier:carrier-pw-0123456789@mysql:3306/pricing_service_db",
            ),
            "freightdesk: PRICING_DATABASE_URL logs in as 'freightdesk_carrier', not as pricing_service_db's own user",
            id="shared-database-user",
        ),
        pytest.param(_set("services.mysql.image", "mariadb:10.11"), "compose: 0 MySQL services", id="not-mysql"),
    ],
)
def test_a_broken_single_process_stack_fails(change: Change, expected: str, configs: dict[str, dict[str, Any]]) -> None:
    config = resolved(configs, SINGLE)
    change(config)
    problems = single_compose_problems(config, module_facts())
    assert any(p.startswith(expected) for p in problems), problems


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            _set("services.customer.ports", ["127.0.0.1:3004:3004"]), "customer: publishes", id="module-published"
        ),
        pytest.param(
            _set("services.pricing.environment.FREIGHTDESK_MODULES", "pricing,carrier"),
            "pricing: FREIGHTDESK_MODULES is 'pricing,carrier'",
            id="wrong-modules",
        ),
        pytest.param(
            _set("services.carrier.environment.PORT", "8000"),
            "carrier: PORT is '8000', not the old topology's 3005",
            id="wrong-port",
        ),
        pytest.param(
            _set("services.pricing.environment.CUSTOMER_SERVICE_URL", None),
            "pricing: CUSTOMER_SERVICE_URL is not http://customer:3004",
            id="dependency-unreachable",
        ),
        pytest.param(
            _set("services.user.environment.FREIGHTDESK_EVENT_TRANSPORT", "inprocess"),
            "user: FREIGHTDESK_EVENT_TRANSPORT is not redis",
            id="in-process-events",
        ),
        pytest.param(
            _set("services.auth.environment.FREIGHTDESK_SERVICE_SECRET", ""),
            "auth: FREIGHTDESK_SERVICE_SECRET is not set",
            id="no-service-secret",
        ),
        pytest.param(
            _set("services.carrier.environment.FREIGHTDESK_JWT_PRIVATE_KEY_FILE", "/app/var/keys/k.pem"),
            "carrier: only auth may hold the signing key",
            id="private-key-spread",
        ),
        pytest.param(
            _set("services.mysql-pricing", None),
            "compose: 3 MySQL services for 4 databases",
            id="database-servers-merged",
        ),
        pytest.param(
            _set("services.migrate-carrier.environment.FREIGHTDESK_MODULES", "pricing"),
            "migrate-carrier: does not migrate carrier",
            id="migration-of-another-module",
        ),
        pytest.param(
            _set("services.gateway.volumes", []),
            "gateway: compose/gateway/nginx.conf is not mounted",
            id="gateway-without-routes",
        ),
        pytest.param(_set("services.pricing", None), "compose: no service for module pricing", id="module-missing"),
    ],
)
def test_a_broken_hybrid_stack_fails(change: Change, expected: str, configs: dict[str, dict[str, Any]]) -> None:
    config = resolved(configs, HYBRID)
    change(config)
    problems = hybrid_compose_problems(config, module_facts())
    assert any(p.startswith(expected) for p in problems), problems
