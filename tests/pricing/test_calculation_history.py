"""The stored calculations over HTTP (docs/api.md §6.3): GET /pricing/calculations (list, filters, paging,
sorting), /pricing/calculations/count and /pricing/calculations/{id}, on the demo data."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from litestar import Litestar

from tests.conftest import data_of
from tests.helpers import bearer, token_for
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


async def calculate(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(CALCULATE, json=body)
    assert response.status_code == 201, response.text
    return dict(data_of(response))


async def listed(client: httpx.AsyncClient, **query: Any) -> dict[str, Any]:
    response = await client.get(CALCULATIONS, params=query)
    assert response.status_code == 200, response.text
    return dict(data_of(response))


async def counted(client: httpx.AsyncClient, **query: Any) -> int:
    response = await client.get(f"{CALCULATIONS}/count", params=query)
    assert response.status_code == 200, response.text
    return int(data_of(response)["count"])


async def ids_of(client: httpx.AsyncClient, **query: Any) -> list[int]:
    """The ids one list page holds, after checking that the count route, given the same filters, agrees with
    the list's total."""
    page = await listed(client, **query)
    filters = {k: v for k, v in query.items() if k in {"carrierId", "customerId", "dateFrom", "dateTo"}}
    assert await counted(client, **filters) == page["total"]
    return [c["id"] for c in page["priceCalculations"]]


async def test_the_list_shows_each_calculation_as_calculate_returned_it_newest_first(demo: httpx.AsyncClient) -> None:
    made = [await calculate(demo, EXPRESS), await calculate(demo, GROUND), await calculate(demo, EXPRESS)]
    page = await listed(demo)
    assert (page["total"], page["page"], page["limit"], page["totalPages"]) == (3, 1, 10, 1)
    assert page["priceCalculations"] == list(reversed(made))
    assert made[0]["calculatedAt"] == made[0]["createdAt"] == made[0]["updatedAt"]


async def test_one_calculation_by_id_is_what_calculate_returned(demo: httpx.AsyncClient) -> None:
    made = await calculate(demo, {**EXPRESS, "customerType": "Premium", "customerId": 1})
    response = await demo.get(f"{CALCULATIONS}/{made['id']}")
    assert response.status_code == 200
    assert data_of(response) == made
    assert made["calculation"]["total"] == 34.3  # 37.27 less the premium customer's 10 % of 29.74 (2.97)


async def test_an_absent_calculation_is_404(demo: httpx.AsyncClient) -> None:
    response = await demo.get(f"{CALCULATIONS}/999999")
    assert response.status_code == 404
    body = response.json()
    assert (body["message"], body["error"], body["path"]) == (
        "Price calculation not found",
        "Not Found",
        "/api/v1/pricing/calculations/999999",
    )


@pytest.mark.parametrize("bad_id", ["0", "-1", "2147483648"])
async def test_an_id_no_row_can_have_is_400(demo: httpx.AsyncClient, bad_id: str) -> None:
    response = await demo.get(f"{CALCULATIONS}/{bad_id}")
    assert response.status_code == 400
    assert set(response.json()["fieldErrors"]) == {"id"}


async def test_a_non_numeric_id_is_404(demo: httpx.AsyncClient) -> None:
    assert (await demo.get(f"{CALCULATIONS}/abc")).status_code == 404


async def test_carrier_and_customer_filters(demo: httpx.AsyncClient) -> None:
    a = (await calculate(demo, {**EXPRESS, "customerId": 1}))["id"]
    b = (await calculate(demo, {**GROUND, "customerId": 2}))["id"]
    c = (await calculate(demo, EXPRESS))["id"]
    d = (await calculate(demo, {**GROUND, "customerId": 1}))["id"]
    assert await ids_of(demo) == [d, c, b, a]
    assert await ids_of(demo, carrierId=1) == [c, a]
    assert await ids_of(demo, carrierId=2) == [d, b]
    assert await ids_of(demo, customerId=1) == [d, a]
    assert await ids_of(demo, carrierId=2, customerId=1) == [d]
    assert await ids_of(demo, carrierId=3) == []
    assert await ids_of(demo, carrierId="", customerId=" ") == [d, c, b, a]  # empty means no filter
    assert await counted(demo) == 4


