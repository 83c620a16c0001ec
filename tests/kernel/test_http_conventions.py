"""Envelope, correlation IDs, CORS, docs and metrics — as a client sees them."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler

from bootstrap.app import create_app
from kernel.http.access import AUTHENTICATED_ONLY, access_of
from kernel.settings import Settings
from tests.conftest import http_client, running
from tests.helpers import bearer, token_for

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


async def test_success_envelope_shape(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/v1/carriers/count")).json()
    assert set(body) == {"data", "message", "statusCode", "timestamp", "success"}
    assert body["message"] == "Success"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", body["timestamp"])


async def test_correlation_id_is_echoed_or_generated(client: httpx.AsyncClient) -> None:
    echoed = await client.get("/api/v1/health/live", headers={"X-Correlation-ID": "abc-123"})
    assert echoed.headers["x-correlation-id"] == "abc-123"
    generated = await client.get("/api/v1/health/live")
    assert UUID.match(generated.headers["x-correlation-id"])
    too_long = await client.get("/api/v1/health/live", headers={"X-Correlation-ID": "x" * 129})
    assert UUID.match(too_long.headers["x-correlation-id"])
    error = await client.get("/api/v1/carriers/999", headers={"X-Correlation-ID": "err-1"})
    assert error.headers["x-correlation-id"] == "err-1"


async def test_cors_allows_the_configured_origin_only(client: httpx.AsyncClient) -> None:
    allowed = await client.options(
        "/api/v1/carriers",
        headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"},
    )
    assert allowed.headers.get("access-control-allow-origin") == "http://localhost:3000"
    denied = await client.get("/api/v1/carriers/count", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in denied.headers


async def test_openapi_docs_at_the_old_path(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/api/docs/openapi.json")).json()
    assert "/api/v1/carriers" in schema["paths"]
    assert "/api/v1/carriers/{id}" in schema["paths"]
    assert (await client.get("/api/docs")).status_code == 200


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient, app: Litestar) -> None:
    await client.get("/api/v1/carriers/12345")
    text = (await client.get("/metrics", headers=bearer(token_for(app, permissions=["system.monitoring"])))).text
    assert 'path="/api/v1/carriers/{id' in text
    assert "freightdesk_outbox_backlog" in text
    assert "/api/v1/carriers/12345" not in text


@pytest.mark.parametrize("path", ["/api/v1/carriers/1", "/api/v1/nothing"])
async def test_no_stack_traces_in_errors(client: httpx.AsyncClient, path: str) -> None:
    body = (await client.get(path)).text
    assert "Traceback" not in body
    assert "sqlalchemy" not in body.lower()


async def test_plain_options_request_is_answered_without_a_token(client: httpx.AsyncClient) -> None:
    client.headers.pop("Authorization", None)
    response = await client.options("/api/v1/carriers")
    assert response.status_code == 204
    assert "OPTIONS" in response.headers["allow"]


@pytest.mark.parametrize(
    "leak",
    ['{"hash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA"}', '{"h": "$2b$12$abcdefghijklmnopqrstuv"}', "admin123"],
)
def test_the_response_scanner_catches_a_leak(leak: str) -> None:
    """Planted leak: the hook that checks every response of the suite must fail on it."""
    from tests.conftest import scan_for_secrets

    with pytest.raises(AssertionError, match="contains"):
        scan_for_secrets(leak, "GET /planted")


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": "Lax Carrier", "isActive": "false"}, "isActive", "must be true or false"),
        ({"name": "Lax Carrier", "isActive": 1}, "isActive", "must be true or false"),
        ({"name": 12345}, "name", "must be a string"),
        ({"name": "Lax Carrier", "metadata": {"serviceTypes": "ground"}}, "metadata.serviceTypes", "must be a list"),
    ],
)
async def test_body_types_are_strict_json(
    client: httpx.AsyncClient, body: dict[str, object], field: str, message: str
) -> None:
    response = await client.post("/api/v1/carriers", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["fieldErrors"][field] == [message]
    assert (await client.get("/api/v1/carriers/count")).json()["data"]["count"] == 0


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"name": "\\ud800"}', "is not valid JSON"),  # lone surrogate
        (b'{"name": "abc", "metadata": {"a": 1e400}}', "is not valid JSON"),  # number out of range
        (b"[" * 1200 + b"]" * 1200, "is nested too deeply"),
        (b'{"a":' * 1200 + b"1" + b"}" * 1200, "is nested too deeply"),
        (b'{"name": "abc"} trailing', "is not valid JSON"),
    ],
)
@pytest.mark.parametrize("path", ["/api/v1/carriers", "/api/v1/auth/login"])
async def test_undecodable_bodies_are_400_malformed_json(
    client: httpx.AsyncClient, raw: bytes, reason: str, path: str
) -> None:
    response = await client.post(path, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["message"] == "Malformed JSON in request body"
    assert body["fieldErrors"] == {"body": [reason]}


def json_body_routes(app: Litestar) -> list[tuple[str, str, str]]:
    """(method, path with ids filled, access rule) of every route that takes a JSON body."""
    routes = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if isinstance(handler, HTTPRouteHandler) and handler.parsed_data_field is not None:
                path = re.sub(r"\{[^}]+\}", "1", route.path)
                for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                    routes.append((method, path, str(access_of(handler))))
    return routes


@pytest.mark.parametrize(
    "raw",
    [
        b'{"email": "a\xff", "password": "x", "name": "x"}',  # a byte that never starts a character
        b'{"name": "Caf\xe9", "email": "caf\xe9@example.com"}',  # Latin-1 sent as if it were UTF-8
        b'{"name": "Caf\xc3"}',  # a sequence cut short
        b'{"name": "\xed\xa0\x80"}',  # an encoded surrogate
        b'{"name": "\xc0\xaf"}',  # an overlong encoding
        b'{"na\xffme": "x"}',  # inside a key
    ],
)
async def test_invalid_utf8_in_a_json_body_is_400_malformed_json_on_every_route(
    client: httpx.AsyncClient, app: Litestar, caplog: pytest.LogCaptureFixture, raw: bytes
) -> None:
    routes = json_body_routes(app)
    assert {("POST", "/api/v1/auth/login"), ("POST", "/api/v1/carriers")} <= {(m, p) for m, p, _ in routes}
    for method, path, access in routes:
        if access == "public":
            headers = {}
        elif access == AUTHENTICATED_ONLY:
            headers = bearer(token_for(app, permissions=[]))
        else:
            headers = bearer(token_for(app, permissions=[access]))
        with caplog.at_level(logging.WARNING):
            response = await client.request(
                method, path, content=raw, headers={**headers, "Content-Type": "application/json"}
            )
        assert response.status_code == 400, (method, path, response.text)
        body = response.json()
        assert body == {
            "message": "Malformed JSON in request body",
            "statusCode": 400,
            "error": "Bad Request",
            "timestamp": body["timestamp"],
            "path": path,
            "fieldErrors": {"body": ["is not valid UTF-8"]},
        }, (method, path)
        assert "Traceback" not in response.text
    logged = [record for record in caplog.records if record.levelno >= logging.ERROR or record.exc_info]
    assert logged == [], [record.getMessage() for record in logged]


@pytest.mark.parametrize("value", ["%C2%B2", "%E2%91%A0", "%D9%A3", "9" * 5000, "1e3", "0x10"])
async def test_paging_takes_ascii_whole_numbers_only(client: httpx.AsyncClient, value: str) -> None:
    response = await client.get(f"/api/v1/carriers?limit={value}&page={value}")
    assert response.status_code == 400, response.text
    assert set(response.json()["fieldErrors"]) == {"limit", "page"}


async def test_error_path_is_the_path_as_sent(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/carriers/name/%C3%BC%20x?a=%20b")
    assert response.status_code == 404
    assert response.json()["path"] == "/api/v1/carriers/name/%C3%BC%20x?a=%20b"


async def test_metrics_need_monitoring_permission_or_the_scrape_token(tmp_path: Path) -> None:
    scrape_token = "s" * 40
    settings = Settings.from_mapping({"FREIGHTDESK_DATA_DIR": str(tmp_path), "FREIGHTDESK_METRICS_TOKEN": scrape_token})
    app = create_app(settings)
    async with running(app), http_client(app) as client:
        anonymous = await client.get("/metrics")
        no_permission = await client.get("/metrics", headers=bearer(token_for(app, permissions=["carriers.read"])))
        scraper = await client.get("/metrics", headers=bearer(scrape_token))
        scraper_elsewhere = await client.get("/api/v1/carriers", headers=bearer(scrape_token))
        wrong_token = await client.get("/metrics", headers=bearer("s" * 39 + "t"))
    assert (anonymous.status_code, no_permission.status_code) == (401, 403)
    assert scraper.status_code == 200
    assert "freightdesk_outbox_backlog" in scraper.text
    assert scraper_elsewhere.status_code == 403  # good for /metrics and nothing else
    assert wrong_token.status_code == 401


async def test_responses_outside_any_route_carry_a_correlation_id(client: httpx.AsyncClient) -> None:
    unknown = await client.get("/api/v1/nothing-here", headers={"X-Correlation-ID": "trace-me"})
    wrong_method = await client.delete("/api/v1/carriers")
    assert unknown.status_code == 404
    assert unknown.headers["X-Correlation-ID"] == "trace-me"
    assert wrong_method.status_code == 405
    assert UUID.match(wrong_method.headers["X-Correlation-ID"])


async def test_a_blank_body_is_400_in_the_error_shape(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/carriers", content=b"   \n ", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["message"] == "Malformed JSON in request body"
    assert response.json()["fieldErrors"] == {"body": ["is blank"]}


async def test_an_unreachable_module_database_is_503_not_500(tmp_path: Path) -> None:
    settings = Settings.from_mapping(
        {"FREIGHTDESK_DATA_DIR": str(tmp_path), "CARRIER_DATABASE_URL": "mysql+asyncmy://nobody:pw@127.0.0.1:1/x"}
    )
    app = create_app(settings)
    async with running(app), http_client(app) as client:
        client.headers.update(bearer(token_for(app)))
        responses = [
            await client.get("/api/v1/carriers"),  # a session query
            await client.get("/api/v1/carriers/1"),  # a session-free Core read
            await client.get("/api/v1/carriers/name/abc"),  # through advanced-alchemy's repository
            await client.post("/api/v1/carriers", json={"name": "New Carrier"}),
        ]
    for response in responses:
        assert response.status_code == 503, (response.request.url.path, response.text)
        assert response.json()["message"] == "Service Unavailable"
        assert response.headers["Retry-After"] == "1"


async def test_the_openapi_document_describes_errors_in_the_v1_shape(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/docs/openapi.json")).json()
    create_carrier = document["paths"]["/api/v1/carriers"]["post"]["responses"]
    for status in ("400", "401", "403", "409", "503"):
        assert create_carrier[status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorBody"
        }, status
    assert set(document["components"]["schemas"]["ErrorBody"]["required"]) == {
        "message",
        "statusCode",
        "error",
        "timestamp",
        "path",
    }
