"""The list query parameters (docs/api.md §2) as one dependency every collection route shares."""

from __future__ import annotations

from typing import Annotated, Any

from litestar.di import Provide
from litestar.params import QueryParameter

from kernel.paging import DEFAULT_LIMIT, MAX_LIMIT, MAX_PAGE, MAX_SEARCH_LENGTH

LIST_QUERY_KEY = "list_query"

QUERY_PARAMETER_SCHEMAS: dict[str, dict[str, Any]] = {
    "page": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
    "search": {"type": "string", "maxLength": MAX_SEARCH_LENGTH},
    "sortBy": {"type": "string", "default": "createdAt"},
    "sortOrder": {"type": "string", "enum": ["ASC", "DESC"], "default": "DESC"},
    "isActive": {"type": "boolean"},
    "activeOnly": {"type": "boolean"},
}
"""What the OpenAPI document says these query parameters are, by wire name (docs/api.md §2).

They are declared as plain strings and parsed by `kernel.paging`, which reports every bad one at once in the
v1 error shape; the document states the types and bounds that parser enforces. `sortBy` gets the resource's
keys as its enum (`PageOut.sort_keys`). The parser accepts a little more than it documents (`asc`, `1`/`0`
for booleans, an empty value for no filter), never less."""


async def provide_list_query(
    page: Annotated[str | None, QueryParameter(description="Page number, 1 or more (default 1)")] = None,
    limit: Annotated[str | None, QueryParameter(description="Page size, 1-100 (default 10)")] = None,
    search: Annotated[str | None, QueryParameter(description="Case-insensitive substring search")] = None,
    sort_by: Annotated[str | None, QueryParameter(name="sortBy", description="Field to sort by")] = None,
    sort_order: Annotated[str | None, QueryParameter(name="sortOrder", description="ASC or DESC")] = None,
) -> dict[str, str | None]:
    """Raw values; `kernel.paging.parse_list_params` checks them against the resource's whitelist."""
    return {"page": page, "limit": limit, "search": search, "sortBy": sort_by, "sortOrder": sort_order}


LIST_QUERY_DEPENDENCY = {LIST_QUERY_KEY: Provide(provide_list_query)}
