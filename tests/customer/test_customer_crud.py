"""Customer create/read/update/list/search/delete over HTTP, on SQLite and MariaDB alike."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import data_of
from tests.customer.factories import BASE, create_customer, customer_body

Client = httpx.AsyncClient


async def test_create_returns_201_with_the_customer(client: Client) -> None:
    body = customer_body(
        email="Ada.Lovelace@Example.COM", firstName="  Ada ", lastName=" Lovelace", customerType="premium"
    )
    response = await client.post(BASE, json=body)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["message"] == "Created successfully"
    customer = body["data"]
    assert customer["email"] == "ada.lovelace@example.com"
    assert (customer["firstName"], customer["lastName"], customer["fullName"]) == ("Ada", "Lovelace", "Ada Lovelace")
    assert customer["userId"] is None
    assert customer["isActive"] is True
    assert customer["dateOfBirth"] == "1985-06-15"
    assert customer["customerType"] == "premium"
    assert customer["address"] == {"street": "1 Harbor Way", "city": "Rotterdam", "zipCode": "3011 AA", "country": "NL"}
    assert customer["preferences"] == {
        "company": "Northwind",
        "industry": "Retail",
        "preferredContact": "email",
        "newsletter": True,
    }
    assert customer["createdAt"].endswith("Z")
    assert set(customer) == {
        "id",
        "userId",
        "email",
        "firstName",
        "lastName",
        "fullName",
        "phone",
        "isActive",
        "dateOfBirth",
        "customerType",
        "address",
        "preferences",
        "createdAt",
        "updatedAt",
    }


async def test_only_email_and_names_are_required(client: Client) -> None:
    response = await client.post(BASE, json={"email": "min@example.com", "firstName": "Min", "lastName": "Imal"})
    assert response.status_code == 201, response.text
    customer = data_of(response)
    assert customer["phone"] is None
    assert customer["dateOfBirth"] is None
    assert customer["customerType"] is None
    assert customer["address"] is None
    assert customer["preferences"] == {}


async def test_address_lines_are_trimmed_and_blank_optional_ones_drop_out(client: Client) -> None:
    address = {"street": " 5 Dock Road ", "city": "Hamburg ", "state": "  ", "zipCode": "", "country": " DE"}
    created = await create_customer(client, address=address, preferences={"company": "  ", "newsletter": False})
    assert created["address"] == {"street": "5 Dock Road", "city": "Hamburg", "country": "DE"}
    assert created["preferences"] == {"newsletter": False}


async def test_get_by_id_and_by_email_ignoring_case(client: Client) -> None:
    created = await create_customer(client, email="blue.line@example.com")
    by_id = await client.get(f"{BASE}/{created['id']}")
    assert by_id.status_code == 200
    assert data_of(by_id) == created
    by_email = await client.get(f"{BASE}/email/BLUE.Line@Example.com")
    assert by_email.status_code == 200
    assert data_of(by_email) == created


async def test_unknown_id_and_email_are_404(client: Client) -> None:
    missing = await client.get(f"{BASE}/999999")
    assert missing.status_code == 404
    assert missing.json()["message"] == "Customer not found"
    assert missing.json()["path"] == f"{BASE}/999999"
    by_email = await client.get(f"{BASE}/email/nobody@example.com")
    assert (by_email.status_code, by_email.json()["message"]) == (404, "Customer not found")


async def test_duplicate_email_in_other_case_is_409_and_stores_nothing(client: Client) -> None:
    await create_customer(client, email="red.arrow@example.com")
    response = await client.post(BASE, json=customer_body(email="RED.Arrow@example.COM"))
    assert response.status_code == 409
    assert response.json()["message"] == "Email already exists"
    assert data_of(await client.get(f"{BASE}/count")) == {"count": 1}


async def test_patch_changes_only_sent_fields(client: Client) -> None:
    created = await create_customer(client)
    response = await client.patch(f"{BASE}/{created['id']}", json={"lastName": " Changed "})
    assert response.status_code == 200
    assert response.json()["message"] == "Updated successfully"
    updated = data_of(response)
    assert updated["lastName"] == "Changed"
    assert updated["fullName"] == "Grace Changed"
    unchanged = {k: v for k, v in created.items() if k not in {"lastName", "fullName", "updatedAt"}}
    assert {k: v for k, v in updated.items() if k in unchanged} == unchanged


async def test_patch_replaces_objects_and_null_clears_optional_fields(client: Client) -> None:
    created = await create_customer(client, customerType="business")
    response = await client.patch(
        f"{BASE}/{created['id']}",
        json={
            "phone": None,
            "dateOfBirth": None,
            "customerType": None,
            "address": {"street": "9 Mill Lane", "city": "Leeds", "country": "GB"},
            "preferences": {"newsletter": False},
        },
    )
    updated = data_of(response)
    assert updated["phone"] is None
    assert updated["dateOfBirth"] is None
    assert updated["customerType"] is None
    assert updated["address"] == {"street": "9 Mill Lane", "city": "Leeds", "country": "GB"}
    assert updated["preferences"] == {"newsletter": False}
    cleared = data_of(await client.patch(f"{BASE}/{created['id']}", json={"address": None, "preferences": None}))
    assert (cleared["address"], cleared["preferences"]) == (None, {})


async def test_email_change_is_lower_cased_and_must_stay_unique(client: Client) -> None:
    first = await create_customer(client, email="alpha@example.com")
    second = await create_customer(client, email="beta@example.com")
    taken = await client.patch(f"{BASE}/{second['id']}", json={"email": "ALPHA@example.com", "lastName": "Other"})
    assert (taken.status_code, taken.json()["message"]) == (409, "Email already exists")
    assert data_of(await client.get(f"{BASE}/{second['id']}")) == second
    own = await client.patch(f"{BASE}/{first['id']}", json={"email": "Alpha@Example.com"})
    assert own.status_code == 200
    moved = data_of(await client.patch(f"{BASE}/{second['id']}", json={"email": "Gamma@Example.com"}))
    assert moved["email"] == "gamma@example.com"


async def test_put_is_an_alias_of_patch(client: Client) -> None:
    created = await create_customer(client)
    response = await client.put(f"{BASE}/{created['id']}", json={"isActive": False})
    assert response.status_code == 200
    assert response.json()["message"] == "Updated successfully"
    assert data_of(response)["isActive"] is False


async def test_delete_is_204_without_body_then_404(client: Client) -> None:
    created = await create_customer(client)
    response = await client.delete(f"{BASE}/{created['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"{BASE}/{created['id']}")).status_code == 404
    assert (await client.delete(f"{BASE}/{created['id']}")).status_code == 404
    assert (await client.patch(f"{BASE}/{created['id']}", json={"isActive": True})).status_code == 404


async def test_a_deleted_customer_s_email_can_be_used_again(client: Client) -> None:
    created = await create_customer(client, email="again@example.com")
    await client.delete(f"{BASE}/{created['id']}")
    again = await create_customer(client, email="again@example.com")
    assert again["id"] > created["id"]  # ids of deleted rows are never handed out again


async def test_active_and_count_follow_is_active(client: Client) -> None:
    active = await create_customer(client)
    inactive = await create_customer(client, isActive=False)
    listed = data_of(await client.get(f"{BASE}/active"))
    assert [c["id"] for c in listed] == [active["id"]]
    assert data_of(await client.get(f"{BASE}/count")) == {"count": 2}
    assert data_of(await client.get(f"{BASE}/count", params={"isActive": "false"})) == {"count": 1}
    assert data_of(await client.get(f"{BASE}/count", params={"isActive": "TRUE"})) == {"count": 1}
    assert inactive["isActive"] is False


async def test_active_lists_every_active_customer_by_id(client: Client) -> None:
    ids = [(await create_customer(client))["id"] for _ in range(12)]
    listed = data_of(await client.get(f"{BASE}/active"))
    assert [c["id"] for c in listed] == ids  # not paged


async def test_list_pages_sorts_and_searches(client: Client) -> None:
    people = [("Delta", "Smith"), ("Echo", "Jones"), ("Foxtrot", "Brown"), ("Golf", "Miller"), ("Hotel", "Davis")]
    for first, last in people:
        await create_customer(client, firstName=first, lastName=last, email=f"{first.lower()}@fleet.example.com")
    first_page = data_of(await client.get(BASE, params={"limit": 2, "sortBy": "firstName", "sortOrder": "asc"}))
    assert (first_page["total"], first_page["totalPages"], first_page["page"], first_page["limit"]) == (5, 3, 1, 2)
    assert [c["firstName"] for c in first_page["customers"]] == ["Delta", "Echo"]
    last_page = data_of(
        await client.get(BASE, params={"limit": 2, "page": 3, "sortBy": "firstName", "sortOrder": "ASC"})
    )
    assert [c["firstName"] for c in last_page["customers"]] == ["Hotel"]
    past_the_end = data_of(await client.get(BASE, params={"limit": 2, "page": 9}))
    assert (past_the_end["customers"], past_the_end["total"]) == ([], 5)

    by_last_name = data_of(await client.get(BASE, params={"sortBy": "lastName"}))
    assert [c["lastName"] for c in by_last_name["customers"]] == ["Smith", "Miller", "Jones", "Davis", "Brown"]
    by_email = data_of(await client.get(BASE, params={"sortBy": "email", "sortOrder": "asc"}))
    assert by_email["customers"][0]["email"] == "delta@fleet.example.com"

    for term, expected in (("JONES", ["Echo"]), ("fox", ["Foxtrot"]), ("golf@fleet", ["Golf"])):
        found = data_of(await client.get(BASE, params={"search": term}))
        assert [c["firstName"] for c in found["customers"]] == expected, term
    assert data_of(await client.get(BASE, params={"search": "  "}))["total"] == 5  # blank: no search


async def test_search_takes_percent_and_underscore_literally(client: Client) -> None:
    await create_customer(client, email="under_score@example.com")
    await create_customer(client, email="underxscore@example.com")
    found = data_of(await client.get(BASE, params={"search": "under_"}))
    assert [c["email"] for c in found["customers"]] == ["under_score@example.com"]
    assert data_of(await client.get(BASE, params={"search": "%"}))["total"] == 0


async def test_default_order_is_newest_first_with_id_tiebreak(client: Client) -> None:
    ids = [(await create_customer(client))["id"] for _ in range(3)]
    listed = data_of(await client.get(BASE))
    assert [c["id"] for c in listed["customers"]] == sorted(ids, reverse=True)


async def test_is_active_filter_on_list(client: Client) -> None:
    await create_customer(client)
    inactive = await create_customer(client, isActive=False)
    for value in ("false", "0", "FALSE"):
        listed = data_of(await client.get(BASE, params={"isActive": value}))
        assert [c["id"] for c in listed["customers"]] == [inactive["id"]], value
    assert data_of(await client.get(BASE, params={"isActive": ""}))["total"] == 2


async def test_health_is_public(client: Client) -> None:
    response = await client.get(f"{BASE}/health", headers={"Authorization": ""})
    assert response.status_code == 200
    health: dict[str, Any] = data_of(response)
    assert health["module"] == "customer"
    assert health["status"] == "healthy"
    assert response.headers["cache-control"] == "no-store"
