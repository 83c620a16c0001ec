"""Conditional requests on one resource (docs/api.md §1.9): `ETag`, `If-None-Match` → 304, `If-Match` → 412.

A route of one resource (`GET`, `PATCH`, `PUT`, `DELETE /carriers/{id}` …) declares
`response_class=ConditionalResponse`, and its writes take the `conditions` dependency:

    @get("/{id:int}", opt=requires("carriers.read"), response_class=ConditionalResponse)
    @patch("/{id:int}", opt=requires("carriers.update"), response_class=ConditionalResponse)
    async def update_carrier(self, carrier_service: Service, conditions: Conditions, ...) -> CarrierOut:
        return carrier_out(await carrier_service.update(id, values, conditions.precondition(carrier_out)))

The entity tag is strong and derived from the representation itself: the BLAKE2b-128 digest of the `data` JSON a
GET of the resource answers (what the app's encoder writes), in quotes. Any change to what a client would read
(a field, `updatedAt`, a related name) changes it; no column or schema stands behind it, and every process
computes the same tag for the same state. A write's response carries the tag of the resource as it now is.

`If-None-Match` is decided after the handler ran, so the access guard and the handler's own checks (owner or
permission) have answered first: a caller without the permission gets 403, never a 304. `If-Match` is checked by
the service after it loaded the row under its write lock (`kernel.contracts.preconditions`), so the check and
the write are one step: no other writer can change the row in between.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from litestar import Request, Response
from litestar.di import NamedDependency, Provide
from litestar.response.base import ASGIResponse
from litestar.serialization import encode_json

from kernel.contracts.errors import PreconditionFailed
from kernel.contracts.preconditions import Precondition
from kernel.http.envelope import EnvelopedResponse

T = TypeVar("T")

ETAG = "ETag"
IF_MATCH = "if-match"
IF_NONE_MATCH = "if-none-match"
ANY = "*"
REPRESENTATION_STATE_KEY = "conditional_representation"
"""Request state: the payload the response's ETag names when the body is another one (`Conditions.tag_as`)."""


def entity_tag(data: Any) -> str:
    """The strong entity tag of a representation: its JSON (as the app encodes it) digested, in quotes."""
    return '"' + hashlib.blake2b(encode_json(data), digest_size=16).hexdigest() + '"'


def _listed_tags(header: str) -> list[str]:
    """The entity tags of an `If-Match` / `If-None-Match` value (`"a", W/"b"` or `*`), as written."""
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def _header(request: Request[Any, Any, Any], name: str) -> str | None:
    values = request.headers.getall(name, [])
    return ", ".join(values) if values else None


def none_match(header: str | None, current: str) -> bool:
    """Whether `If-None-Match` names the current representation (weak comparison, RFC 9110 §13.1.2)."""
    if header is None:
        return False
    tags = _listed_tags(header)
    return ANY in tags or current.removeprefix("W/") in {tag.removeprefix("W/") for tag in tags}


def matches(header: str, current: str) -> bool:
    """Whether `If-Match` names the current representation (strong comparison, RFC 9110 §13.1.1); `*` matches
    any representation, and the resource exists when this is asked."""
    tags = _listed_tags(header)
    return ANY in tags or current in tags


class Conditions:
    """The preconditions a request to one resource sent, for the handler to hand to its service."""

    def __init__(self, request: Request[Any, Any, Any]) -> None:
        self.request = request
        self.if_match = _header(request, IF_MATCH)

    def precondition(self, represent: Callable[[T], Any]) -> Precondition[T] | None:
        """What the service must find before it writes: the current state, represented by `represent` (the
        GET's payload; a coroutine function when it needs to read more), matching `If-Match`. None when the
        request sent no `If-Match`: the write goes on as always."""
        header = self.if_match
        if header is None:
            return None

        async def holds(current: T) -> None:
            if ANY in _listed_tags(header):
                return
            representation = represent(current)
            if inspect.isawaitable(representation):
                representation = await representation
            if not matches(header, entity_tag(representation)):
                raise PreconditionFailed()

        return holds

    def tag_as(self, representation: Any) -> None:
        """The response's ETag names `representation` (what a GET now answers), not the body sent: for writes
        whose response is another shape than the resource's GET."""
        self.request.state[REPRESENTATION_STATE_KEY] = representation


def conditions_of(request: Request[Any, Any, Any]) -> Conditions:
    return Conditions(request)


CONDITIONS = "conditions"
CONDITIONS_DEPENDENCY = {CONDITIONS: Provide(conditions_of, sync_to_thread=False)}
"""For the `dependencies` of a controller whose routes take `conditions: ConditionsDependency`."""
ConditionsDependency = NamedDependency[Conditions]


class ConditionalResponse(EnvelopedResponse):
    """The response class of a single resource's routes: a success with a body carries the `ETag` of the
    resource; a GET whose `If-None-Match` names it is answered 304 with the tag and no body."""

    def to_asgi_response(self, app: Any, request: Request[Any, Any, Any], **kwargs: Any) -> ASGIResponse:
        status = self.status_code or kwargs.get("status_code") or 200
        if 200 <= status < 300 and status != 204:
            tag = entity_tag(request.state.get(REPRESENTATION_STATE_KEY, self.content))
            self.headers[ETAG] = tag
            if request.method == "GET" and none_match(_header(request, IF_NONE_MATCH), tag):
                self.status_code = 304
                self.content = b""
                return Response.to_asgi_response(self, app, request, **kwargs)
        return super().to_asgi_response(app, request, **kwargs)
