"""The Dockerfile keeps its rules: a uv builder stage and a slim runtime stage that only receives the virtual
environment and the code, a numeric non-root user (the one the Kubernetes pods run as), a liveness HEALTHCHECK
with what the image has, production mode, and a CMD made of options `freightdesk run` really has."""

from __future__ import annotations

import pytest

from bootstrap.cli import run
from tests.deploy.deploy_checks import DOCKERFILE, dockerfile_problems, dockerfile_stages

RUN_OPTIONS = [option for parameter in run.params for option in parameter.opts]


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return DOCKERFILE.read_text(encoding="utf-8")


def test_the_dockerfile_keeps_its_rules(dockerfile: str) -> None:
    assert dockerfile_problems(dockerfile, RUN_OPTIONS) == []


def test_the_stages_are_read_as_docker_reads_them(dockerfile: str) -> None:
    builder, runtime = dockerfile_stages(dockerfile)
    assert builder[0].keyword == runtime[0].keyword == "FROM"
    assert builder[0].arguments.endswith("AS builder")
    assert any(i.keyword == "USER" and i.arguments == "10001:10001" for i in runtime)
    # A continued RUN is one instruction, its comment lines dropped.
    assert any(i.keyword == "RUN" and "groupadd" in i.arguments and "useradd" in i.arguments for i in runtime)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param("FROM ${PYTHON_IMAGE} AS runtime", "", "Dockerfile: 1 stage(s)", id="single-stage"),
        pytest.param(
            "USER 10001:10001", "USER freightdesk", "Dockerfile: USER freightdesk is not numeric", id="named-user"
        ),
        pytest.param("USER 10001:10001", "USER 0:0", "Dockerfile: USER 0:0 is not 10001:10001", id="root"),
        pytest.param("USER 10001:10001\n", "", "Dockerfile: the runtime stage sets no USER", id="no-user"),
        pytest.param("HEALTHCHECK", "# HEALTHCHECK", "Dockerfile: no HEALTHCHECK", id="no-healthcheck"),
        pytest.param("/api/v1/health/live", "/api/v1/health", "Dockerfile: no HEALTHCHECK", id="healthcheck-with-io"),
        pytest.param(
            "FREIGHTDESK_ENV=production",
            "FREIGHTDESK_ENV=development",
            "Dockerfile: the image does not default to FREIGHTDESK_ENV=production",
            id="development-mode",
        ),
        pytest.param(
            '--port "${PORT:-8000}"', "--port 8000", "Dockerfile: CMD does not take its port from PORT", id="fixed-port"
        ),
        pytest.param(
            '--port "${PORT:-8000}"',
            '--port "${PORT:-8000}" --threads 4',
            "Dockerfile: CMD passes ['--threads']",
            id="option-run-lacks",
        ),
        pytest.param(
            "--host 0.0.0.0", "--host 127.0.0.1", "Dockerfile: CMD does not listen on 0.0.0.0", id="loopback-only"
        ),
        pytest.param(
            "uv sync --frozen --no-dev",
            "uv sync --frozen",
            "Dockerfile: no builder stage runs uv sync --frozen --no-dev",
            id="dev-dependencies",
        ),
        pytest.param(
            "COPY --from=builder /app/.venv ./.venv",
            "RUN pip install --no-cache-dir .",
            "Dockerfile: the runtime stage installs packages",
            id="install-in-runtime",
        ),
        pytest.param(
            "chown -R 10001:10001 /app/var",
            "true",
            "Dockerfile: the data dir /app/var is not made writable",
            id="data-dir-read-only",
        ),
    ],
)
def test_a_broken_dockerfile_fails(dockerfile: str, old: str, new: str, expected: str) -> None:
    assert old in dockerfile
    problems = dockerfile_problems(dockerfile.replace(old, new), RUN_OPTIONS)
    assert any(p.startswith(expected) for p in problems), problems
