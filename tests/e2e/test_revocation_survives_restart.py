"""Black-box: revoked sessions stay revoked across restarts — of the process (SIGTERM and kill -9), of a Redis
that keeps nothing on disk, or both — for a logout, a demotion (role change), a deactivation and a password
reset."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_run_command import free_port, wait_healthy

ADMIN = {"email": "admin@example.com", "password": "admin123"}
PASSWORD = "Correct-Horse-42"


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]


@contextmanager
def serving(tmp_path: Path, **settings: str) -> Iterator[Server]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.endswith("_DATABASE_URL") and k != "REDIS_URL"}
    env.update({"FREIGHTDESK_DATA_DIR": str(tmp_path / "var"), "FREIGHTDESK_LOG_LEVEL": "WARNING", **settings})
    process = subprocess.Popen(  # noqa: S603 - our own console script
        [str(Path(sys.executable).with_name("freightdesk")), "run", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = Server(f"http://127.0.0.1:{port}", process)
    try:
        wait_healthy(server.url)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=15)


def stop(server: Server, how: signal.Signals) -> None:
    server.process.send_signal(how)
    server.process.wait(timeout=15)


class OwnRedis:
    """A Redis server of this test's own that keeps nothing on disk (as compose and CI run it)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server not installed")
        self.process = subprocess.Popen(  # noqa: S603 - the system's redis-server, fixed arguments
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not self.answers():
            assert time.monotonic() < deadline, "redis did not start"
            time.sleep(0.1)

    def answers(self) -> bool:
        command = ["redis-cli", "-p", str(self.port), "ping"]
        ping = subprocess.run(command, capture_output=True, check=False)  # noqa: S603 - fixed arguments
        return ping.stdout.strip() == b"PONG"

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@contextmanager
def own_redis() -> Iterator[OwnRedis]:
    redis = OwnRedis(free_port())
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


def login(url: str, credentials: dict[str, str]) -> dict[str, str]:
    answer = httpx.post(f"{url}/api/v1/auth/login", json=credentials, timeout=10)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['data']['access_token']}"}


def profile_status(url: str, headers: dict[str, str]) -> int:
    return httpx.get(f"{url}/api/v1/auth/profile", headers=headers, timeout=10).status_code


def revoke_sessions(url: str) -> dict[str, dict[str, str]]:
    """Logs out the admin, demotes a manager, deactivates a user, resets a user's password; returns the four old
    tokens' headers."""
    admin = login(url, ADMIN)
    roles = {r["name"]: r["id"] for r in httpx.get(f"{url}/api/v1/roles/active", headers=admin).json()["data"]}
    accounts = (("demoted@example.com", "manager"), ("deactivated@example.com", "user"), ("reset@example.com", "user"))
    for email, role in accounts:
        body = {"email": email, "password": PASSWORD, "firstName": "Old", "lastName": "Token", "roleIds": [roles[role]]}
        created = httpx.post(f"{url}/api/v1/users", json=body, headers=admin)
        assert created.status_code == 201, created.text
    demoted = login(url, {"email": "demoted@example.com", "password": PASSWORD})
    deactivated = login(url, {"email": "deactivated@example.com", "password": PASSWORD})
    reset = login(url, {"email": "reset@example.com", "password": PASSWORD})
    ids = {
        u["email"]: u["id"] for u in httpx.get(f"{url}/api/v1/users?limit=100", headers=admin).json()["data"]["users"]
    }

    demote = httpx.patch(
        f"{url}/api/v1/users/{ids['demoted@example.com']}/roles", json={"roleIds": [roles["user"]]}, headers=admin
    )
    assert demote.status_code == 200, demote.text
    deactivate = httpx.patch(
        f"{url}/api/v1/users/{ids['deactivated@example.com']}", json={"isActive": False}, headers=admin
    )
    assert deactivate.status_code == 200, deactivate.text
    new_password = httpx.patch(
        f"{url}/api/v1/users/{ids['reset@example.com']}", json={"password": "Other-Horse-43"}, headers=admin
    )
    assert new_password.status_code == 200, new_password.text
    assert httpx.post(f"{url}/api/v1/auth/logout", headers=admin).status_code == 200

    tokens = {"logged out": admin, "demoted": demoted, "deactivated": deactivated, "password reset": reset}
    for what, headers in tokens.items():
        assert profile_status(url, headers) == 401, what
    return tokens


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "kill-9"])
def test_revoked_sessions_stay_revoked_after_a_restart_on_the_embedded_default(
    tmp_path: Path, how: signal.Signals
) -> None:
    with serving(tmp_path) as first:
        tokens = revoke_sessions(first.url)
        stop(first, how)
    with serving(tmp_path) as second:
        for what, headers in tokens.items():
            assert profile_status(second.url, headers) == 401, f"{what} came back after {how.name}"
        assert profile_status(second.url, login(second.url, ADMIN)) == 200


def test_revoked_sessions_stay_revoked_when_redis_restarts_empty(tmp_path: Path) -> None:
    with own_redis() as redis, serving(tmp_path, REDIS_URL=redis.url) as server:
        tokens = revoke_sessions(server.url)
        redis.stop()
        redis.start()  # the same address, nothing kept
        time.sleep(1.5)  # the process finds the cache emptied and fills it again from the record
        for what, headers in tokens.items():
            assert profile_status(server.url, headers) == 401, f"{what} came back after Redis restarted"


def test_revoked_sessions_stay_revoked_when_process_and_redis_restart(tmp_path: Path) -> None:
    with own_redis() as redis:
        with serving(tmp_path, REDIS_URL=redis.url) as first:
            tokens = revoke_sessions(first.url)
            stop(first, signal.SIGKILL)
        redis.stop()
        redis.start()
        with serving(tmp_path, REDIS_URL=redis.url) as second:
            for what, headers in tokens.items():
                assert profile_status(second.url, headers) == 401, f"{what} came back after both restarted"
