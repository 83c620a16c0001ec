"""The served OpenAPI document (docs/api.md §10): valid, self-contained, and true to what the server does.

The suite-wide check that every response matches it is tests/contract.py; the tests here prove that check
bites (a planted drift fails) and cover what responses alone cannot show: security, parameters, patterns.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import regress
from litestar import Litestar
from openapi_spec_validator import validate

from kernel.http import envelope
from kernel.http.access import access_of
from kernel.http.openapi import served_document
from modules.carrier.internal.schemas import SORT_FIELDS, CarrierPage
from modules.user.internal.roles import SORTABLE as ROLE_SORTABLE
from modules.user.internal.schemas import RolePage, UserPage
from modules.user.internal.service import SORTABLE as USER_SORTABLE
from tests import contract
from tests.carrier.factories import carrier_body
from tests.conftest import http_client, running
from tests.helpers import bearer, token_for

METHODS = {"get", "put", "post", "patch", "delete"}
NOT_ENVELOPED = {"jwks", "metrics"}


@pytest.fixture(scope="module")
def document(_openapi_contract: contract.Contract) -> dict[str, Any]:
    return _openapi_contract.document


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_the_document_is_self_contained(document: dict[str, Any]) -> None:
    refs = {node["$ref"] for node in walk(document) if isinstance(node.get("$ref"), str)}
    assert refs
    for ref in refs:
        assert ref.startswith("#/"), ref
        target: Any = document
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
    text = json.dumps(document)
    assert "http://" not in text
    assert not re.search(r"https://(?!spec\.)", text)


def test_operation_ids_are_function_names_and_path_parameters_camel_case(document: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", i) for i in ids), ids
    assert {"list_carriers", "get_carrier", "create_carrier", "update_carrier", "delete_carrier", "login"} <= set(ids)
    for path, _, operation in operations(document):
        names = re.findall(r"\{([^}]+)\}", path)
        assert all(re.fullmatch(r"[a-z][A-Za-z0-9]*", n) for n in names), path
        assert sorted(p["name"] for p in operation.get("parameters", []) if p["in"] == "path") == sorted(names)
    assert "/api/v1/profiles/{userId}" in document["paths"]
    assert not any(path.startswith("/api/docs") for path in document["paths"])


def test_security_follows_each_routes_access_declaration(document: dict[str, Any], app: Litestar) -> None:
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token from POST /api/v1/auth/login (docs/api.md §3.1)",
    }
    declared = {
        handler.handler_name: access_of(handler)
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if getattr(handler, "include_in_schema", False)
    }
    for path, method, operation in operations(document):
        if declared[operation["operationId"]] == "public":
            assert operation["security"] == [], (method, path)
            assert "401" not in operation["responses"] or method == "post", (method, path)
        else:
            assert {"bearerAuth": []} in operation["security"], (method, path)
            assert {"401", "403"} <= set(operation["responses"]), (method, path)
    public = {op["operationId"] for _, _, op in operations(document) if op["security"] == []}
    assert {"login", "register", "refresh", "validate_token", "jwks", "process_health", "carrier_health"} <= public


def test_success_responses_are_enveloped_and_204s_have_no_body(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for path, method, operation in operations(document):
        successes = {code: r for code, r in operation["responses"].items() if code.startswith("2")}
        assert len(successes) == 1, (method, path)
        code, response = next(iter(successes.items()))
        if code == "204":
            assert "content" not in response, (method, path)
            continue
        if operation["operationId"] in NOT_ENVELOPED:
            continue
        name = response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        assert set(schemas[name]["required"]) == {"data", "message", "statusCode", "timestamp", "success"}, name
        for error_code, error in operation["responses"].items():
            if error_code[0] in "45":
                assert error["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1] in {
                    "ErrorBody",
                    "ProcessHealthFailure",
                    "ModuleHealthFailure",
                    "ReadinessFailure",
                }
    carriers = document["paths"]["/api/v1/carriers"]["get"]["responses"]["200"]
    assert carriers["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/CarrierPageEnvelope"}
    page = schemas["CarrierPage"]
    assert set(page["required"]) == {"carriers", "total", "page", "limit", "totalPages"}
    assert set(schemas["RolePage"]["properties"]) == {"data", "total", "page", "limit", "totalPages"}
    jwks = document["paths"]["/api/v1/auth/.well-known/jwks.json"]["get"]["responses"]["200"]
    assert jwks["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/JsonWebKeySet"}
    metrics = document["paths"]["/metrics"]["get"]
    assert [m.split(";")[0] for m in metrics["responses"]["200"]["content"]] == ["text/plain"]
    assert metrics["security"] == [{"metricsToken": []}, {"bearerAuth": []}]
    health = document["paths"]["/api/v1/health"]["get"]["responses"]
    assert health["503"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ProcessHealthFailure"
    }


def test_money_is_a_number_both_ways(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for name in ("CarrierPricing", "CarrierPricingOut"):
        assert schemas[name]["properties"]["baseRate"] == {"type": "number"}, name
        assert {"type": "number"} in schemas[name]["properties"]["perKgRate"]["anyOf"], name
    assert schemas["CarrierPricing"]["additionalProperties"] is False
    assert not [node for node in walk(document) if node.get("format") == "decimal"]


def test_list_query_parameters_state_their_real_types(document: dict[str, Any]) -> None:
    expected_keys = {
        "/api/v1/carriers": list(SORT_FIELDS),
        "/api/v1/users": list(USER_SORTABLE),
        "/api/v1/roles": list(ROLE_SORTABLE),
    }
    for path, keys in expected_keys.items():
        parameters = {p["name"]: p["schema"] for p in document["paths"][path]["get"]["parameters"]}
        assert parameters["page"] | {"description": ""} == {
            "type": "integer",
            "minimum": 1,
            "maximum": 1_000_000,
            "default": 1,
            "description": "",
        }
        assert (parameters["limit"]["type"], parameters["limit"]["minimum"], parameters["limit"]["maximum"]) == (
            "integer",
            1,
            100,
        )
        assert parameters["sortOrder"]["enum"] == ["ASC", "DESC"]
        assert parameters["sortBy"]["enum"] == keys
        assert parameters["search"]["type"] == "string"
    filters = {p["name"]: p["schema"]["type"] for p in document["paths"]["/api/v1/roles"]["get"]["parameters"]}
    assert filters["activeOnly"] == "boolean"
    for path in ("/api/v1/carriers", "/api/v1/users", "/api/v1/carriers/count"):
        parameters = {p["name"]: p["schema"] for p in document["paths"][path]["get"]["parameters"]}
        assert parameters["isActive"]["type"] == "boolean", path
    for node in walk(document["paths"]):
        if node.get("in") == "query":
            assert "oneOf" not in node["schema"], node
            assert "null" not in json.dumps(node["schema"]), node


def test_each_page_type_lists_the_keys_its_list_sorts_by() -> None:
    assert CarrierPage.sort_keys == tuple(SORT_FIELDS)
    assert UserPage.sort_keys == tuple(USER_SORTABLE)
    assert RolePage.sort_keys == tuple(ROLE_SORTABLE)


async def test_the_server_accepts_every_documented_list_parameter(
    document: dict[str, Any], client: httpx.AsyncClient, app: Litestar
) -> None:
    client.headers.update(bearer(token_for(app, permissions=["carriers.list", "users.list", "roles.list"])))
    for path in ("/api/v1/carriers", "/api/v1/users", "/api/v1/roles"):
        parameters = {p["name"]: p["schema"] for p in document["paths"][path]["get"]["parameters"]}
        for key in parameters["sortBy"]["enum"]:
            for order in parameters["sortOrder"]["enum"]:
                response = await client.get(path, params={"sortBy": key, "sortOrder": order})
                assert response.status_code == 200, (path, key, order, response.text)
        bounds = {
            "page": parameters["page"]["maximum"],
            "limit": parameters["limit"]["maximum"],
            "search": "x" * parameters["search"]["maxLength"],
        }
        assert (await client.get(path, params=bounds)).status_code == 200
        for name in ("isActive", "activeOnly"):
            if name in parameters:
                for value in ("true", "false"):
                    assert (await client.get(path, params={name: value})).status_code == 200
        for past in ({"page": 0}, {"limit": parameters["limit"]["maximum"] + 1}, {"sortBy": "nope"}):
            assert (await client.get(path, params=past)).status_code == 400, past


# Strings on either side of each pattern's edge: every one must get the same answer from Python's `re` (the
# server) and from an ECMAScript engine (what a client's validator runs).
PATTERN_SAMPLES = [
    "",
    "USD",
    "USD\n",
    "usd",
    "ops@example.com",
    "ops@example.com\n",
    "ops@exa_mple.com",
    "https://a.example/track?id=1",
    "https://a.example/\n",
    "http://localhost:8080",
    "http://256.1.1.1",
    "javascript:alert(1)",
    "+1 800 555 0100",
    "+1 800 555 0100\n",
    "555-0100",
    "ABC_123-x",
    "ABC 123",
    "ABC\n",
]


def test_patterns_mean_the_same_in_ecmascript_and_python(document: dict[str, Any]) -> None:
    patterns = {node["pattern"] for node in walk(document) if isinstance(node.get("pattern"), str)}
    assert len(patterns) >= 4  # email, URL, phone, currency, carrier code
    for pattern in patterns:
        assert "\\Z" not in pattern, pattern
        ecmascript = regress.Regex(pattern, "u")
        for sample in PATTERN_SAMPLES:
            assert (ecmascript.find(sample) is not None) == (re.search(pattern, sample) is not None), (
                pattern,
                sample,
            )
            if sample.endswith("\n") and pattern.startswith("^"):  # whole-value patterns refuse a trailing newline
                assert re.search(pattern, sample) is None, (pattern, sample)


async def test_a_trailing_newline_is_still_refused(client: httpx.AsyncClient) -> None:
    body = carrier_body(metadata={"code": "ABC\n", "pricing": {"baseRate": 1, "currency": "USD\n"}})
    response = await client.post("/api/v1/carriers", json=body)
    assert response.status_code == 400
    assert {"metadata.code", "metadata.pricing.currency"} <= set(response.json()["fieldErrors"])


# ---- the contract check bites


async def test_a_field_the_document_leaves_out_fails_the_check(
    document: dict[str, Any], client: httpx.AsyncClient
) -> None:
    created = await client.post("/api/v1/carriers", json=carrier_body())
    drifted = json.loads(json.dumps(document))
    del drifted["components"]["schemas"]["CarrierOut"]["properties"]["contactPhone"]
    drifted["components"]["schemas"]["CarrierOut"]["required"].remove("contactPhone")
    checker = contract.Contract(drifted)
    with pytest.raises(contract.ContractViolation, match="contactPhone"):
        checker.check("POST", "/api/v1/carriers", 201, created.headers["content-type"], created.content)
    with pytest.raises(contract.ContractViolation, match="status not documented"):
        checker.check("POST", "/api/v1/carriers", 202, created.headers["content-type"], created.content)
    with pytest.raises(contract.ContractViolation, match="no documented operation"):
        checker.check("GET", "/api/v1/nowhere", 200, "application/json", b"{}")
    contract.Contract(document).check("POST", "/api/v1/carriers", 201, created.headers["content-type"], created.content)


async def test_a_server_that_drifts_from_the_document_fails_the_request(
    app: Litestar, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = envelope.success_body

    def with_an_extra_field(data: Any, status_code: int, method: str) -> dict[str, Any]:
        return {**original(data, status_code, method), "version": 2}

    monkeypatch.setattr(envelope, "success_body", with_an_extra_field)
    async with running(app), http_client(app) as client:
        client.headers.update(bearer(token_for(app)))
        with pytest.raises(contract.ContractViolation, match="version"):
            await client.get("/api/v1/carriers/count")


async def test_the_served_document_is_built_once(app: Litestar) -> None:
    async with running(app), http_client(app) as client:
        first = await client.get("/api/docs/openapi.json")
        second = await client.get("/api/docs/openapi.json")
    assert first.content == second.content
    assert served_document(app) is served_document(app)
