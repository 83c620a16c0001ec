"""Black-box: each module that can run alone starts with nothing else hosted (`freightdesk run --modules ...`):
its migrations, routes and health work, and nothing of the other modules is there."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bootstrap.catalog import available_modules, load_descriptor
from kernel.security.keys import KeyRing
from kernel.security.tokens import TokenIssuer
from kernel.settings import Settings
from tests.e2e.test_run_command import started, wait_healthy


def token(data_dir: Path, permissions: list[str]) -> dict[str, str]:
    """A token signed with the process's own development key (it lives in the data dir)."""
    settings = Settings.from_mapping({"FREIGHTDESK_DATA_DIR": str(data_dir)})
    issued = TokenIssuer(KeyRing.load(settings), settings.jwt_issuer, 60).issue(
        user_id=1, email="ops@example.com", roles=["admin"], permissions=permissions, session_id="alone"
    )
    return {"Authorization": f"Bearer {issued}"}


def health_path(module: str) -> str:
    return f"/api/v1{load_descriptor(module).route_prefixes[0]}/health"


@pytest.mark.parametrize(
    ("modules", "probe"),
    [
        pytest.param(["carrier"], ("/carriers?limit=100", "carriers.list"), id="carrier"),
        pytest.param(["user"], ("/users?limit=100", "users.list"), id="user"),
        pytest.param(["auth", "user"], ("/auth/profile", ""), id="auth-and-user"),
        pytest.param(
            ["carrier", "customer", "pricing", "user"],
            ("/pricing/rules?limit=100", "pricing.view"),
            id="pricing-and-its-dependencies",
        ),
        pytest.param(["customer", "user"], ("/customers?limit=100", "customers.list"), id="customer-and-user"),
    ],
)
def test_a_module_runs_alone(tmp_path: Path, modules: list[str], probe: tuple[str, str]) -> None:
    with started(tmp_path, FREIGHTDESK_MODULES=",".join(modules)) as (base_url, data_dir):
        health = wait_healthy(base_url).json()["data"]
        assert set(health["modules"]) == set(modules)
        assert all(m["status"] == "healthy" for m in health["modules"].values()), health
        assert httpx.get(f"{base_url}/api/v1/health/ready").status_code == 200  # migrations at head

        files = {p.name for p in data_dir.iterdir() if p.suffix == ".sqlite"}
        assert files == {load_descriptor(name).database.default_file for name in modules}

        for name in available_modules():
            expected = 200 if name in modules else 404
            assert httpx.get(f"{base_url}{health_path(name)}").status_code == expected, name

        path, permission = probe
        if "auth" in modules:
            login = httpx.post(
                f"{base_url}/api/v1/auth/login", json={"email": "admin@example.com", "password": "admin123"}
            )
            assert login.status_code == 200, login.text
            headers = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
        else:
            headers = token(data_dir, [permission])
        answer = httpx.get(f"{base_url}/api/v1{path}", headers=headers)
        assert answer.status_code == 200, answer.text
        if path.startswith("/carriers"):
            assert answer.json()["data"]["total"] == 25  # demo carriers seeded on first start
        if path.startswith("/pricing/rules"):
            assert answer.json()["data"]["total"] == 6  # demo pricing rules seeded after the carriers
        if path.startswith("/customers"):
            # 250 demo customers seeded on first start, then one profile per seeded user (the administrator and
            # the 11 demo users), made from their user.created events before the process serves
            assert answer.json()["data"]["total"] == 262
        if path.startswith("/users"):
            assert answer.json()["data"]["total"] >= 1  # the default administrator
