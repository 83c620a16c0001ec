"""A route's rules beyond its body schema (`BODY_RULES`) join the schema's findings in one 400, so a body
with a wrong type in one field and a broken rule in another hears about both."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import httpx
import msgspec
from litestar import Litestar, post
from litestar.params import JSONBody

from kernel.http.body import BODY_RULES, check_request
from kernel.http.errors import exception_handlers
from kernel.http.fields import RequestBody


class Address(RequestBody):
    city: str


class Thing(RequestBody):
    name: str
    size: Annotated[int, msgspec.Meta(ge=1)]
    address: Address | None = None


seen: list[dict[str, Any]] = []


async def thing_rules(fields: Mapping[str, Any]) -> Mapping[str, Sequence[str]]:
    seen.append(dict(fields))
    problems: dict[str, list[str]] = {}
    if fields.get("name") == "taken":
        problems["name"] = ["is taken"]
    if "size" in fields:
        problems["size"] = ["must be odd"]  # never reached for a size the schema refused
    return problems


@post("/things", opt={BODY_RULES: thing_rules}, status_code=204)
async def make_thing(data: JSONBody[Thing]) -> None:
    return None


@post("/plain", status_code=204)
async def make_plain(data: JSONBody[Thing]) -> None:
    return None


def client() -> httpx.AsyncClient:
    app = Litestar([make_thing, make_plain], before_request=check_request, exception_handlers=exception_handlers())
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_the_rules_run_on_the_fields_the_schema_accepted_and_join_its_findings() -> None:
    seen.clear()
    async with client() as http:
        response = await http.post("/things", json={"name": "taken", "size": 0, "address": {"town": "x"}})
    assert response.status_code == 400
    assert response.json()["fieldErrors"] == {
        "size": ["must be at least 1"],
        "address.town": ["property town should not exist"],
        "address.city": ["is required"],
        "name": ["is taken"],
    }
    assert seen == [{"name": "taken"}]  # converted, by attribute name; no field with an error of its own


async def test_a_body_the_schema_accepts_is_left_to_the_handler() -> None:
    seen.clear()
    async with client() as http:
        assert (await http.post("/things", json={"name": "taken", "size": 2})).status_code == 204
    assert seen == []


async def test_a_route_without_rules_reports_the_schema_alone() -> None:
    async with client() as http:
        response = await http.post("/plain", json={"name": "taken", "size": 0})
    assert response.json()["fieldErrors"] == {"size": ["must be at least 1"]}
