"""Conditional requests on single resources (docs/api.md §1.9), over HTTP, for carriers, customers, pricing rules
and users alike: `ETag` on reads and writes, `If-None-Match` → 304, `If-Match` → 412 with nothing changed."""

from __future__ import annotations

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
from tests.pricing.factories import RULES, pricing_headers, rule_body
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
    for method in ("PATCH", "PUT") if resource.module != "user" else ("PATCH",):
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
