"""Black-box: the public API over HTTP only, the way the admin frontend and scripts use it, run against every
shape of the system (tests/blackbox/topology.py). Effects of events are observed through the API, never by
reading a database."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

DEMO_PASSWORD = "Freightdesk-Demo-1"
EVENT_DEADLINE_SECONDS = 5.0


def data(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    body = response.json()
    assert body["success"] is True
    assert body["statusCode"] == status
    return body["data"]


def eventually(probe: Callable[[], Any], what: str, seconds: float = EVENT_DEADLINE_SECONDS) -> Any:
    """Poll `probe` until it returns something truthy; the effects of events arrive a moment after the write."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := probe():
            return result
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {seconds:.0f} s")


def sign_in(api: httpx.Client, email: str, password: str) -> dict[str, str]:
    tokens = data(api.post("/api/v1/auth/login", json={"email": email, "password": password}))
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def permission_ids(admin: httpx.Client, names: set[str]) -> list[int]:
    listed = data(admin.get("/api/v1/permissions"))
    found = {p["name"]: p["id"] for p in listed if p["name"] in names}
    assert set(found) == names, names - set(found)
    return sorted(found.values())


def customers_with_email(admin: httpx.Client, email: str) -> list[dict[str, Any]]:
    listed = data(admin.get("/api/v1/customers", params={"search": email, "limit": 100}))["customers"]
    return [c for c in listed if c["email"] == email]


def test_the_administrator_signs_in_and_reads_its_profile(admin: httpx.Client) -> None:
    profile = data(admin.get("/api/v1/auth/profile"))
    assert profile["email"] == "admin@example.com"
    assert "admin" in {role["name"] for role in profile["roles"]}


def test_a_role_grants_exactly_its_permissions(admin: httpx.Client, api: httpx.Client, unique: str) -> None:
    role = data(
        admin.post(
            "/api/v1/roles",
            json={"name": f"dispatch-{unique}", "permissionIds": permission_ids(admin, {"carriers.list"})},
        ),
        201,
    )
    email = f"dispatcher-{unique}@example.com"
    user = data(
        admin.post(
            "/api/v1/users",
            json={
                "email": email,
                "password": "Correct-Horse-42",
                "firstName": "Dana",
                "lastName": "Dispatch",
                "roleIds": [role["id"]],
            },
        ),
        201,
    )
    headers = sign_in(api, email, "Correct-Horse-42")
    assert api.get("/api/v1/carriers", headers=headers).status_code == 200
    assert api.get("/api/v1/users", headers=headers).status_code == 403
    assert api.post("/api/v1/carriers", headers=headers, json={"name": f"Nope {unique}"}).status_code == 403

    assert admin.delete(f"/api/v1/users/{user['id']}").status_code == 204
    assert api.get("/api/v1/carriers", headers=headers).status_code == 401  # its sessions ended with it


def test_carriers_are_created_changed_and_deleted(admin: httpx.Client, unique: str) -> None:
    created = data(admin.post("/api/v1/carriers", json={"name": f"Blackbox Freight {unique}"}), 201)
    changed = data(admin.patch(f"/api/v1/carriers/{created['id']}", json={"description": "overnight"}))
    assert changed["description"] == "overnight"
    assert data(admin.get(f"/api/v1/carriers/{created['id']}"))["name"] == f"Blackbox Freight {unique}"
    assert admin.delete(f"/api/v1/carriers/{created['id']}").status_code == 204
    assert admin.get(f"/api/v1/carriers/{created['id']}").status_code == 404


def test_customers_are_created_found_and_deleted(admin: httpx.Client, unique: str) -> None:
    email = f"buyer-{unique}@example.com"
    created = data(admin.post("/api/v1/customers", json={"email": email, "firstName": "Bea", "lastName": "Buyer"}), 201)
    assert [c["id"] for c in customers_with_email(admin, email)] == [created["id"]]
    assert (
        admin.post("/api/v1/customers", json={"email": email, "firstName": "Bea", "lastName": "Again"}).status_code
        == 409
    )
    assert admin.delete(f"/api/v1/customers/{created['id']}").status_code == 204
    assert customers_with_email(admin, email) == []


def test_a_registered_user_gets_one_customer_profile_that_follows_the_user(
    admin: httpx.Client, api: httpx.Client, unique: str
) -> None:
    email = f"newcomer-{unique}@example.com"
    registered = data(
        api.post(
            "/api/v1/auth/register",
            json={"email": email, "password": "Correct-Horse-42", "firstName": "Nia", "lastName": "New"},
        ),
        201,
    )
    user_id = registered["user"]["id"]
    profiles = eventually(lambda: customers_with_email(admin, email), "the customer profile of a new user")
    assert len(profiles) == 1
    assert profiles[0]["userId"] == user_id

    data(admin.patch(f"/api/v1/users/{user_id}", json={"firstName": "Nina"}))
    eventually(
        lambda: [c for c in customers_with_email(admin, email) if c["firstName"] == "Nina"],
        "the user's new name on its customer profile",
    )

    assert admin.delete(f"/api/v1/users/{user_id}").status_code == 204
    unlinked = eventually(
        lambda: [c for c in customers_with_email(admin, email) if c["userId"] is None],
        "the customer profile unlinked from the deleted user",
    )
    assert len(unlinked) == 1  # kept, not deleted


