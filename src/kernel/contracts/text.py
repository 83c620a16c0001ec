"""Text rules shared by modules: normalized, trimmed, length-checked names and optional free text.

Names (a user's first and last name, a role's, a carrier's) are compared as people read them, not as code
points: `Café` typed as one `é` (NFC) or as `e` plus a combining accent (NFD), or with a fullwidth `C` (U+FF23), is
the same name. So a name is stored in Unicode **NFKC** form and compared by `name_key` (NFKC, trimmed,
lower-cased), which every write and every lookup computes the same way. Characters that render as nothing
or reorder what follows (Unicode category Cf: zero-width spaces and joiners U+200B-U+200D, direction marks
and embeddings U+200E-U+200F, U+202A-U+202E, U+2066-U+2069, the byte order mark U+FEFF, soft hyphen, tags …)
would let two names look identical while differing, or make one display as another, and are refused.
"""

from __future__ import annotations

import unicodedata
from typing import Final, Literal

from kernel.contracts.errors import FieldErrors

NORMAL_FORM: Final[Literal["NFKC"]] = "NFKC"


def trimmed(errors: FieldErrors, field: str, raw: str, low: int, high: int) -> str:
    """`raw` in NFKC form without surrounding spaces; records an error on `field` when its length is outside
    low..high or it holds control or invisible/direction characters."""
    text = normalized(raw)
    if not low <= len(text) <= high:
        errors.add(field, f"must be {low}-{high} characters (after trimming spaces)")
    if has_control_characters(text):
        errors.add(field, "must not contain control characters")
    if has_format_characters(text):
        errors.add(field, "must not contain invisible or text-direction characters")
    return text


def normalized(raw: str) -> str:
    """NFKC form (so look-alike spellings of one text become one), without surrounding white space."""
    return unicodedata.normalize(NORMAL_FORM, raw).strip()


def name_key(raw: str) -> str:
    """What names are compared by (unique keys, lookups by name): NFKC, trimmed, lower-cased."""
    return normalized(raw).lower()


def has_control_characters(text: str) -> bool:
    """NUL, tabs, line breaks, escapes and the like: never part of a name or a one-line text."""
    return any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in text)


def has_format_characters(text: str) -> bool:
    """Invisible formatting and bidirectional control characters (Unicode category Cf)."""
    return any(unicodedata.category(ch) == "Cf" for ch in text)


def optional_text(raw: str | None) -> str | None:
    """Trimmed text, with blank meaning absent."""
    if raw is None:
        return None
    return raw.strip() or None
