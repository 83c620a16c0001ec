"""Carrier create/read/update/list/search/delete over HTTP, on SQLite and MariaDB alike."""

from __future__ import annotations

from typing import Any

import httpx

from tests.carrier.factories import carrier_body
from tests.conftest import data_of

Client = httpx.AsyncClient
BASE = "/api/v1/carriers"


async def create(client: Client, **overrides: Any) -> dict[str, Any]:
    response = await client.post(BASE, json=carrier_body(**overrides))
    assert response.status_code == 201, response.text
    return dict(data_of(response))


async def test_create_returns_201_with_the_carrier(client: Client) -> None:
    response = await client.post(BASE, json=carrier_body(name="  Acme Freight  "))
    assert response.status_code == 201
    body = response.json()
    assert body["message"] == "Created successfully"
    carrier = body["data"]
    assert carrier["name"] == "Acme Freight"
    assert carrier["isActive"] is True
    assert carrier["metadata"]["pricing"] == {"baseRate": 12.5, "currency": "USD", "perKgRate": 1.25}
    assert carrier["createdAt"].endswith("Z")
    assert isinstance(carrier["id"], int)


async def test_get_by_id_and_by_name_ignoring_case(client: Client) -> None:
    created = await create(client, name="Blue Line")
    by_id = await client.get(f"{BASE}/{created['id']}")
    assert by_id.status_code == 200
    assert data_of(by_id) == created
    by_name = await client.get(f"{BASE}/name/bLUE line")
    assert by_name.status_code == 200
    assert data_of(by_name)["id"] == created["id"]


async def test_unknown_id_and_name_are_404(client: Client) -> None:
    missing = await client.get(f"{BASE}/999999")
    assert missing.status_code == 404
    assert missing.json()["message"] == "Carrier not found"
    assert missing.json()["path"] == f"{BASE}/999999"
    assert (await client.get(f"{BASE}/name/nobody")).status_code == 404


async def test_duplicate_name_in_other_case_is_409(client: Client) -> None:
    await create(client, name="Red Arrow")
    response = await client.post(BASE, json=carrier_body(name="RED ARROW"))
    assert response.status_code == 409
    assert response.json()["message"] == "Carrier name already exists"
    count = data_of(await client.get(f"{BASE}/count"))
    assert count == {"count": 1}


async def test_patch_changes_only_sent_fields(client: Client) -> None:
    created = await create(client, name="Green Way")
    response = await client.patch(f"{BASE}/{created['id']}", json={"description": "Now with rail"})
    assert response.status_code == 200
    assert response.json()["message"] == "Updated successfully"
    updated = data_of(response)
    assert updated["description"] == "Now with rail"
    assert updated["name"] == "Green Way"
    assert updated["metadata"] == created["metadata"]


async def test_patch_can_clear_optional_fields_and_replace_metadata(client: Client) -> None:
    created = await create(client)
    response = await client.patch(f"{BASE}/{created['id']}", json={"description": None, "metadata": {"code": "NEW"}})
    updated = data_of(response)
    assert updated["description"] is None
    assert updated["metadata"] == {"code": "NEW"}


async def test_rename_to_a_taken_name_is_409_and_changes_nothing(client: Client) -> None:
    first = await create(client, name="Alpha Cargo")
    second = await create(client, name="Beta Cargo")
    response = await client.patch(f"{BASE}/{second['id']}", json={"name": "alpha cargo", "description": "x"})
    assert response.status_code == 409
    assert data_of(await client.get(f"{BASE}/{second['id']}")) == second
    assert data_of(await client.get(f"{BASE}/{first['id']}"))["name"] == "Alpha Cargo"


async def test_renaming_to_own_name_in_other_case_is_allowed(client: Client) -> None:
    created = await create(client, name="Gamma Cargo")
    response = await client.patch(f"{BASE}/{created['id']}", json={"name": "GAMMA Cargo"})
    assert response.status_code == 200
    assert data_of(response)["name"] == "GAMMA Cargo"


async def test_put_is_an_alias_of_patch(client: Client) -> None:
    created = await create(client)
    response = await client.put(f"{BASE}/{created['id']}", json={"isActive": False})
    assert response.status_code == 200
    assert data_of(response)["isActive"] is False


async def test_delete_is_204_without_body_then_404(client: Client) -> None:
    created = await create(client)
    response = await client.delete(f"{BASE}/{created['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(f"{BASE}/{created['id']}")).status_code == 404
    assert (await client.delete(f"{BASE}/{created['id']}")).status_code == 404


async def test_active_and_count_follow_is_active(client: Client) -> None:
    active = await create(client, name="On Duty")
    inactive = await create(client, name="Off Duty", isActive=False)
    listed = data_of(await client.get(f"{BASE}/active"))
    assert [c["id"] for c in listed] == [active["id"]]
    assert data_of(await client.get(f"{BASE}/count")) == {"count": 2}
    assert data_of(await client.get(f"{BASE}/count", params={"isActive": "false"})) == {"count": 1}
    assert inactive["isActive"] is False


async def test_list_pages_sorts_and_searches(client: Client) -> None:
    names = ["Delta Freight", "Echo Express", "Foxtrot Haulage", "Golf Logistics", "Hotel 50% Cargo"]
    for name in names:
        await create(client, name=name)
    first = data_of(await client.get(BASE, params={"limit": 2, "sortBy": "name", "sortOrder": "asc"}))
    assert first["total"] == 5
    assert first["totalPages"] == 3
    assert first["page"] == 1
    assert first["limit"] == 2
    assert [c["name"] for c in first["carriers"]] == ["Delta Freight", "Echo Express"]
    last = data_of(await client.get(BASE, params={"limit": 2, "page": 3, "sortBy": "name", "sortOrder": "ASC"}))
    assert [c["name"] for c in last["carriers"]] == ["Hotel 50% Cargo"]

    search = data_of(await client.get(BASE, params={"search": "EXPRESS"}))
    assert [c["name"] for c in search["carriers"]] == ["Echo Express"]
    literal_percent = data_of(await client.get(BASE, params={"search": "50%"}))
    assert [c["name"] for c in literal_percent["carriers"]] == ["Hotel 50% Cargo"]
    by_description = data_of(await client.get(BASE, params={"search": "test carrier"}))
    assert by_description["total"] == 5


async def test_default_order_is_newest_first_with_id_tiebreak(client: Client) -> None:
    ids = [(await create(client))["id"] for _ in range(3)]
    listed = data_of(await client.get(BASE))
    assert [c["id"] for c in listed["carriers"]] == sorted(ids, reverse=True)


async def test_is_active_filter_on_list(client: Client) -> None:
    await create(client, name="Kilo Lines", isActive=False)
    await create(client, name="Lima Lines")
    only_inactive = data_of(await client.get(BASE, params={"isActive": "false"}))
    assert [c["name"] for c in only_inactive["carriers"]] == ["Kilo Lines"]


async def test_the_id_of_a_deleted_carrier_is_never_given_again(client: Client) -> None:
    # Events and other modules refer to carriers by id: a reused id would make `carrier.deleted` ambiguous.
    first = await create(client)
    assert (await client.delete(f"{BASE}/{first['id']}")).status_code == 204
    second = await create(client)
    assert second["id"] > first["id"]
