"""Black-box: a client generated from the served document works against a running server.

openapi-python-client (from PyPI, run with `uv tool run`; nothing generated is kept) turns
/api/docs/openapi.json into a typed client; tests/e2e/client_driver.py then signs in, lists, reads, creates
and deletes a carrier and reads a 404, in a throwaway environment holding only the client's own dependencies.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_run_command import started, wait_healthy

GENERATOR = "openapi-python-client==0.29.1"
CLIENT_DEPENDENCIES = ["httpx>=0.23", "attrs>=22.2", "python-dateutil>=2.8"]
STEP_TIMEOUT_SECONDS = 120
CONFIG = """\
project_name_override: freightdesk-client
package_name_override: freightdesk_client
post_hooks: []
"""


def uv() -> str:
    found = shutil.which("uv")
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("uv is required to generate the client")
        pytest.skip("uv not installed")
    return found


def run(command: list[str], cwd: Path, **env: str) -> str:
    result = subprocess.run(  # noqa: S603 - uv, with arguments of our own
        command,
        cwd=cwd,
        env={**os.environ, "UV_NO_PROGRESS": "1", **env},
        capture_output=True,
        text=True,
        timeout=STEP_TIMEOUT_SECONDS,
        check=False,
    )
    assert result.returncode == 0, f"{command[:4]} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_a_client_generated_from_the_document_signs_in_and_manages_carriers(tmp_path: Path) -> None:
    uv_path = uv()
    work = tmp_path / "client"
    work.mkdir()
    with started(tmp_path) as (base_url, _):
        wait_healthy(base_url)
        document = httpx.get(f"{base_url}/api/docs/openapi.json", timeout=30)
        assert document.status_code == 200
        (work / "openapi.json").write_bytes(document.content)
        (work / "config.yml").write_text(CONFIG)
        generated = run(
            [
                uv_path,
                "tool",
                "run",
                "--from",
                GENERATOR,
                "openapi-python-client",
                "generate",
                "--path",
                "openapi.json",
                "--config",
                "config.yml",
                "--meta",
                "none",
                "--output-path",
                "freightdesk_client",
            ],
            work,
        )
        assert "Warning" not in generated, generated  # every operation and schema was understood
        shutil.copy(Path(__file__).with_name("client_driver.py"), work / "client_driver.py")
        dependencies = [arg for dep in CLIENT_DEPENDENCIES for arg in ("--with", dep)]
        output = run(
            [uv_path, "run", "--isolated", "--no-project", *dependencies, "python", "client_driver.py", base_url],
            work,
            PYTHONPATH=str(work),
        )
    seen = json.loads(output.strip().splitlines()[-1])
    assert seen["login"] == {"tokenType": "Bearer", "email": "admin@example.com"}
    assert seen["list"]["limit"] == 5
    assert seen["list"]["total"] >= 5
    assert seen["list"]["names"] == sorted(seen["list"]["names"], key=str.lower)
    assert seen["read"] == {"name": seen["list"]["names"][0], "createdAtType": "datetime"}
    assert seen["create"] == {
        "statusCode": 201,
        "name": "Generated Client Freight",
        "baseRate": 12.5,
        "perKgRate": 0.75,
    }
    assert seen["delete"] == {"status": 204, "content": ""}
    assert seen["notFound"] == {"statusCode": 404, "error": "Not Found", "message": "Carrier not found"}
