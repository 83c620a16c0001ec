"""The list query parameters (docs/api.md §2) every collection route shares, as parameters of its handler:

    async def list_carriers(self, carrier_reads: Reads, page: PageQuery = None, limit: LimitQuery = None,
                            search: SearchQuery = None, sort_by: SortByQuery = None, sort_order: SortOrderQuery = None)
        params = parse_list_params(list_query(page, limit, search, sort_by, sort_order), SORT_FIELDS, errors)

Parameters of the handler, not a dependency: Litestar resolves two dependencies of one route concurrently in a
task group, which costs a collection route about a quarter of its throughput (benchmarks/README.md), and the
route already has its module's reads or service as a dependency.
"""

from __future__ import annotations

from typing import Annotated, Any

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


PageQuery = Annotated[str | None, QueryParameter(name="page", description="Page number, 1 or more (default 1)")]
LimitQuery = Annotated[str | None, QueryParameter(name="limit", description="Page size, 1-100 (default 10)")]
SearchQuery = Annotated[str | None, QueryParameter(name="search", description="Case-insensitive substring search")]
SortByQuery = Annotated[str | None, QueryParameter(name="sortBy", description="Field to sort by")]
SortOrderQuery = Annotated[str | None, QueryParameter(name="sortOrder", description="ASC or DESC")]


def list_query(
    page: str | None, limit: str | None, search: str | None, sort_by: str | None, sort_order: str | None
) -> dict[str, str | None]:
    """The raw values by wire name; `kernel.paging.parse_list_params` checks them against the resource's
    whitelist."""
    return {"page": page, "limit": limit, "search": search, "sortBy": sort_by, "sortOrder": sort_order}
