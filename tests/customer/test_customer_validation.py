"""Every customer route given bad input answers 4xx in the error shape and writes nothing (no row, no event)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from litestar import Litestar

from tests.conftest import data_of
from tests.customer.factories import BASE, create_customer, customer_body
from tests.helpers import count_rows, outbox_rows

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


def years_ago(years: int, days: int = 0) -> str:
    today = datetime.now(UTC).date()
    try:
        then = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        then = today.replace(year=today.year - years, day=28)
    return (then + timedelta(days=days)).isoformat()


def tomorrow() -> str:
    return (datetime.now(UTC).date() + timedelta(days=1)).isoformat()


ADDRESS = {"street": "1 Harbor Way", "city": "Rotterdam", "country": "NL"}

BAD_CREATE_BODIES: list[tuple[str, dict[str, Any], set[str]]] = [
    ("missing email and names", {"phone": "+1 555 010 2030"}, {"email", "firstName", "lastName"}),
    ("email not valid", customer_body(email="not-an-email"), {"email"}),
    ("email with surrounding spaces", customer_body(email=" ops@example.com "), {"email"}),
    ("email ending in a newline", customer_body(email="ops@example.com\n"), {"email"}),
    ("email not ASCII", customer_body(email="jos\u00e9@example.com"), {"email"}),
    ("email too long", customer_body(email=f"{'a' * 250}@example.com"), {"email"}),
    ("email not a string", customer_body(email=7), {"email"}),
    ("first name too short after trim", customer_body(firstName="  A  "), {"firstName"}),
    ("last name too long", customer_body(lastName="L" * 51), {"lastName"}),
    ("name with a control character", customer_body(firstName="Ad\ta"), {"firstName"}),
    ("name not a string", customer_body(lastName=["Hopper"]), {"lastName"}),
    ("phone too short", customer_body(phone="12"), {"phone"}),
    ("phone with letters", customer_body(phone="+1 555 CALL NOW"), {"phone"}),
    ("phone in other digits", customer_body(phone="\u0661" * 10), {"phone"}),
    ("isActive as a string", customer_body(isActive="false"), {"isActive"}),
    ("date of birth not a date", customer_body(dateOfBirth="15/06/1985"), {"dateOfBirth"}),
    ("date of birth not a real day", customer_body(dateOfBirth="2001-02-30"), {"dateOfBirth"}),
    ("date of birth in the future", customer_body(dateOfBirth=tomorrow()), {"dateOfBirth"}),
    ("younger than 13", customer_body(dateOfBirth=years_ago(13, days=1)), {"dateOfBirth"}),
    ("date of birth 200 years ago", customer_body(dateOfBirth="1820-01-01"), {"dateOfBirth"}),
    ("address not an object", customer_body(address="1 Harbor Way"), {"address"}),
    ("address without street", customer_body(address={"city": "Oslo", "country": "NO"}), {"address.street"}),
    (
        "address without city and country",
        customer_body(address={"street": "1 Harbor Way"}),
        {"address.city", "address.country"},
    ),
    ("address with a blank city", customer_body(address={**ADDRESS, "city": "   "}), {"address.city"}),
    ("address with an unknown key", customer_body(address={**ADDRESS, "floor": 3}), {"address.floor"}),
    ("address line too long", customer_body(address={**ADDRESS, "street": "s" * 201}), {"address.street"}),
    ("zip code too long", customer_body(address={**ADDRESS, "zipCode": "9" * 21}), {"address.zipCode"}),
    ("preferences not an object", customer_body(preferences=["email"]), {"preferences"}),
    ("preferences with an unknown key", customer_body(preferences={"theme": "dark"}), {"preferences.theme"}),
    (
        "preferred contact unknown",
        customer_body(preferences={"preferredContact": "pigeon"}),
        {"preferences.preferredContact"},
    ),
    ("newsletter not a boolean", customer_body(preferences={"newsletter": "yes"}), {"preferences.newsletter"}),
    ("preferences over 2,000 characters", customer_body(preferences={"company": "c" * 2000}), {"preferences"}),
    ("customer type unknown", customer_body(customerType="vip"), {"customerType"}),
    ("customer type in capitals", customer_body(customerType="PREMIUM"), {"customerType"}),
    ("userId not a number", customer_body(userId="1"), {"userId"}),
    ("userId out of range", customer_body(userId=0), {"userId"}),
    ("userId of nobody", customer_body(userId=424242), {"userId"}),
    ("unknown field", customer_body(colour="red"), {"colour"}),
    ("id in the body", customer_body(id=5), {"id"}),
    (
        "every kind of bad field at once",
        {
            "email": "nobody",
            "firstName": "A",
            "lastName": "",
            "phone": "1",
            "isActive": "yes",
            "dateOfBirth": tomorrow(),
            "userId": 424242,
            "customerType": "vip",
            "address": {"city": " "},
            "preferences": {"preferredContact": "fax", "extra": 1},
            "colour": "red",
        },
        {
            "email",
            "firstName",
            "lastName",
            "phone",
            "isActive",
            "dateOfBirth",
            "userId",
            "customerType",
            "address.street",
            "address.city",
            "address.country",
            "preferences.preferredContact",
            "preferences.extra",
            "colour",
        },
    ),
    (
        "rule violations only, all at once",
        customer_body(firstName=" x ", lastName="y" * 60, dateOfBirth=years_ago(5), userId=424242),
        {"firstName", "lastName", "dateOfBirth", "userId"},
    ),
]


@pytest.mark.parametrize(("case", "body", "fields"), BAD_CREATE_BODIES, ids=[c[0] for c in BAD_CREATE_BODIES])
async def test_bad_create_is_400_with_field_errors_and_writes_nothing(
    client: httpx.AsyncClient, app: Litestar, case: str, body: dict[str, Any], fields: set[str]
) -> None:
    errors = field_errors(await client.post(BASE, json=body))
    assert set(errors) == fields, errors
    assert await count_rows(app, "customer", "customers") == 0
    assert await outbox_rows(app, "customer") == []


async def test_messages_say_what_is_wrong(client: httpx.AsyncClient) -> None:
    body = customer_body(
        firstName="A",
        dateOfBirth=years_ago(12),
        userId=424242,
        customerType="vip",
        preferences={"preferredContact": "fax"},
        address={**ADDRESS, "street": " "},
        colour="red",
    )
    assert field_errors(await client.post(BASE, json=body)) == {
        "firstName": ["must be 2-50 characters (after trimming spaces)"],
        "dateOfBirth": ["must make the customer at least 13 years old"],
        "userId": ["must be the id of an existing user"],
        "customerType": ["must be one of: standard, premium, business"],
        "preferences.preferredContact": ["must be one of: email, phone, sms, mail"],
        "address.street": ["must not be blank"],
        "colour": ["property colour should not exist"],
    }
    future = field_errors(await client.post(BASE, json=customer_body(dateOfBirth=tomorrow())))
    assert future == {"dateOfBirth": ["must not be in the future"]}
    big = field_errors(await client.post(BASE, json=customer_body(preferences={"industry": "i" * 1990})))
    assert big == {"preferences": ["must be at most 2,000 characters as JSON"]}


async def test_the_age_limit_is_inclusive(client: httpx.AsyncClient) -> None:
    created = await create_customer(client, dateOfBirth=years_ago(13))
    assert created["dateOfBirth"] == years_ago(13)
    assert date.fromisoformat(created["dateOfBirth"]) < datetime.now(UTC).date()


async def test_preferences_of_exactly_2000_characters_fit(client: httpx.AsyncClient) -> None:
    # {"company":"…"} is 14 characters around the value
    created = await create_customer(client, preferences={"company": "c" * 1986})
    assert len(created["preferences"]["company"]) == 1986


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"{not json", 400), (b"", 400), (b"[1, 2]", 400), (b'"a string"', 400), (b"null", 400), (b"   ", 400)],
    ids=["malformed", "empty", "array", "string", "null", "blank"],
)
async def test_unusable_bodies_are_400(client: httpx.AsyncClient, app: Litestar, content: bytes, expected: int) -> None:
    response = await client.post(BASE, content=content, headers={"content-type": "application/json"})
    assert_error(response, expected)
    assert await count_rows(app, "customer", "customers") == 0


async def test_body_over_one_mebibyte_is_413(client: httpx.AsyncClient, app: Litestar) -> None:
    huge = customer_body(preferences={"company": "x" * (1024 * 1024 + 1)})
    assert_error(await client.post(BASE, json=huge), 413)
    assert await count_rows(app, "customer", "customers") == 0


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"email": None}, {"email"}),
        ({"email": "@"}, {"email"}),
        ({"firstName": "y"}, {"firstName"}),
        ({"lastName": None}, {"lastName"}),
        ({"isActive": "no"}, {"isActive"}),
        ({"dateOfBirth": "2999-01-01"}, {"dateOfBirth"}),
        ({"address": {"street": "x"}}, {"address.city", "address.country"}),
        ({"preferences": {"unknown": 1}}, {"preferences.unknown"}),
        ({"userId": 424242}, {"userId"}),
        ({"unknown": 1}, {"unknown"}),
        ({"firstName": "y", "userId": 424242, "phone": "x"}, {"firstName", "userId", "phone"}),
    ],
)
@pytest.mark.parametrize("method", ["PATCH", "PUT"])
async def test_bad_update_is_400_and_changes_nothing(
    client: httpx.AsyncClient, app: Litestar, method: str, body: dict[str, Any], fields: set[str]
) -> None:
    created = await create_customer(client)
    events_before = len(await outbox_rows(app, "customer"))
    errors = field_errors(await client.request(method, f"{BASE}/{created['id']}", json=body))
    assert set(errors) == fields
    assert data_of(await client.get(f"{BASE}/{created['id']}")) == created
    assert len(await outbox_rows(app, "customer")) == events_before


@pytest.mark.parametrize("method", ["GET", "PATCH", "PUT", "DELETE"])
@pytest.mark.parametrize(("raw_id", "status"), [("0", 400), ("-1", 400), ("abc", 404), ("2147483648", 400)])
async def test_bad_ids_are_4xx(client: httpx.AsyncClient, method: str, raw_id: str, status: int) -> None:
    kwargs: dict[str, Any] = {"json": {"lastName": "Other"}} if method in {"PATCH", "PUT"} else {}
    body = assert_error(await client.request(method, f"{BASE}/{raw_id}", **kwargs), status)
    if status == 400:
        assert set(body["fieldErrors"]) == {"id"}


@pytest.mark.parametrize(
    "spell",
    [
        lambda n: "".join(chr(0xFF10 + int(d)) for d in str(n)),
        lambda n: f" {n}",
        lambda n: f"0{n}",
    ],
    ids=["fullwidth", "leading space", "leading zero"],
)
async def test_an_id_in_other_digits_or_with_spaces_is_404(client: httpx.AsyncClient, spell: Any) -> None:
    created = await create_customer(client)
    assert_error(await client.get(f"{BASE}/{quote(spell(created['id']))}"), 404)


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({"page": "0"}, {"page"}),
        ({"page": "two"}, {"page"}),
        ({"limit": "101"}, {"limit"}),
        ({"sortBy": "dateOfBirth"}, {"sortBy"}),
        ({"sortBy": "preferences"}, {"sortBy"}),
        ({"sortOrder": "sideways"}, {"sortOrder"}),
        ({"isActive": "maybe"}, {"isActive"}),
        ({"search": "s" * 101}, {"search"}),
        ({"search": "\x00"}, {"search"}),
        ({"page": "0", "limit": "1000", "isActive": "x"}, {"page", "limit", "isActive"}),
    ],
)
async def test_bad_list_parameters_are_400(client: httpx.AsyncClient, query: dict[str, str], fields: set[str]) -> None:
    assert set(field_errors(await client.get(BASE, params=query))) == fields


async def test_an_unknown_sort_field_lists_the_allowed_ones(client: httpx.AsyncClient) -> None:
    errors = field_errors(await client.get(BASE, params={"sortBy": "phone"}))
    assert errors["sortBy"] == ["must be one of: createdAt, email, firstName, id, isActive, lastName, updatedAt"]


async def test_bad_count_filter_is_400(client: httpx.AsyncClient) -> None:
    assert set(field_errors(await client.get(f"{BASE}/count", params={"isActive": "x"}))) == {"isActive"}


async def test_email_lookup_longer_than_an_email_is_400(client: httpx.AsyncClient) -> None:
    assert_error(await client.get(f"{BASE}/email/{'e' * 255}"), 400)


async def test_a_taken_email_is_409_only_once_the_body_is_valid(client: httpx.AsyncClient, app: Litestar) -> None:
    await create_customer(client, email="taken@example.com")
    invalid = await client.post(BASE, json=customer_body(email="taken@example.com", firstName="x"))
    assert set(field_errors(invalid)) == {"firstName"}
    conflict = assert_error(await client.post(BASE, json=customer_body(email="TAKEN@example.com")), 409)
    assert conflict["message"] == "Email already exists"
    assert await count_rows(app, "customer", "customers") == 1
    assert len(await outbox_rows(app, "customer")) == 1
