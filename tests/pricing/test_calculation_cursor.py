"""Keyset paging of the stored calculations (docs/api.md §6.3): `nextCursor` on every page of
GET /pricing/calculations, `cursor` for the page after it; and the history's counts, which add up the days that
are over (modules/pricing/internal/calculation_counts.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import delete, select

from modules.pricing.internal.calculation_counts import SETTLE, CalculationCounts
from modules.pricing.internal.models import CalculationDay
from tests.conftest import data_of
from tests.helpers import runtime_of
from tests.pricing.factories import pricing_headers, seed_demo, stamp

CALCULATE = "/api/v1/pricing/calculate"
CALCULATIONS = "/api/v1/pricing/calculations"
EXPRESS = {"carrierId": 1, "serviceType": "Express", "weight": 5.5, "originCountry": "US", "destinationCountry": "US"}
GROUND = {"carrierId": 2, "serviceType": "Ground", "weight": 10, "originCountry": "US", "destinationCountry": "US"}


@pytest.fixture
async def demo(client: httpx.AsyncClient, app: Litestar) -> httpx.AsyncClient:
    client.headers.update(pricing_headers(app))
    await seed_demo(app)
    return client


async def calculated(client: httpx.AsyncClient, body: dict[str, Any]) -> int:
    response = await client.post(CALCULATE, json=body)
    assert response.status_code == 201, response.text
    return int(data_of(response)["id"])


async def listed(client: httpx.AsyncClient, **query: Any) -> dict[str, Any]:
    response = await client.get(CALCULATIONS, params=query)
    assert response.status_code == 200, response.text
    return dict(data_of(response))


def ids(page: dict[str, Any]) -> list[int]:
    return [c["id"] for c in page["priceCalculations"]]


async def walk(client: httpx.AsyncClient, limit: int, **query: Any) -> list[dict[str, Any]]:
    """Every page from the first, following nextCursor with the same query."""
    pages = [await listed(client, limit=limit, **query)]
    while pages[-1]["nextCursor"] is not None:
        pages.append(await listed(client, limit=limit, cursor=pages[-1]["nextCursor"], **query))
    return pages


async def bad_cursor(client: httpx.AsyncClient, **query: Any) -> list[str]:
    response = await client.get(CALCULATIONS, params=query)
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["message"], body["statusCode"], body["error"]) == ("Validation failed", 400, "Bad Request")
    assert body["path"].startswith(CALCULATIONS)
    return list(body["fieldErrors"]["cursor"])


async def test_cursor_pages_add_up_to_the_list_while_calculations_are_added(demo: httpx.AsyncClient) -> None:
    before = [await calculated(demo, EXPRESS if n % 2 else GROUND) for n in range(7)]
    first = await listed(demo, limit=3)
    assert (ids(first), first["page"], first["total"], first["totalPages"]) == (before[:3:-1], 1, 7, 3)
    added = [await calculated(demo, EXPRESS), await calculated(demo, GROUND)]  # ahead of the cursor
    second = await listed(demo, limit=3, cursor=first["nextCursor"])
    assert (ids(second), second["page"], second["total"], second["totalPages"]) == (before[3:0:-1], 2, 9, 3)
    added.append(await calculated(demo, EXPRESS))
    third = await listed(demo, limit=3, cursor=second["nextCursor"])
    assert (ids(third), third["page"], third["nextCursor"], third["total"]) == ([before[0]], 3, None, 10)
    # by page number, the rows added since push the first page's last row onto the second page again
    assert ids(await listed(demo, limit=3, page=2)) == [before[6], before[5], before[4]]
    assert len(added) == 3


async def test_an_ascending_walk_takes_in_what_is_added_behind_it(demo: httpx.AsyncClient) -> None:
    made = [await calculated(demo, EXPRESS) for _ in range(4)]
    first = await listed(demo, limit=3, sortOrder="ASC")
    made.append(await calculated(demo, GROUND))
    rest = await listed(demo, limit=3, sortOrder="ASC", cursor=first["nextCursor"])
    assert ids(first) + ids(rest) == made
    assert rest["nextCursor"] is None


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"carrierId": 1},
        {"customerId": 2},
        {"sortBy": "customerId"},  # calculations without a customer sort last in DESC
        {"sortBy": "customerId", "sortOrder": "ASC"},  # and first in ASC
        {"sortBy": "carrierId", "carrierId": 2, "sortOrder": "asc"},
        {"sortBy": "calculatedAt", "dateFrom": "2026-11-20", "dateTo": "2026-11-23"},
        {"sortBy": "id", "sortOrder": "ASC"},
    ],
)
async def test_filters_and_sorting_combine_with_the_cursor(
    demo: httpx.AsyncClient, app: Litestar, query: dict[str, Any]
) -> None:
    bodies = [EXPRESS, {**GROUND, "customerId": 2}, {**EXPRESS, "customerId": 1}, GROUND, {**EXPRESS, "customerId": 2}]
    for n in range(10):
        made = await calculated(demo, bodies[n % len(bodies)])
        if n < 6:  # several on one instant: ties are broken by the id
            await stamp(app, made, f"2026-11-{20 + n // 2}T12:00:00+00:00")
    whole = await listed(demo, limit=100, **query)
    pages = await walk(demo, 2, **query)
    walked = [i for page in pages for i in ids(page)]
    assert walked == ids(whole)
    assert len(set(walked)) == len(walked)
    assert [page["page"] for page in pages] == list(range(1, len(pages) + 1))
    assert {page["total"] for page in pages} == {whole["total"]}
    assert all(page["totalPages"] == max(1, -(-whole["total"] // 2)) for page in pages if whole["total"])


async def test_a_numbered_page_hands_out_the_cursor_of_the_page_after_it(demo: httpx.AsyncClient) -> None:
    for n in range(7):
        await calculated(demo, EXPRESS if n % 2 else GROUND)
    second = await listed(demo, page=2, limit=2)
    after = await listed(demo, cursor=second["nextCursor"], limit=2)
    assert (ids(after), after["page"]) == (ids(await listed(demo, page=3, limit=2)), 3)
    wider = await listed(demo, cursor=second["nextCursor"], limit=3)  # the size may change on the way
    assert ids(wider) == ids(await listed(demo, page=2, limit=3))[1:] + ids(await listed(demo, page=3, limit=3))[:1]
    last = await listed(demo, page=4, limit=2)
    assert (len(ids(last)), last["nextCursor"]) == (1, None)
    assert (await listed(demo, page=9, limit=2))["nextCursor"] is None


async def test_a_bad_or_forged_cursor_is_400(demo: httpx.AsyncClient) -> None:
    for _ in range(3):
        await calculated(demo, EXPRESS)
    real = (await listed(demo, limit=1))["nextCursor"]
    assert real is not None
    not_ours = "is not a cursor of this list"
    flipped = real[:10] + ("A" if real[10] != "A" else "B") + real[11:]
    for token in ["abc", "!!!!", flipped, real[:-2], real + "AA", "x" * 600, "é"]:
        assert await bad_cursor(demo, cursor=token) == [not_ours], token
    other_query = "is not a cursor of this list with these sortBy, sortOrder, search and filters"
    for query in [{"carrierId": 1}, {"sortBy": "id"}, {"sortOrder": "ASC"}, {"search": "a"}, {"dateTo": "2099-01-01"}]:
        assert await bad_cursor(demo, cursor=real, **query) == [other_query], query
    assert await bad_cursor(demo, cursor=real, page=2) == ["must not be sent with page"]
    response = await demo.get(CALCULATIONS, params={"cursor": "abc", "limit": "0", "carrierId": "x"})
    assert response.status_code == 400
    assert set(response.json()["fieldErrors"]) == {"cursor", "limit", "carrierId"}  # every bad parameter at once
    assert ids(await listed(demo, cursor=" ", limit=1)) == ids(await listed(demo, limit=1))  # blank: no cursor


async def test_counts_add_up_the_days_that_are_over_and_count_the_rest(demo: httpx.AsyncClient, app: Litestar) -> None:
    today = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    days_ago = [9, 9, 9, 5, 5, 2, 0]
    made = []
    for ago in days_ago:
        made.append(await calculated(demo, EXPRESS))
        await stamp(app, made[-1], (today - timedelta(days=ago)).isoformat())

    async def count(**query: Any) -> int:
        response = await demo.get(f"{CALCULATIONS}/count", params=query)
        assert response.status_code == 200, response.text
        listed_total = (await listed(demo, **query))["total"]
        assert int(data_of(response)["count"]) == listed_total
        return listed_total

    def day(ago: int) -> str:
        return (today - timedelta(days=ago)).date().isoformat()

    def moment(ago: int, hour: int) -> str:
        return (today - timedelta(days=ago)).replace(hour=hour).isoformat().replace("+00:00", "Z")

    assert await count() == 7
    engine = runtime_of(app).module("pricing").context.engine

    async def kept() -> dict[date, int]:
        async with engine.connect() as connection:
            return dict((await connection.execute(select(CalculationDay.day, CalculationDay.calculations))).all())

    settled = (datetime.now(UTC) - SETTLE).date()
    expected = {(today - timedelta(days=ago)).date(): days_ago.count(ago) for ago in (9, 5, 2)}
    expected = {d: n for d, n in expected.items() if d < settled}
    expected.setdefault(settled - timedelta(days=1), 0)  # how far the counting went
    assert await kept() == expected
    made.append(await calculated(demo, GROUND))  # today: not a day that is over, counted from the rows
    assert await count() == 8
    assert await count(dateFrom=day(9), dateTo=day(5)) == 5
    assert await count(dateFrom=day(8)) == 5
    assert await count(dateTo=day(3)) == 5
    assert await count(dateFrom=moment(9, 11), dateTo=moment(5, 13)) == 5  # both edges inside a day
    assert await count(dateFrom=moment(9, 13), dateTo=moment(5, 11)) == 0
    assert await count(dateFrom=moment(9, 12), dateTo=moment(2, 12)) == 6  # both ends inclusive
    assert await count(dateFrom=day(0)) == 2
    assert await count(carrierId=1, dateTo=day(5)) == 5
    async with engine.begin() as connection:  # what is kept follows from the rows: deleted, it comes back
        await connection.execute(delete(CalculationDay))
    await CalculationCounts(engine).settle()  # as a process does on its first count after a start
    assert await kept() == expected
