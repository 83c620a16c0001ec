"""Conditional requests on single resources (docs/api.md §1.9), over HTTP, for carriers, customers, pricing rules
and users alike: `ETag` on reads and writes, `If-None-Match` → 304, `If-Match` → 412 with nothing changed."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from litestar import Litestar

from tests.carrier.factories import carrier_body
from tests.conftest import data_of
from tests.customer.factories import customer_body
from tests.helpers import bearer, outbox_rows, token_for
from tests.pricing.factories import RULES, pricing_headers, rule_body, seed_demo
from tests.user.factories import as_admin, as_user, seed, user_body

Client = httpx.AsyncClient


@dataclass(frozen=True)
class Resource:
    base: str
    module: str
    body: Callable[[], dict[str, Any]]
    change: dict[str, Any]
    """A PATCH body that changes the resource (and publishes an event)."""
    changed_field: str
    headers: Callable[[Litestar], dict[str, str]]
    unprivileged: Callable[[Litestar], dict[str, str]]
    """A caller who may not read the resource."""
    prepare: Callable[[Litestar], Awaitable[None]] | None = None


def _everything(app: Litestar) -> dict[str, str]:
    return bearer(token_for(app))


def _nothing(app: Litestar) -> dict[str, str]:
    return bearer(token_for(app, permissions=[], user_id=4242, roles=["user"]))


_roles = itertools.count(1)


def _role_body() -> dict[str, Any]:
    return {"name": f"Dispatch {next(_roles)}", "description": "Dispatchers"}


RESOURCES = {
    "carriers": Resource(
        "/api/v1/carriers", "carrier", carrier_body, {"description": "Changed"}, "description", _everything, _nothing
    ),
    "customers": Resource(
        "/api/v1/customers", "customer", customer_body, {"firstName": "Changed"}, "firstName", _everything, _nothing
    ),
    "pricing rules": Resource(
        RULES, "pricing", rule_body, {"description": "Changed"}, "description", pricing_headers, _nothing
    ),
    "users": Resource(
        "/api/v1/users",
        "user",
        user_body,
        {"firstName": "Changed"},
        "firstName",
        as_admin,
        lambda app: as_user(app, 4242),
        seed,
    ),
    "roles": Resource(
        "/api/v1/roles", "user", _role_body, {"description": "Changed"}, "description", as_admin, _nothing, seed
    ),
}


@pytest.fixture(params=list(RESOURCES))
def resource(request: pytest.FixtureRequest) -> Resource:
    found: Resource = RESOURCES[request.param]
    return found


async def _create(client: Client, app: Litestar, resource: Resource) -> tuple[str, httpx.Response]:
    """The new resource's URL and its first GET."""
    if resource.prepare is not None:
        await resource.prepare(app)
    created = await client.post(resource.base, json=resource.body(), headers=resource.headers(app))
    assert created.status_code == 201, created.text
    url = f"{resource.base}/{data_of(created)['id']}"
    read = await client.get(url, headers=resource.headers(app))
    assert read.status_code == 200, read.text
    return url, read


async def _outbox_size(app: Litestar, resource: Resource) -> int:
    return len(await outbox_rows(app, resource.module))


async def test_etag_is_stable_and_changes_with_the_resource(client: Client, app: Litestar, resource: Resource) -> None:
    url, first = await _create(client, app, resource)
    tag = first.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', tag)
    again = await client.get(url, headers=resource.headers(app))
    assert again.headers["etag"] == tag
    patched = await client.patch(url, json=resource.change, headers=resource.headers(app))
    assert patched.status_code == 200, patched.text
    assert patched.headers["etag"] != tag
    after = await client.get(url, headers=resource.headers(app))
    assert after.headers["etag"] == patched.headers["etag"]  # the write's tag is the one a GET now answers


async def test_if_none_match_current_is_304_without_a_body(client: Client, app: Litestar, resource: Resource) -> None:
    url, first = await _create(client, app, resource)
    tag = first.headers["etag"]
    for header in (tag, f'"other", {tag}', f"W/{tag}", "*"):
        cached = await client.get(url, headers={**resource.headers(app), "If-None-Match": header})
        assert cached.status_code == 304, header
        assert cached.content == b""
        assert cached.headers["etag"] == tag
    stale = await client.get(url, headers={**resource.headers(app), "If-None-Match": '"stale"'})
    assert stale.status_code == 200
    assert data_of(stale) == data_of(first)


async def test_if_none_match_does_not_bypass_the_permission(client: Client, app: Litestar, resource: Resource) -> None:
    url, first = await _create(client, app, resource)
    refused = await client.get(url, headers={**resource.unprivileged(app), "If-None-Match": first.headers["etag"]})
    assert refused.status_code == 403
    assert "etag" not in refused.headers


async def test_stale_if_match_is_412_and_changes_nothing(client: Client, app: Litestar, resource: Resource) -> None:
    url, first = await _create(client, app, resource)
    events = await _outbox_size(app, resource)
    for method in ("PATCH",) if resource.base.endswith("/users") else ("PATCH", "PUT"):
        refused = await client.request(
            method, url, json=resource.change, headers={**resource.headers(app), "If-Match": '"stale"'}
        )
        assert refused.status_code == 412, refused.text
        assert refused.json()["error"] == "Precondition Failed"
    weak = await client.patch(
        url, json=resource.change, headers={**resource.headers(app), "If-Match": "W/" + first.headers["etag"]}
    )
    assert weak.status_code == 412  # If-Match compares strongly: a weak tag never matches
    now = await client.get(url, headers=resource.headers(app))
    assert data_of(now) == data_of(first)
    assert now.headers["etag"] == first.headers["etag"]
    assert await _outbox_size(app, resource) == events


