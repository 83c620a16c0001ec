"""A Redis server of the test's own, on a free port, that the test may stop and start again (an outage).

The shared test Redis (FREIGHTDESK_TEST_REDIS_URL) must never be stopped: other runs use it. This one is a
child process of the test, without persistence, killed by its own process id.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

START_TIMEOUT_SECONDS = 10.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OwnRedis:
    def __init__(self, executable: str, workdir: Path, persistent: bool = False) -> None:
        """`persistent`: append-only file, written through on every write, as compose runs Redis."""
        self.executable = executable
        self.persistence = ("--appendonly", "yes", "--appendfsync", "always") if persistent else ("--appendonly", "no")
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start (again) on the same port and wait until it answers."""
        assert self.process is None, "already running"
        self.process = subprocess.Popen(  # noqa: S603 - the redis-server found on PATH
            [
                self.executable,
                *("--port", str(self.port), "--bind", "127.0.0.1", "--save", "", *self.persistence),
                *("--dir", str(self.workdir), "--daemonize", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode} (port {self.port})")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port} within {START_TIMEOUT_SECONDS}s")

    def stop(self) -> None:
        """Kill it outright (no shutdown handshake): what clients see when Redis goes away."""
        if self.process is None:
            return
        self.process.kill()
        self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    """A running redis-server of this test's own; skipped when none is installed (required with CI=true)."""
    executable = shutil.which("redis-server")
    if executable is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("redis-server is required when CI=true but is not on PATH")
        pytest.skip("redis-server not installed")
    workdir = tmp_path / "redis"
    workdir.mkdir()
    server = OwnRedis(executable, workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()
