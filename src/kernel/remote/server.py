"""The server side: the internal routes through which other processes call the Protocols this process hosts.

For each hosted module and each Protocol it provides, one `POST /internal/v1/<module>/<Protocol>/<method>`
per method (kernel.remote.protocols), and `GET /internal/v1/hosted` for the health probes of the callers.
They are declared `SERVICE` (a service token, kernel.remote.tokens), stay out of the OpenAPI document and
answer without the success envelope: the body of a 200 is the return value itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from litestar import MediaType, Request, Response, Router, get, post
from litestar.handlers import HTTPRouteHandler

from kernel.contracts.errors import DomainError
from kernel.http.access import SERVICE
from kernel.http.envelope import error_body
from kernel.http.errors import handle_domain_error
from kernel.remote.protocols import HOSTED_PATH, INTERNAL_PREFIX, MethodSpec, error_types, protocol_methods

Provided = Mapping[str, Mapping[type[Any], object]]
"""Hosted module → Protocol → its in-process implementation."""


def _json(content: bytes, status: int = 200) -> Response[bytes]:
    return Response(content=content, status_code=status, media_type=MediaType.JSON)


def domain_error_response(request: Request[Any, Any, Any], error: DomainError) -> Response[Any]:
    """The error as the public API answers it (status, error shape, `Retry-After`), plus its `errorTypes`."""
    public = handle_domain_error(request, error)
    body = {**public.content, "errorTypes": error_types(error)}
    return Response(body, status_code=public.status_code, media_type=MediaType.JSON, headers=dict(public.headers))


def _call_route(spec: MethodSpec, implementation: object) -> HTTPRouteHandler:
    method = getattr(implementation, spec.name)

    async def call(request: Request[Any, Any, Any]) -> Response[Any]:
        try:
            arguments = spec.decode_call(await request.body())
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            message = f"the arguments do not match {spec.label}: {exc}"
            return Response(error_body(request, 400, message), status_code=400, media_type=MediaType.JSON)
        try:
            result = await method(**arguments)
        except DomainError as error:
            return domain_error_response(request, error)
        return _json(spec.encode_result(result))

    call.__name__ = f"internal_{spec.module}_{spec.protocol.__name__}_{spec.name}"
    return post(spec.path, opt=SERVICE, include_in_schema=False, status_code=200)(call)


def _hosted_route(provided: Provided) -> HTTPRouteHandler:
    document = msgspec.json.encode(
        {
            "modules": list(provided),
            "protocols": {module: [p.__name__ for p in protocols] for module, protocols in provided.items()},
        }
    )

    async def hosted() -> Response[bytes]:
        return _json(document)

    return get(HOSTED_PATH, opt=SERVICE, include_in_schema=False)(hosted)


def internal_router(provided: Provided) -> Router:
    """Every internal route of this process, under `INTERNAL_PREFIX`."""
    handlers = [_hosted_route(provided)]
    for module, protocols in provided.items():
        for protocol, implementation in protocols.items():
            handlers.extend(_call_route(spec, implementation) for spec in protocol_methods(module, protocol))
    return Router(path=INTERNAL_PREFIX, route_handlers=handlers, include_in_schema=False)
