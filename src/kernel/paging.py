"""The list contract (docs/api.md §2): paging bounds, whitelisted sorting, search.

Parsing reports every bad parameter at once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from kernel.contracts.errors import FieldErrors
from kernel.contracts.text import has_control_characters, normalized

MAX_LIMIT = 100
DEFAULT_LIMIT = 10
MAX_SEARCH_LENGTH = 100
MAX_PAGE = 1_000_000

T = TypeVar("T")


@dataclass(frozen=True)
class ListParams:
    page: int = 1
    limit: int = DEFAULT_LIMIT
    search: str | None = None
    sort_by: str = "created_at"
    """The attribute to sort by (the resource's whitelist translated the wire name)."""
    descending: bool = True

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    page: int
    limit: int

    @property
    def total_pages(self) -> int:
        return math.ceil(self.total / self.limit) if self.total else 0


_WHOLE_NUMBER = re.compile(r"-?[0-9]+\Z")


def parse_int(errors: FieldErrors, name: str, raw: str | None, default: int, low: int, high: int) -> int:
    if raw is None:
        return default
    text = raw.strip()
    if not _WHOLE_NUMBER.match(text):  # not str.isdigit(): it takes "²" and "①", which int() refuses
        errors.add(name, "must be a whole number")
        return default
    # Past 18 digits it is out of any range here; int() would also refuse past 4300 digits.
    value = int(text) if len(text) <= 18 else (high + 1 if not text.startswith("-") else low - 1)
    if not low <= value <= high:
        errors.add(name, f"must be between {low} and {high}")
        return default
    return value


def parse_bool(errors: FieldErrors, name: str, raw: str | None) -> bool | None:
    """`true`/`false` (also 1/0): a real boolean, so `false` means false."""
    if raw is None or raw.strip() == "":
        return None
    lowered = raw.strip().lower()
    if lowered in {"true", "1"}:
        return True
    if lowered in {"false", "0"}:
        return False
    errors.add(name, "must be true or false")
    return None


def parse_list_params(
    query: Mapping[str, str | None], sortable: Mapping[str, str], errors: FieldErrors | None = None
) -> ListParams:
    """Parse `page`, `limit`, `search`, `sortBy`, `sortOrder`. Raises ValidationFailed listing every bad one.

    `sortable` maps the wire names a client may sort by to the attributes they sort (default `createdAt`).

    Pass `errors` to collect the resource's own filter errors into the same response.
    """
    own_errors = errors if errors is not None else FieldErrors()
    page = parse_int(own_errors, "page", query.get("page"), 1, 1, MAX_PAGE)
    limit = parse_int(own_errors, "limit", query.get("limit"), DEFAULT_LIMIT, 1, MAX_LIMIT)

    search = query.get("search")
    if search is not None:
        search = normalized(search) or None  # names are stored in NFKC form (kernel.contracts.text)
        if search is not None and len(search) > MAX_SEARCH_LENGTH:
            own_errors.add("search", f"must be at most {MAX_SEARCH_LENGTH} characters")
        elif search is not None and has_control_characters(search):
            # SQLite would end the pattern at a NUL and match everything; no name holds one anyway.
            own_errors.add("search", "must not contain control characters")

    sort_by = query.get("sortBy") or "createdAt"
    if sort_by not in sortable:
        own_errors.add("sortBy", f"must be one of: {', '.join(sorted(sortable))}")

    order = (query.get("sortOrder") or "DESC").strip().upper()
    if order not in {"ASC", "DESC"}:
        own_errors.add("sortOrder", "must be ASC or DESC")

    own_errors.raise_if_any()
    return ListParams(page=page, limit=limit, search=search, sort_by=sortable[sort_by], descending=order != "ASC")
