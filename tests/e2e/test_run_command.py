"""Black-box: `freightdesk run` on the embedded default, as a newcomer starts it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from bootstrap.catalog import available_modules, load_descriptor
from kernel.security.keys import KeyRing
from kernel.security.tokens import TokenIssuer
from kernel.settings import Settings

START_TIMEOUT_SECONDS = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    with started(tmp_path) as running:
        yield running


@contextmanager
def started(tmp_path: Path, **settings: str) -> Iterator[tuple[str, Path]]:
    port = free_port()
    data_dir = tmp_path / "var"
    env = {k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL") and k != "REDIS_URL"}
    env.update({"FREIGHTDESK_DATA_DIR": str(data_dir), "FREIGHTDESK_LOG_LEVEL": "WARNING", **settings})
    freightdesk = Path(sys.executable).with_name("freightdesk")
    process = subprocess.Popen(  # noqa: S603 - our own console script
        [str(freightdesk), "run", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield f"http://127.0.0.1:{port}", data_dir
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        output = process.stdout.read().decode(errors="replace") if process.stdout else ""
        assert "Traceback" not in output, output


def wait_healthy(base_url: str) -> httpx.Response:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"{base_url}/api/v1/health", timeout=2)
            if response.status_code == 200:
                return response
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"not healthy within {START_TIMEOUT_SECONDS}s")


def test_run_starts_migrates_and_seeds_on_the_embedded_default(server: tuple[str, Path]) -> None:
    base_url, data_dir = server
    health = wait_healthy(base_url).json()["data"]
    assert health["status"] == "healthy"
    assert set(health["modules"]) == set(available_modules())
    assert all(m["checks"]["database"]["status"] == "healthy" for m in health["modules"].values())

    expected_files = {load_descriptor(name).database.default_file for name in available_modules()}
    assert expected_files <= {p.name for p in data_dir.iterdir()}

    assert httpx.get(f"{base_url}/api/v1/carriers").status_code == 401
    settings = Settings.from_mapping({"FREIGHTDESK_DATA_DIR": str(data_dir)})
    token = TokenIssuer(KeyRing.load(settings), settings.jwt_issuer, 60).issue(
        user_id=1,
        email="ops@example.com",
        roles=["admin"],
        permissions=["carriers.list", "system.monitoring"],
        session_id="e2e",
    )
    headers = {"Authorization": f"Bearer {token}"}
    carriers = httpx.get(f"{base_url}/api/v1/carriers", params={"limit": 100}, headers=headers).json()["data"]
    assert carriers["total"] == 25  # demo carriers on first start
    assert httpx.get(f"{base_url}/api/v1/health/ready").status_code == 200
    assert httpx.get(f"{base_url}/api/docs/openapi.json").status_code == 200
    assert httpx.get(f"{base_url}/metrics").status_code == 401
    metrics = httpx.get(f"{base_url}/metrics", headers=headers)
    assert metrics.status_code == 200
    assert "freightdesk_outbox_backlog" in metrics.text


def test_a_module_whose_database_is_down_does_not_keep_the_others_from_starting(tmp_path: Path) -> None:
    with started(tmp_path, CARRIER_DATABASE_URL="mysql+asyncmy://nobody:pw@127.0.0.1:1/carrier") as (base_url, _):
        health = wait_healthy(base_url).json()["data"]
        assert health["status"] == "degraded"
        assert health["modules"]["carrier"]["status"] == "unhealthy"
        assert health["modules"]["user"]["status"] == "healthy"
        assert httpx.get(f"{base_url}/api/v1/carriers/health").status_code == 503
        signed_in = httpx.post(
            f"{base_url}/api/v1/auth/login", json={"email": "admin@example.com", "password": "admin123"}
        )
        assert signed_in.status_code == 200


def test_a_wrong_setting_ends_any_command_in_one_line_naming_it(tmp_path: Path) -> None:
    freightdesk = Path(sys.executable).with_name("freightdesk")
    env = {**os.environ, "FREIGHTDESK_DATA_DIR": str(tmp_path), "FREIGHTDESK_MODULES": "nope"}
    for command in (["db", "current"], ["seed"], ["modules"], ["events", "dead-letters"], ["run"]):
        result = subprocess.run(  # noqa: S603 - our own console script
            [str(freightdesk), *command], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        assert "FREIGHTDESK_MODULES" in result.stderr, command
        assert "Traceback" not in result.stderr + result.stdout, command
