"""Every carrier route given bad input answers 4xx in the error shape and writes nothing."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest
from litestar import Litestar

from tests.carrier.factories import carrier_body
from tests.conftest import data_of
from tests.helpers import count_rows, outbox_rows

BASE = "/api/v1/carriers"
ERROR_KEYS = {"message", "statusCode", "error", "timestamp", "path"}


def assert_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) >= ERROR_KEYS
    assert body["statusCode"] == status
    assert "success" not in body
    return body


def field_errors(response: httpx.Response) -> dict[str, list[str]]:
    body = assert_error(response, 400)
    assert body["message"] == "Validation failed"
    errors: dict[str, list[str]] = body["fieldErrors"]
    assert all(isinstance(m, list) and m and all(isinstance(x, str) for x in m) for m in errors.values())
    return errors


BAD_CREATE_BODIES: list[tuple[str, dict[str, Any], set[str]]] = [
    ("missing name", {"description": "no name"}, {"name"}),
    ("name wrong type", carrier_body(name=42), {"name"}),
    ("name too short after trim", carrier_body(name="  a  "), {"name"}),
    ("name too long", carrier_body(name="x" * 101), {"name"}),
    ("description too long", carrier_body(description="d" * 501), {"description"}),
    ("unknown field", carrier_body(colour="red"), {"colour"}),
    ("isActive not a boolean", carrier_body(isActive="yes"), {"isActive"}),
    ("bad email", carrier_body(contactEmail="not-an-email"), {"contactEmail"}),
    ("bad phone", carrier_body(contactPhone="12"), {"contactPhone"}),
    ("phone with a newline", carrier_body(contactPhone="123456789\n0"), {"contactPhone"}),
    ("phone with a tab", carrier_body(contactPhone="+1\t234567890"), {"contactPhone"}),
    ("phone in other digits", carrier_body(contactPhone="\u0661" * 10), {"contactPhone"}),
    ("phone ending in a newline", carrier_body(contactPhone="+1 800 555 0100\n"), {"contactPhone"}),
    ("email ending in a newline", carrier_body(contactEmail="ops@example.com\n"), {"contactEmail"}),
    ("isActive as a string", carrier_body(isActive="false"), {"isActive"}),
    ("metadata not an object", carrier_body(metadata=[1, 2]), {"metadata"}),
    ("unknown metadata key", carrier_body(metadata={"fax": "123"}), {"metadata.fax"}),
    ("website not a URL", carrier_body(metadata={"website": "javascript:alert(1)"}), {"metadata.website"}),
    ("website ending in a newline", carrier_body(metadata={"website": "https://a.example/\n"}), {"metadata.website"}),
    ("website with a NUL", carrier_body(metadata={"website": "https://a.exa\u0000mple/"}), {"metadata.website"}),
    (
        "service type not a string",
        carrier_body(metadata={"serviceTypes": ["Express", 7]}),
        {"metadata.serviceTypes.1"},
    ),
    (
        "currency not ISO 4217",
        carrier_body(metadata={"pricing": {"baseRate": 1, "currency": "ABC"}}),
        {"metadata.pricing.currency"},
    ),
    (
        "currency lower case",
        carrier_body(metadata={"pricing": {"baseRate": 1, "currency": "usd"}}),
        {"metadata.pricing.currency"},
    ),
    (
        "negative rate",
        carrier_body(metadata={"pricing": {"baseRate": -1, "currency": "USD"}}),
        {"metadata.pricing.baseRate"},
    ),
    (
        "rate not a number",
        carrier_body(metadata={"pricing": {"baseRate": "NaN", "currency": "USD"}}),
        {"metadata.pricing.baseRate"},
    ),
    ("missing currency", carrier_body(metadata={"pricing": {"baseRate": 1}}), {"metadata.pricing.currency"}),
    (
        "several bad fields at once",
        {"name": 1, "isActive": "no", "extra": True, "contactEmail": "x"},
        {"name", "isActive", "extra", "contactEmail"},
    ),
]


@pytest.mark.parametrize(("case", "body", "fields"), BAD_CREATE_BODIES, ids=[c[0] for c in BAD_CREATE_BODIES])
async def test_bad_create_is_400_with_field_errors_and_writes_nothing(
    client: httpx.AsyncClient, app: Litestar, case: str, body: dict[str, Any], fields: set[str]
) -> None:
    errors = field_errors(await client.post(BASE, json=body))
    assert set(errors) == fields, errors
    assert await count_rows(app, "carrier", "carriers") == 0
    assert await outbox_rows(app, "carrier") == []


async def test_unknown_field_message_names_the_property(client: httpx.AsyncClient) -> None:
    errors = field_errors(await client.post(BASE, json=carrier_body(colour="red")))
    assert errors["colour"] == ["property colour should not exist"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"{not json", 400), (b"", 400), (b"[1, 2]", 400), (b'"a string"', 400), (b"null", 400)],
    ids=["malformed", "empty", "array", "string", "null"],
)
async def test_unusable_bodies_are_400(client: httpx.AsyncClient, app: Litestar, content: bytes, expected: int) -> None:
    response = await client.post(BASE, content=content, headers={"content-type": "application/json"})
    assert_error(response, expected)
    assert await count_rows(app, "carrier", "carriers") == 0


async def test_body_over_one_mebibyte_is_413(client: httpx.AsyncClient, app: Litestar) -> None:
    huge = carrier_body(description="x" * (1024 * 1024 + 1))
    assert_error(await client.post(BASE, json=huge), 413)
    assert await count_rows(app, "carrier", "carriers") == 0


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"name": None}, {"name"}),
        ({"name": "y"}, {"name"}),
        ({"isActive": "no"}, {"isActive"}),
        ({"unknown": 1}, {"unknown"}),
        ({"metadata": {"pricing": {"baseRate": 1, "currency": "EURO"}}}, {"metadata.pricing.currency"}),
        ({"contactEmail": "@"}, {"contactEmail"}),
    ],
)
async def test_bad_patch_is_400_and_changes_nothing(
    client: httpx.AsyncClient, app: Litestar, body: dict[str, Any], fields: set[str]
) -> None:
    created = data_of(await client.post(BASE, json=carrier_body()))
    events_before = len(await outbox_rows(app, "carrier"))
    errors = field_errors(await client.patch(f"{BASE}/{created['id']}", json=body))
    assert set(errors) == fields
    assert data_of(await client.get(f"{BASE}/{created['id']}")) == created
    assert len(await outbox_rows(app, "carrier")) == events_before


@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
@pytest.mark.parametrize(("raw_id", "status"), [("0", 400), ("-1", 400), ("abc", 404), ("2147483648", 400)])
async def test_bad_ids_are_4xx(client: httpx.AsyncClient, method: str, raw_id: str, status: int) -> None:
    kwargs: dict[str, Any] = {"json": {"description": "x"}} if method in {"PATCH", "PUT"} else {}
    response = await client.request(method, f"{BASE}/{raw_id}", **kwargs)
    body = assert_error(response, status)
    if status == 400:
        assert set(body["fieldErrors"]) == {"id"}


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({"page": "0"}, {"page"}),
        ({"page": "-3"}, {"page"}),
        ({"page": "two"}, {"page"}),
        ({"limit": "0"}, {"limit"}),
        ({"limit": "101"}, {"limit"}),
        ({"sortBy": "passwordHash"}, {"sortBy"}),
        ({"sortOrder": "sideways"}, {"sortOrder"}),
        ({"isActive": "maybe"}, {"isActive"}),
        ({"search": "s" * 101}, {"search"}),
        ({"page": "0", "limit": "1000", "sortOrder": "x"}, {"page", "limit", "sortOrder"}),
    ],
)
async def test_bad_list_parameters_are_400(client: httpx.AsyncClient, query: dict[str, str], fields: set[str]) -> None:
    errors = field_errors(await client.get(BASE, params=query))
    assert set(errors) == fields


async def test_sort_order_is_case_insensitive(client: httpx.AsyncClient) -> None:
    assert (await client.get(BASE, params={"sortOrder": "asc"})).status_code == 200


async def test_bad_count_filter_is_400(client: httpx.AsyncClient) -> None:
    assert set(field_errors(await client.get(f"{BASE}/count", params={"isActive": "x"}))) == {"isActive"}


async def test_name_lookup_longer_than_a_name_is_400(client: httpx.AsyncClient) -> None:
    assert_error(await client.get(f"{BASE}/name/{'n' * 101}"), 400)


async def test_unknown_route_and_method_use_the_error_shape(client: httpx.AsyncClient) -> None:
    missing = assert_error(await client.get("/api/v1/nowhere?x=1"), 404)
    assert missing["path"] == "/api/v1/nowhere?x=1"
    assert_error(await client.delete(BASE), 405)


@pytest.mark.parametrize(
    "url",
    ["https://...", "http://:.:", "https://@.@", "https://x.com:abc/", "http://localhost:99999999", "https://u@x.com"],
)
async def test_a_website_that_is_no_url_is_400(client: httpx.AsyncClient, url: str) -> None:
    response = await client.post(BASE, json=carrier_body(metadata={"website": url}))
    assert set(field_errors(response)) == {"metadata.website"}


async def test_names_that_lengthen_when_lower_cased_fit(client: httpx.AsyncClient) -> None:
    # "İ" lower-cases to two characters: the case-insensitive key must still fit, on MariaDB too.
    response = await client.post(BASE, json=carrier_body(name="İ" * 100))
    assert response.status_code == 201, response.text


async def test_names_differing_only_in_accents_or_emoji_are_different(client: httpx.AsyncClient) -> None:
    for name in ("Cafe Freight", "Café Freight", "🚀 Rocket", "🚚 Rocket"):
        response = await client.post(BASE, json=carrier_body(name=name))
        assert response.status_code == 201, (name, response.text)


async def test_search_ignores_case_beyond_ascii(client: httpx.AsyncClient) -> None:
    await client.post(BASE, json=carrier_body(name="Café Éclair"))
    found = data_of(await client.get(BASE, params={"search": "CAFÉ ÉCLAIR"}))
    assert [c["name"] for c in found["carriers"]] == ["Café Éclair"]


async def test_search_with_a_control_character_is_400(client: httpx.AsyncClient) -> None:
    await client.post(BASE, json=carrier_body())
    assert set(field_errors(await client.get(BASE, params={"search": "\x00"}))) == {"search"}


async def test_money_sent_as_a_string_is_400(client: httpx.AsyncClient) -> None:
    pricing = {"baseRate": "1.5", "currency": "USD", "perKgRate": 2}
    response = await client.post(BASE, json=carrier_body(metadata={"pricing": pricing}))
    assert field_errors(response) == {"metadata.pricing.baseRate": ["must be a number"]}


@pytest.mark.parametrize(
    "spell",
    [
        lambda n: "".join(chr(0xFF10 + int(d)) for d in str(n)),  # fullwidth digits
        lambda n: "".join(chr(0x0660 + int(d)) for d in str(n)),  # Arabic-Indic digits
        lambda n: f" {n}",
        lambda n: f"{n} ",
        lambda n: f"0{n}",
    ],
    ids=["fullwidth", "arabic-indic", "leading space", "trailing space", "leading zero"],
)
async def test_an_id_in_other_digits_or_with_spaces_is_404(client: httpx.AsyncClient, spell: Any) -> None:
    created = data_of(await client.post(BASE, json=carrier_body()))
    response = await client.get(f"{BASE}/{quote(spell(created['id']))}")
    assert_error(response, 404)
    assert (await client.get(f"{BASE}/{created['id']}")).status_code == 200
