"""The list query parameters (docs/api.md §2) as one dependency every collection route shares."""

from __future__ import annotations

from typing import Annotated

from litestar.di import Provide
from litestar.params import QueryParameter

LIST_QUERY_KEY = "list_query"


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
