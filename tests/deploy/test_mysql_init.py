"""compose/mysql/10-freightdesk-databases.sh, the compose stacks' MySQL init script, creates each database it
is given with a user of its own and refuses a missing or weak password; it is run here as the MySQL image runs
it (sourced by bash), with the image's `docker_process_sql` replaced by one that records the SQL."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.deploy_checks import COMPOSE_DIR, DATABASES

SCRIPT = COMPOSE_DIR / "mysql" / "10-freightdesk-databases.sh"
GOOD = "a-good-password-0123"


def run_script(tmp_path: Path, settings: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], str]:
    bash = shutil.which("bash")
    assert bash is not None
    recorded = tmp_path / "statements.sql"
    program = f'docker_process_sql() {{ echo "-- docker_process_sql $*" >> "{recorded}"; cat >> "{recorded}"; }}\n'
    program += f'. "{SCRIPT}"\n'
    result = subprocess.run(  # noqa: S603 (our own script)
        [bash, "-c", program],
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", ""), **settings},
        timeout=30,
        check=False,
    )
    return result, recorded.read_text(encoding="utf-8") if recorded.exists() else ""


def test_each_database_gets_a_user_of_its_own(tmp_path: Path) -> None:
    result, sql = run_script(
        tmp_path,
        {
            "FREIGHTDESK_DATABASES": "shared_user_db=identity customer_service_db=customer",
            "FREIGHTDESK_IDENTITY_DB_PASSWORD": GOOD + "-i",
            "FREIGHTDESK_CUSTOMER_DB_PASSWORD": GOOD + "-c",
        },
    )
    assert result.returncode == 0, result.stderr
    assert "CREATE DATABASE IF NOT EXISTS `shared_user_db` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;" in sql
    assert f"CREATE USER IF NOT EXISTS 'freightdesk_identity'@'%' IDENTIFIED BY '{GOOD}-i';" in sql
    assert "GRANT ALL PRIVILEGES ON `shared_user_db`.* TO 'freightdesk_identity'@'%';" in sql
    assert f"CREATE USER IF NOT EXISTS 'freightdesk_customer'@'%' IDENTIFIED BY '{GOOD}-c';" in sql
    assert "GRANT ALL PRIVILEGES ON `customer_service_db`.* TO 'freightdesk_customer'@'%';" in sql
    # Each user is granted its own database and nothing else.
    assert re.findall(r"GRANT .* TO '(\w+)'", sql) == ["freightdesk_identity", "freightdesk_customer"]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        pytest.param({}, "FREIGHTDESK_DATABASES is not set", id="nothing-to-create"),
        pytest.param(
            {"FREIGHTDESK_DATABASES": "pricing_service_db=pricing"},
            "FREIGHTDESK_PRICING_DB_PASSWORD is not set",
            id="no-password",
        ),
        pytest.param(
            {"FREIGHTDESK_DATABASES": "pricing_service_db=pricing", "FREIGHTDESK_PRICING_DB_PASSWORD": "freightdesk"},
            "FREIGHTDESK_PRICING_DB_PASSWORD: use at least 16 characters",
            id="documented-default",
        ),
        pytest.param(
            {
                "FREIGHTDESK_DATABASES": "pricing_service_db=pricing",
                "FREIGHTDESK_PRICING_DB_PASSWORD": GOOD + "'; DROP USER root; --",
            },
            "FREIGHTDESK_PRICING_DB_PASSWORD: use at least 16 characters",
            id="sql-in-the-password",
        ),
        pytest.param({"FREIGHTDESK_DATABASES": "pricing_service_db"}, "expected database=name pairs", id="no-name"),
        pytest.param({"FREIGHTDESK_DATABASES": "pricing`db=pricing"}, "expected database=name pairs", id="bad-name"),
    ],
)
def test_a_missing_or_weak_password_stops_the_initialisation(
    tmp_path: Path, settings: dict[str, str], expected: str
) -> None:
    result, sql = run_script(tmp_path, settings)
    assert result.returncode != 0
    assert expected in result.stderr
    assert "IDENTIFIED BY" not in sql


def test_the_compose_databases_are_the_ones_ci_creates() -> None:
    """The compose stacks and compose/mysql-init.sql (.ci/run, a developer's server) hold the same databases."""
    ci = set(re.findall(r"CREATE DATABASE IF NOT EXISTS `(\w+)`", (COMPOSE_DIR / "mysql-init.sql").read_text()))
    assert ci == set(DATABASES.values())
    for file in COMPOSE_DIR.glob("docker-compose*.yml"):
        listed = set(re.findall(r"\b(\w+_db)=\w+", file.read_text(encoding="utf-8")))
        assert listed == set(DATABASES.values()), file.name
