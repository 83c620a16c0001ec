"""Text rules shared by modules: trimmed, length-checked names and optional free text."""

from __future__ import annotations

from kernel.contracts.errors import FieldErrors


def trimmed(errors: FieldErrors, field: str, raw: str, low: int, high: int) -> str:
    """`raw` without surrounding spaces; records an error on `field` when its length is outside low..high."""
    text = raw.strip()
    if not low <= len(text) <= high:
        errors.add(field, f"must be {low}-{high} characters (after trimming spaces)")
    if has_control_characters(text):
        errors.add(field, "must not contain control characters")
    return text


def has_control_characters(text: str) -> bool:
    """NUL, tabs, line breaks, escapes and the like: never part of a name or a one-line text."""
    return any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in text)


def optional_text(raw: str | None) -> str | None:
    """Trimmed text, with blank meaning absent."""
    if raw is None:
        return None
    return raw.strip() or None