async def test_current_if_match_updates(client: Client, app: Litestar, resource: Resource) -> None:
    url, first = await _create(client, app, resource)
    headers = {**resource.headers(app), "If-Match": f'"other", {first.headers["etag"]}'}
    patched = await client.patch(url, json=resource.change, headers=headers)
    assert patched.status_code == 200, patched.text
    assert data_of(patched)[resource.changed_field] == next(iter(resource.change.values()))
    # The tag it was based on is now stale: a second client holding it is refused.
    second = await client.patch(url, json={**resource.change}, headers=headers)
    assert second.status_code == 412
    anything = await client.patch(url, json=resource.change, headers={**resource.headers(app), "If-Match": "*"})
    assert anything.status_code == 200


async def test_delete_with_stale_if_match_is_412_and_keeps_it(
    client: Client, app: Litestar, resource: Resource
) -> None:
    url, first = await _create(client, app, resource)
    events = await _outbox_size(app, resource)
    refused = await client.delete(url, headers={**resource.headers(app), "If-Match": '"stale"'})
    assert refused.status_code == 412
    still = await client.get(url, headers=resource.headers(app))
    assert still.status_code == 200
    assert data_of(still) == data_of(first)
    assert await _outbox_size(app, resource) == events
    deleted = await client.delete(url, headers={**resource.headers(app), "If-Match": first.headers["etag"]})
    assert deleted.status_code == 204
    assert (await client.get(url, headers=resource.headers(app))).status_code == 404


async def test_without_if_match_writes_go_on_as_before(client: Client, app: Litestar, resource: Resource) -> None:
    url, _ = await _create(client, app, resource)
    assert (await client.patch(url, json=resource.change, headers=resource.headers(app))).status_code == 200
    assert (await client.delete(url, headers=resource.headers(app))).status_code == 204


async def test_a_stored_calculation_has_an_etag_and_answers_304(client: Client, app: Litestar) -> None:
    await seed_demo(app)
    headers = pricing_headers(app)
    shipment = {
        "carrierId": 1,
        "serviceType": "Express",
        "weight": 5.5,
        "originCountry": "US",
        "destinationCountry": "US",
    }
    made = await client.post("/api/v1/pricing/calculate", json=shipment, headers=headers)
    assert made.status_code == 201, made.text
    url = f"/api/v1/pricing/calculations/{data_of(made)['id']}"
    first = await client.get(url, headers=headers)
    tag = first.headers["etag"]
    assert (await client.get(url, headers=headers)).headers["etag"] == tag
    cached = await client.get(url, headers={**headers, "If-None-Match": tag})
    assert cached.status_code == 304
    assert cached.content == b""
    refused = await client.get(url, headers={**_nothing(app), "If-None-Match": tag})
    assert refused.status_code == 403


async def test_a_role_s_etag_follows_its_user_count(client: Client, app: Litestar) -> None:
    """The tag names what a GET shows, counts included, not only the row's own columns."""
    url, first = await _create(client, app, RESOURCES["roles"])
    role = data_of(first)["id"]
    user = await client.post("/api/v1/users", json=user_body(roleIds=[role]), headers=as_admin(app))
    assert user.status_code == 201, user.text
    now = await client.get(url, headers={**as_admin(app), "If-None-Match": first.headers["etag"]})
    assert now.status_code == 200
    assert now.headers["etag"] != first.headers["etag"]


async def test_the_document_declares_the_headers_and_statuses(client: Client) -> None:
    document = (await client.get("/api/docs/openapi.json")).json()
    for path in ("/api/v1/carriers/{id}", "/api/v1/customers/{id}", "/api/v1/users/{id}", "/api/v1/roles/{id}"):
        item = document["paths"][path]
        read = item["get"]
        assert "If-None-Match" in [p["name"] for p in read["parameters"] if p["in"] == "header"]
        assert "304" in read["responses"]
        assert "ETag" in read["responses"]["200"]["headers"]
        assert "ETag" in item["patch"]["responses"]["200"]["headers"]
        for method in ("patch", "delete"):
            assert "If-Match" in [p["name"] for p in item[method]["parameters"] if p["in"] == "header"]
            assert "412" in item[method]["responses"]
    listed = document["paths"]["/api/v1/carriers"]["get"]
    assert "304" not in listed["responses"]
    assert "ETag" not in listed["responses"]["200"]["headers"]


async def test_two_writers_holding_the_same_tag_one_wins(client: Client, app: Litestar) -> None:
    """The tag is compared under the write's row lock: the second writer sees the first one's change."""
    carriers = RESOURCES["carriers"]
    url, first = await _create(client, app, carriers)
    headers = {**carriers.headers(app), "If-Match": first.headers["etag"]}
    answers = await asyncio.gather(
        client.patch(url, json={"description": "One"}, headers=headers),
        client.patch(url, json={"description": "Two"}, headers=headers),
    )
    assert sorted(a.status_code for a in answers) == [200, 412]
    (won,) = [a for a in answers if a.status_code == 200]
    now = await client.get(url, headers=carriers.headers(app))
    assert data_of(now)["description"] == data_of(won)["description"]
    assert now.headers["etag"] == won.headers["etag"]
