"""The demo accounts in the README and docs/reference-data.md are the ones the seed creates, and they work."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from litestar import Litestar

from modules.user.internal.seed import ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, DEMO_PASSWORD, DEMO_USERS, demo_email
from tests.auth.conftest import anonymous, login
from tests.helpers import runtime_of

ROOT = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\| `(?P<email>[^`@]+@[^`]+)` \| `(?P<role>[^`]+)` \| `(?P<password>[^`]+)`", re.MULTILINE)
__all__ = ["anonymous"]  # the fixture
SEEDED = [(demo_email(first, last), role, DEMO_PASSWORD) for first, last, role in DEMO_USERS]


def documented(path: Path) -> list[tuple[str, str, str]]:
    return [(m["email"], m["role"], m["password"]) for m in ROW.finditer(path.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("document", ["README.md", "docs/reference-data.md"])
def test_the_demo_account_table_lists_what_the_seed_creates(document: str) -> None:
    rows = [row for row in documented(ROOT / document) if row[0] != ADMIN_EMAIL]
    assert rows == SEEDED


def test_the_readme_names_the_default_administrator() -> None:
    assert (ADMIN_EMAIL, "admin", DEFAULT_ADMIN_PASSWORD) in documented(ROOT / "README.md")


async def test_every_demo_account_signs_in_with_the_documented_role(
    anonymous: httpx.AsyncClient, app: Litestar
) -> None:
    await runtime_of(app).seed(demo=True)
    one_per_role = {role: (email, role, password) for email, role, password in SEEDED}.values()
    for email, role, password in one_per_role:
        signed_in = await login(anonymous, email, password)
        assert [r["name"] for r in signed_in["user"]["roles"]] == [role]