async def test_the_date_range_is_inclusive_at_both_ends(demo: httpx.AsyncClient, app: Litestar) -> None:
    moments = [
        "2026-11-24T23:59:59.999999+00:00",
        "2026-11-25T00:00:00+00:00",
        "2026-11-25T23:59:59.999999+00:00",
        "2026-11-26T00:00:00+00:00",
    ]
    ids = []
    for moment in moments:
        made = await calculate(demo, EXPRESS)
        await stamp(app, made["id"], moment)
        ids.append(made["id"])
    first, second, third, fourth = ids
    stored = data_of(await demo.get(f"{CALCULATIONS}/{second}"))
    assert stored["calculatedAt"] == stored["createdAt"] == "2026-11-25T00:00:00Z"

    assert await ids_of(demo, dateFrom="2026-11-25", dateTo="2026-11-25") == [third, second]
    assert await ids_of(demo, dateFrom="2026-11-25") == [fourth, third, second]
    assert await ids_of(demo, dateTo="2026-11-24") == [first]
    assert await ids_of(demo, dateTo="2026-11-25T00:00:00Z") == [second, first]
    assert await ids_of(demo, dateTo="2026-11-25T00:00:00.000001Z", dateFrom="2026-11-25T00:00Z") == [second]
    assert await ids_of(demo, dateFrom="2026-11-25T00:00:00.000001Z") == [fourth, third]
    assert await ids_of(demo, dateFrom="2026-11-25T01:00:00+01:00", dateTo="2026-11-25T18:59:59.999999-05:00") == [
        third,
        second,
    ]
    assert await ids_of(demo, dateFrom="2026-11-26T00:00:00Z", dateTo="2026-11-26t00:00:00z") == [fourth]
    assert await ids_of(demo, dateFrom="0001-01-01", dateTo="9999-12-31") == [fourth, third, second, first]
    assert await ids_of(demo, dateFrom="2026-11-27") == []
    assert await ids_of(demo, carrierId=1, dateFrom="2026-11-25", dateTo="2026-11-25") == [third, second]
    assert await ids_of(demo, carrierId=2, dateFrom="2026-11-25", dateTo="2026-11-25") == []


async def test_paging(demo: httpx.AsyncClient) -> None:
    ids = [(await calculate(demo, EXPRESS if n % 2 else GROUND))["id"] for n in range(5)]
    page = await listed(demo, page=2, limit=2)
    assert [c["id"] for c in page["priceCalculations"]] == [ids[2], ids[1]]
    assert (page["total"], page["page"], page["limit"], page["totalPages"]) == (5, 2, 2, 3)
    past_the_end = await listed(demo, page=4, limit=2)
    assert (past_the_end["priceCalculations"], past_the_end["total"]) == ([], 5)


async def test_sorting(demo: httpx.AsyncClient) -> None:
    a = (await calculate(demo, {**GROUND, "customerId": 2}))["id"]
    b = (await calculate(demo, EXPRESS))["id"]
    c = (await calculate(demo, {**GROUND, "customerId": 1}))["id"]
    d = (await calculate(demo, {**EXPRESS, "customerId": 2}))["id"]
    assert await ids_of(demo, sortBy="id", sortOrder="asc") == [a, b, c, d]
    assert await ids_of(demo, sortBy="createdAt", sortOrder="ASC") == [a, b, c, d]
    assert await ids_of(demo, sortBy="calculatedAt") == [d, c, b, a]
    assert await ids_of(demo, sortBy="carrierId", sortOrder="ASC") == [b, d, a, c]  # ties by id, same direction
    assert await ids_of(demo, sortBy="carrierId") == [c, a, d, b]
    assert await ids_of(demo, sortBy="customerId", sortOrder="ASC") == [b, c, a, d]  # no customer first
    assert await ids_of(demo, sortBy="customerId") == [d, a, c, b]


