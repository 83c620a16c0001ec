"""Names that look the same are the same name, on SQLite and MariaDB alike: carrier names, role names and a
user's names are stored in NFKC form and compared by its lower-cased key; invisible and direction characters
are refused with a field error (kernel.contracts.text). Emails are ASCII by their pattern already."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest
from litestar import Litestar

from tests.carrier.factories import carrier_body
from tests.conftest import data_of
from tests.user.factories import as_admin, create_user, seed, user_body

NFC = "Caf\u00e9 Express"
NFD = "Cafe\u0301 Express"
FULLWIDTH = "\uff23af\u00e9 Express"
INVISIBLE = "must not contain invisible or text-direction characters"
HIDDEN = ["\u200b", "\u200d", "\u200f", "\u202e", "\u2066", "\ufeff"]


async def test_a_carrier_name_in_another_normal_form_is_taken(client: httpx.AsyncClient) -> None:
    created = data_of(await client.post("/api/v1/carriers", json=carrier_body(name=NFD)))
    assert created["name"] == NFC  # stored, and answered, in NFKC form
    for look_alike in (NFC, FULLWIDTH, f" {NFD.upper()} "):
        again = await client.post("/api/v1/carriers", json=carrier_body(name=look_alike))
        assert again.status_code == 409, look_alike
        assert again.json()["message"] == "Carrier name already exists"
    for spelling in (NFD, FULLWIDTH):
        found = await client.get(f"/api/v1/carriers/name/{quote(spelling)}")
        assert data_of(found)["id"] == created["id"]
    listed = data_of(await client.get("/api/v1/carriers", params={"search": "cafe\u0301"}))
    assert [c["id"] for c in listed["carriers"]] == [created["id"]]


async def test_a_carrier_rename_to_a_look_alike_of_itself_is_allowed(client: httpx.AsyncClient) -> None:
    created = data_of(await client.post("/api/v1/carriers", json=carrier_body(name=NFC)))
    renamed = await client.patch(f"/api/v1/carriers/{created['id']}", json={"name": NFD})
    assert renamed.status_code == 200
    assert data_of(renamed)["name"] == NFC


@pytest.mark.parametrize("hidden", HIDDEN)
async def test_invisible_characters_in_a_carrier_name_are_400(client: httpx.AsyncClient, hidden: str) -> None:
    response = await client.post("/api/v1/carriers", json=carrier_body(name=f"Caf{hidden}e Express"))
    assert response.status_code == 400
    assert response.json()["fieldErrors"] == {"name": [INVISIBLE]}
    created = data_of(await client.post("/api/v1/carriers", json=carrier_body()))
    patched = await client.patch(f"/api/v1/carriers/{created['id']}", json={"name": f"{hidden}Plain"})
    assert patched.json()["fieldErrors"] == {"name": [INVISIBLE]}


async def test_a_role_name_in_another_normal_form_is_taken(client: httpx.AsyncClient, app: Litestar) -> None:
    await seed(app)
    created = data_of(await client.post("/api/v1/roles", json={"name": "Expe\u0301diteur"}, headers=as_admin(app)))
    assert created["name"] == "Exp\u00e9diteur"
    again = await client.post("/api/v1/roles", json={"name": "EXP\u00c9DITEUR"}, headers=as_admin(app))
    assert again.status_code == 409
    found = await client.get("/api/v1/roles/name/" + quote("expe\u0301diteur"), headers=as_admin(app))
    assert data_of(found)["id"] == created["id"]
    hidden = await client.post("/api/v1/roles", json={"name": "ad\u200bmin"}, headers=as_admin(app))
    assert hidden.status_code == 400
    assert hidden.json()["fieldErrors"] == {"name": [INVISIBLE]}
    # the users of a role are found by any spelling of its name
    user = await create_user(client, app, roleIds=[created["id"]])
    holders = data_of(await client.get("/api/v1/users/role/" + quote("Expe\u0301diteur"), headers=as_admin(app)))
    assert [u["id"] for u in holders] == [user["id"]]


async def test_user_names_are_stored_in_nfkc_and_refuse_invisible_characters(
    client: httpx.AsyncClient, app: Litestar
) -> None:
    await seed(app)
    created = await create_user(client, app, firstName="Zoe\u0308", lastName="\uff2fkafor")
    assert (created["firstName"], created["lastName"], created["fullName"]) == ("Zo\u00eb", "Okafor", "Zo\u00eb Okafor")
    bad = await client.post(
        "/api/v1/users", json=user_body(firstName="Ada\u202e", lastName="\u2066Lovelace"), headers=as_admin(app)
    )
    assert bad.status_code == 400
    assert bad.json()["fieldErrors"] == {"firstName": [INVISIBLE], "lastName": [INVISIBLE]}
    patched = await client.patch(
        f"/api/v1/users/{created['id']}", json={"lastName": "O\u200bkafor"}, headers=as_admin(app)
    )
    assert patched.json()["fieldErrors"] == {"lastName": [INVISIBLE]}


async def test_registration_applies_the_same_rule(client: httpx.AsyncClient, app: Litestar) -> None:
    await seed(app)
    body = {"email": "zoe@example.com", "password": "Correct-Horse-42", "firstName": "Zo\u200be", "lastName": "Kim"}
    refused = await client.post("/api/v1/auth/register", json=body)
    assert refused.status_code == 400
    assert refused.json()["fieldErrors"] == {"firstName": [INVISIBLE]}


@pytest.mark.parametrize("hidden", ["\u200b", "\u202e", "\ufeff"])
async def test_an_email_with_invisible_characters_is_400(client: httpx.AsyncClient, app: Litestar, hidden: str) -> None:
    await seed(app)
    email = f"zoe{hidden}@example.com"
    body = {"email": email, "password": "Correct-Horse-42", "firstName": "Zoe", "lastName": "Kim"}
    registered = await client.post("/api/v1/auth/register", json=body)
    assert registered.status_code == 400
    assert registered.json()["fieldErrors"] == {"email": ["must be a valid email address"]}
    created = await client.post("/api/v1/users", json=user_body(email=email), headers=as_admin(app))
    assert created.json()["fieldErrors"] == {"email": ["must be a valid email address"]}
    carrier = await client.post("/api/v1/carriers", json=carrier_body(contactEmail=email))
    assert carrier.json()["fieldErrors"] == {"contactEmail": ["must be a valid email address"]}
