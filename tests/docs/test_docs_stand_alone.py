"""The docs stand on their own: every link in docs/ and the README reaches a file of this repository, and no
document names one that is kept elsewhere (the old project's specifications)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = [*sorted((REPO / "docs").rglob("*.md")), REPO / "README.md"]
LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")
WEB = ("http://", "https://", "mailto:")
KEPT_ELSEWHERE = re.compile(r"api-v1 §|architecture spec|seed-data\.md|style\.md|\.\./shared\b", re.IGNORECASE)
"""How the docs used to point at the old project's files: its API and architecture specs, seed and style notes."""


def problems(document: Path, text: str) -> list[str]:
    """Links that leave the repository or reach no file, and names of documents kept elsewhere."""
    found = []
    for match in LINK.finditer(text):
        target = match["target"].split("#", 1)[0]
        if not target or target.startswith(WEB):
            continue
        resolved = (document.parent / target).resolve()
        if not resolved.is_relative_to(REPO):
            found.append(f"{target}: outside the repository")
        elif not resolved.exists():
            found.append(f"{target}: no such file")
    found.extend(f"names {match[0]!r}" for match in KEPT_ELSEWHERE.finditer(text))
    return found


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(REPO)))
def test_a_document_points_only_at_files_of_the_repository(document: Path) -> None:
    assert problems(document, document.read_text(encoding="utf-8")) == []


def test_a_link_out_of_the_repository_a_missing_file_or_an_outside_name_is_reported() -> None:
    planted = (
        "See [the spec](../../shared/api-v1.md#4) and [gone](no-such-file.md), as api-v1 §4 and style.md say;"
        " [fine](architecture.md#2-boundaries), [web](https://example.com/x)."
    )
    assert problems(REPO / "docs" / "api.md", planted) == [
        "../../shared/api-v1.md: outside the repository",
        "no-such-file.md: no such file",
        "names '../shared'",
        "names 'api-v1 §'",
        "names 'style.md'",
    ]
