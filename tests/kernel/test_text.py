"""The shared name rule: NFKC form, compared by a lower-cased key, invisible and direction characters refused."""

from __future__ import annotations

import unicodedata

import pytest

from kernel.contracts.errors import FieldErrors, ValidationFailed
from kernel.contracts.text import has_format_characters, name_key, normalized, trimmed

NFC = "Caf\u00e9"
NFD = "Cafe\u0301"
INVISIBLE = "invisible or text-direction characters"


def checked(raw: str) -> tuple[str, dict[str, list[str]]]:
    errors = FieldErrors()
    text = trimmed(errors, "name", raw, 2, 50)
    try:
        errors.raise_if_any()
    except ValidationFailed as failure:
        return text, failure.field_errors
    return text, {}


@pytest.mark.parametrize("spelling", [NFC, NFD, "\uff23af\u00e9", f"  {NFD}\u3000"])
def test_look_alike_spellings_become_one_name_and_one_key(spelling: str) -> None:
    text, problems = checked(spelling)
    assert (text, problems) == (NFC, {})
    assert name_key(spelling) == "caf\u00e9"
    assert unicodedata.is_normalized("NFKC", text)


def test_compatibility_forms_fold() -> None:
    assert normalized("\ufb01sh \u2460") == "fish 1"  # the fi ligature, a circled digit


@pytest.mark.parametrize(
    "character",
    [
        *("\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e"),
        *("\u2066", "\u2067", "\u2068", "\u2069", "\ufeff", "\u00ad", "\u2060", "\U000e0041"),
    ],
)
def test_invisible_and_direction_characters_are_refused(character: str) -> None:
    assert unicodedata.category(character) == "Cf"
    for raw in (f"Ca{character}fe", f"{character}Cafe", f"Cafe{character}"):
        _, problems = checked(raw)
        assert problems == {"name": [f"must not contain {INVISIBLE}"]}, repr(raw)


def test_ordinary_names_of_any_script_pass() -> None:
    for name in (
        "Zoë",
        "Ģirts",
        "İlkay",
        "Nguyễn",
        "Øyvind",
        "Łukasz",
        "张伟",
        "محمد",
        "שרה",
        "Ελένη",
        "O'Brien-Smith",
    ):
        assert checked(name) == (unicodedata.normalize("NFC", name), {}), name
        assert not has_format_characters(name)


def test_every_problem_is_reported_at_once() -> None:
    _, problems = checked("\u200b\x07" + "x" * 60)
    assert problems == {
        "name": [
            "must be 2-50 characters (after trimming spaces)",
            "must not contain control characters",
            f"must not contain {INVISIBLE}",
        ]
    }
