"""Text rules shared by modules: trimmed, length-checked names and optional free text."""

from __future__ import annotations

from kernel.contracts.errors import FieldErrors


def trimmed(errors: FieldErrors, field: str, raw: str, low: int, high: int) -> str:
    """`raw` without surrounding spaces; records an error on `field` when its length is outside low..high."""
    text = raw.strip()
    if not low <= len(text) <= high:
        errors.add(field, f"must be {low}-{high} characters (after trimming spaces)")
    return text


def optional_text(raw: str | None) -> str | None:
    """Trimmed text, with blank meaning absent."""
    if raw is None:
        return None
    return raw.strip() or None
