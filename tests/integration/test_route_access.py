"""Every route of the app, read from the app itself: no token → 401, a token without the route's permission →
403, a token with it → neither; a route for other processes (split mode's internal routes) → 401 for any user's
token, however privileged, and neither for a service token. A route that declares no access rule cannot even be
mounted."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from litestar import Litestar, get
from litestar.handlers import HTTPRouteHandler

from bootstrap.app import UndeclaredAccess, check_access_declarations, create_app
from kernel.http.access import AUTHENTICATED_ONLY, SERVICE_ONLY, access_of, requires
from kernel.remote.tokens import ServiceTokens
from kernel.settings import Settings
from tests.helpers import bearer, runtime_of, token_for

OUTSIDE_API = ("/api/docs",)


CALLER = 987654


@dataclass(frozen=True)
class RouteCase:
    method: str
    path: str
    decision: str

    @property
    def url(self) -> str:
        """The path with every parameter filled by a plausible value: ids are the caller's own (`CALLER`), so
        owner-or-permission routes let the caller through to a 404, as permission routes do."""
        return re.sub(r"\{[^}:]+(:int)?\}", lambda m: str(CALLER) if m.group(1) else "someone%40example.com", self.path)


def route_cases(app: Litestar) -> list[RouteCase]:
    cases = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler) or route.path.startswith(OUTSIDE_API):
                continue
            if handler.http_methods <= {"OPTIONS", "HEAD"}:
                continue  # Litestar's automatic OPTIONS answer
            decision = access_of(handler)
            assert decision is not None, f"{route.path} declares no access rule"
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                cases.append(RouteCase(method, route.path, decision))
    return cases


async def call(client: httpx.AsyncClient, case: RouteCase, token: str | None) -> httpx.Response:
    headers = bearer(token) if token else {}
    body = {} if case.method in {"POST", "PATCH", "PUT"} else None
    return await client.request(case.method, case.url, headers=headers, json=body)


async def test_every_route_enforces_its_declared_access(client: httpx.AsyncClient, app: Litestar) -> None:
    client.headers.pop("Authorization", None)
    cases = route_cases(app)
    assert len(cases) > 10
    checked: list[str] = []
    for case in cases:
        anonymous = await call(client, case, None)
        if case.decision == "public":
            if case.path.endswith("/auth/validate-token"):  # its documented answer to a missing token
                assert (anonymous.status_code, anonymous.json()["message"]) == (401, "Invalid token")
            else:
                assert anonymous.status_code not in {401, 403}, (case, anonymous.text)
            continue
        assert anonymous.status_code == 401, (case, anonymous.text)
        assert anonymous.json()["error"] == "Unauthorized"
        if case.decision == SERVICE_ONLY:
            every_permission = token_for(app, permissions=sorted(seeded_permissions()), user_id=CALLER)
            user = await call(client, case, every_permission)
            assert user.status_code == 401, (case, user.text)
            allowed = await call(client, case, service_token(app))
        elif case.decision != AUTHENTICATED_ONLY:
            unrelated = token_for(app, permissions=["content.read"], user_id=CALLER)
            denied = await call(client, case, unrelated)
            assert denied.status_code == 403, (case, denied.text)
            allowed = await call(client, case, token_for(app, permissions=[case.decision], user_id=CALLER))
        else:
            allowed = await call(client, case, token_for(app, permissions=[], user_id=CALLER))
        assert allowed.status_code not in {401, 403}, (case, allowed.status_code, allowed.text)
        checked.append(f"{case.method} {case.path}")
    assert checked


def seeded_permissions() -> set[str]:
    from modules.user.internal.seed import PERMISSIONS

    return {name for name, _, _ in PERMISSIONS}


def service_token(app: Litestar) -> str:
    """What another process of the deployment sends (kernel.remote)."""
    return ServiceTokens(runtime_of(app).settings.service_token_secret(), "test").issue()


def test_every_required_permission_is_one_a_role_can_hold(tmp_path: object) -> None:
    """A route that requires a permission nobody can be granted would be closed to everyone."""
    app = create_app(Settings.from_mapping({"FREIGHTDESK_DATA_DIR": str(tmp_path)}))
    seeded = seeded_permissions()
    required = {case.decision for case in route_cases(app)} - {"public", AUTHENTICATED_ONLY, SERVICE_ONLY}
    assert required, "no route requires a permission: the check would prove nothing"
    assert required <= seeded, f"required but never seeded: {sorted(required - seeded)}"
    assert any(case.decision == SERVICE_ONLY for case in route_cases(app)), "no internal route was checked"


def test_an_undeclared_route_stops_the_app_from_starting(tmp_path: object) -> None:
    """The planted violation: a route with neither `requires(...)` nor PUBLIC."""

    @get("/api/v1/sneaky")
    async def sneaky() -> dict[str, str]:
        return {"open": "door"}

    app = create_app(Settings.from_mapping({"FREIGHTDESK_DATA_DIR": str(tmp_path)}))
    app.register(sneaky)
    with pytest.raises(UndeclaredAccess, match="/api/v1/sneaky"):
        check_access_declarations(app)


async def skip_the_checks(_request: Any) -> None:
    """A route's own before_request hook, which would replace the app's."""


@pytest.mark.parametrize("replacement", [{"before_request": skip_the_checks}, {"cache": 60}])
def test_a_route_that_would_skip_the_access_check_stops_the_app_from_starting(
    tmp_path: object, replacement: dict[str, Any]
) -> None:
    """The planted violations: a route with a before_request hook of its own (it replaces the app's, which
    checks access), or one answered from Litestar's response cache (looked up before that hook)."""

    @get("/api/v1/unchecked", opt=requires("carriers.read"), **replacement)
    async def unchecked() -> dict[str, str]:
        return {"open": "door"}

    app = create_app(Settings.from_mapping({"FREIGHTDESK_DATA_DIR": str(tmp_path)}))
    app.register(unchecked)
    with pytest.raises(UndeclaredAccess, match="skip the access check: GET /api/v1/unchecked"):
        check_access_declarations(app)