async def test_search_is_over_the_request_id(demo: httpx.AsyncClient) -> None:
    made = [await calculate(demo, EXPRESS) for _ in range(3)]
    wanted = made[1]
    page = await listed(demo, search=wanted["requestId"][:13].upper())
    assert [c["id"] for c in page["priceCalculations"]] == [wanted["id"]]
    assert page["total"] == 1


async def test_every_bad_parameter_is_reported_in_one_400(demo: httpx.AsyncClient) -> None:
    query = {
        "carrierId": "one",
        "customerId": "0",
        "dateFrom": "yesterday",
        "dateTo": "2026-02-30",
        "sortBy": "total",
        "limit": "0",
    }
    response = await demo.get(CALCULATIONS, params=query)
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["message"], body["error"]) == ("Validation failed", "Bad Request")
    assert set(body["fieldErrors"]) == {"carrierId", "customerId", "dateFrom", "dateTo", "sortBy", "limit"}
    assert body["fieldErrors"]["sortBy"] == ["must be one of: calculatedAt, carrierId, createdAt, customerId, id"]
    assert body["fieldErrors"]["dateFrom"] == [
        "must be a date (YYYY-MM-DD) or a date and time with an offset (2026-11-25T10:00:00Z)"
    ]
    counting = await demo.get(f"{CALCULATIONS}/count", params={k: query[k] for k in ("carrierId", "dateTo")})
    assert counting.status_code == 400
    assert set(counting.json()["fieldErrors"]) == {"carrierId", "dateTo"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"dateFrom": "2026-11-25T10:00:00"}, "dateFrom"),  # a time without an offset is ambiguous
        ({"dateFrom": "2026-11-25 10:00:00Z"}, "dateFrom"),
        ({"dateTo": "2026-W48-3"}, "dateTo"),
        ({"dateTo": "20261125"}, "dateTo"),
        ({"dateTo": "2026-11-25T24:00:00Z"}, "dateTo"),
        ({"dateFrom": "0001-01-01T00:00:00+01:00"}, "dateFrom"),
        ({"dateFrom": "2026-11-26", "dateTo": "2026-11-25"}, "dateTo"),
        ({"dateFrom": "2026-11-25T10:00:00Z", "dateTo": "2026-11-25T09:59:59.999999Z"}, "dateTo"),
        ({"customerId": "2147483648"}, "customerId"),
        ({"carrierId": "1.5"}, "carrierId"),
    ],
)
async def test_a_bad_filter_is_400_on_list_and_count(
    demo: httpx.AsyncClient, query: dict[str, str], field: str
) -> None:
    for path in (CALCULATIONS, f"{CALCULATIONS}/count"):
        response = await demo.get(path, params=query)
        assert response.status_code == 400, (path, response.text)
        assert set(response.json()["fieldErrors"]) == {field}


async def test_reading_calculations_needs_pricing_view(demo: httpx.AsyncClient, app: Litestar) -> None:
    made = await calculate(demo, EXPRESS)
    paths = [CALCULATIONS, f"{CALCULATIONS}/count", f"{CALCULATIONS}/{made['id']}"]
    demo.headers.pop("Authorization")
    calculator = bearer(token_for(app, permissions=["pricing.calculate", "pricing.update"]))
    viewer = bearer(token_for(app, permissions=["pricing.view"]))
    for path in paths:
        assert (await demo.get(path)).status_code == 401
        denied = await demo.get(path, headers=calculator)
        assert (denied.status_code, denied.json()["error"]) == (403, "Forbidden")
        assert (await demo.get(path, headers=viewer)).status_code == 200