def test_the_documented_worked_example_prices_to_its_total(admin: httpx.Client) -> None:
    calculated = data(
        admin.post(
            "/api/v1/pricing/calculate",
            json={
                "carrierId": 1,
                "serviceType": "Express",
                "weight": 5.5,
                "originCountry": "US",
                "destinationCountry": "US",
            },
        ),
        201,
    )
    assert calculated["calculation"]["total"] == 37.27
    assert calculated["calculation"]["currency"] == "USD"
    assert calculated["appliedRules"][0]["ruleName"] == "FedEx Express Domestic"


def test_a_new_rule_prices_the_next_calculation_and_its_removal_stops_it(admin: httpx.Client, unique: str) -> None:
    carrier = data(admin.post("/api/v1/carriers", json={"name": f"Rule Test Lines {unique}"}), 201)
    shipment = {
        "carrierId": carrier["id"],
        "serviceType": "Pallet",
        "weight": 10,
        "originCountry": "DE",
        "destinationCountry": "FR",
    }
    assert admin.post("/api/v1/pricing/calculate", json=shipment).status_code == 422  # no rule yet

    rule = data(
        admin.post(
            "/api/v1/pricing/rules",
            json={
                "name": f"Pallets {unique}",
                "priority": 10,
                "conditions": {"carrierId": carrier["id"], "serviceType": "pallet"},
                "pricing": {"baseRate": 40, "perKgRate": 1.5, "currency": "EUR"},
            },
        ),
        201,
    )
    priced = data(admin.post("/api/v1/pricing/calculate", json=shipment), 201)
    assert priced["calculation"]["total"] == 55.0
    assert priced["calculation"]["currency"] == "EUR"

    data(admin.patch(f"/api/v1/pricing/rules/{rule['id']}", json={"isActive": False}))
    assert admin.post("/api/v1/pricing/calculate", json=shipment).status_code == 422


def test_a_calculation_names_a_customer_that_exists(admin: httpx.Client, unique: str) -> None:
    customer = data(
        admin.post(
            "/api/v1/customers",
            json={"email": f"shipper-{unique}@example.com", "firstName": "Sam", "lastName": "Shipper"},
        ),
        201,
    )
    shipment = {
        "carrierId": 1,
        "serviceType": "Express",
        "weight": 5.5,
        "originCountry": "US",
        "destinationCountry": "US",
    }
    priced = data(admin.post("/api/v1/pricing/calculate", json={**shipment, "customerId": customer["id"]}), 201)
    assert priced["request"]["customerId"] == customer["id"]

    refused = admin.post("/api/v1/pricing/calculate", json={**shipment, "customerId": 999_999_999})
    assert refused.status_code == 400
    assert refused.json()["fieldErrors"]["customerId"] == ["must name an existing customer"]


def test_a_demo_user_of_each_role_signs_in(api: httpx.Client) -> None:
    for email in ("olivia.bennett", "marcus.reyes", "emma.carter", "hana.sato"):
        headers = sign_in(api, f"{email}@demo.freightdesk.example", DEMO_PASSWORD)
        assert data(api.get("/api/v1/auth/profile", headers=headers))["email"].startswith(email)


def test_no_token_is_401_and_a_bad_body_is_400_in_the_error_shape(api: httpx.Client) -> None:
    for path in ("/api/v1/users", "/api/v1/customers", "/api/v1/carriers", "/api/v1/pricing/rules"):
        refused = api.get(path)
        assert refused.status_code == 401, path
        assert set(refused.json()) >= {"message", "statusCode", "error", "timestamp", "path"}
    bad = api.post("/api/v1/auth/login", content=b'{"email": "a\xff", "password": "x"}')
    assert bad.status_code == 400
    assert bad.json()["statusCode"] == 400


def test_quotes_are_cheapest_first_and_leave_out_a_deactivated_carrier(admin: httpx.Client, unique: str) -> None:
    shipment = {"serviceType": f"Crate-{unique}", "weight": 2, "originCountry": "NL", "destinationCountry": "BE"}
    carriers = [data(admin.post("/api/v1/carriers", json={"name": f"Quote Co {n} {unique}"}), 201) for n in (1, 2)]
    for carrier, base_rate in zip(carriers, (30, 20), strict=True):
        data(
            admin.post(
                "/api/v1/pricing/rules",
                json={
                    "name": f"Crates {carrier['id']}",
                    "conditions": {"carrierId": carrier["id"], "serviceType": shipment["serviceType"]},
                    "pricing": {"baseRate": base_rate, "currency": "EUR"},
                },
            ),
            201,
        )
    quoted = data(admin.post("/api/v1/pricing/quotes", json=shipment))
    assert [(q["carrierId"], q["calculation"]["total"]) for q in quoted["quotes"]] == [
        (carriers[1]["id"], 20.0),
        (carriers[0]["id"], 30.0),
    ]

    data(admin.patch(f"/api/v1/carriers/{carriers[1]['id']}", json={"isActive": False}))
    eventually(
        lambda: (
            [q["carrierId"] for q in data(admin.post("/api/v1/pricing/quotes", json=shipment))["quotes"]]
            == [carriers[0]["id"]]
        ),
        "the deactivated carrier gone from the quotes",
    )
