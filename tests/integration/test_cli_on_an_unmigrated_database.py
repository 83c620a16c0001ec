"""Commands that read a module's tables answer a database that was never migrated with one line naming the
cure, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bootstrap.cli import main


@pytest.mark.parametrize("command", [["events", "dead-letters"], ["events", "replay", "--module", "user"]])
def test_an_unmigrated_database_is_one_line_naming_db_upgrade(tmp_path: Path, command: list[str]) -> None:
    (tmp_path / "var").mkdir()
    env = {"FREIGHTDESK_DATA_DIR": str(tmp_path / "var"), "FREIGHTDESK_AUTO_MIGRATE": "false"}
    result = CliRunner().invoke(main, command, env=env)
    assert result.exit_code == 1, result.output
    assert "run `freightdesk db upgrade` first" in result.output
    assert "Traceback" not in result.output
