"""The OpenAPI 3.1 document served at /api/docs/openapi.json: what the API really sends and accepts
(docs/api.md §10).

Litestar walks the routes and gives the paths, parameters, tags and summaries. The rest is written here from
the facts the app already declares, so the document cannot say something the server does not do:

- bodies and payloads are described by msgspec, the library that decodes and encodes them (Litestar's own
  schemas type a `Decimal` as a string, drop the bounds of list items and leave request objects open);
- every success payload is wrapped in the success envelope, 204s have no body, errors have the error shape;
- the security of an operation is its access declaration (`kernel.http.access`): public ones say `[]`;
- query parameters parsed by hand get the types and bounds their parser enforces (`list_query`);
- operation ids are the handlers' names (`list_carriers`), path parameters are camelCase like every other
  wire name (`{userId}`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Annotated, Any

import msgspec
from litestar import Litestar, Request
from litestar.enums import MediaType
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.routes import HTTPRoute
from litestar.serialization import encode_json

from kernel.http.access import AUTHENTICATED_ONLY, access_of
from kernel.http.conditional import ConditionalResponse
from kernel.http.envelope import RAW_BODY
from kernel.http.list_query import QUERY_PARAMETER_SCHEMAS

DOCUMENT_STATE_KEY = "openapi_document"
REFS = "#/components/schemas/{name}"
BEARER = "bearerAuth"
METRICS_TOKEN = "metricsToken"  # noqa: S105 - the name of a security scheme
JSON = "application/json"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


Timestamp = Annotated[str, msgspec.Meta(extra_json_schema={"format": "date-time"})]
"""A time the server writes as text (`kernel.http.envelope.utc_timestamp`): ISO 8601 UTC with milliseconds."""


class ErrorBody(msgspec.Struct, kw_only=True, rename="camel"):
    """The body of every 4xx and 5xx response (docs/api.md §1.3)."""

    message: str
    status_code: int
    error: str
    """The HTTP reason phrase."""
    timestamp: Timestamp
    path: str
    """The request path as sent, with the query string."""
    field_errors: dict[str, list[str]] | msgspec.UnsetType = msgspec.UNSET
    """On validation failures only: messages by request field name (dotted for nested fields)."""


class JsonWebKey(msgspec.Struct, kw_only=True):
    """An Ed25519 public key (RFC 8037)."""

    kty: str
    crv: str
    x: str
    kid: str
    use: str
    alg: str


class JsonWebKeySet(msgspec.Struct, kw_only=True):
    """The keys that verify access tokens (RFC 7517), sent as is: not enveloped."""

    keys: list[JsonWebKey]


JWKS_PATH_SUFFIX = "/.well-known/jwks.json"

_ERROR_DESCRIPTIONS = {
    400: "Validation failed (`fieldErrors` names every bad field of the path, query or body) or malformed JSON",
    401: "Not signed in, or the credentials or token presented are not valid",
    403: "Not allowed: the token lacks the permission, or the action is disabled",
    404: "Not found",
    409: "Conflicts with existing data or a rule (e.g. the last administrator)",
    413: "Body over 1 MiB",
    422: "Well-formed but cannot be carried out (e.g. no pricing rule matches the shipment)",
    412: "`If-Match` names no current representation: the resource changed since it was read; nothing changed",
    429: "Too many failed password checks for this email; retry after `Retry-After` seconds",
    500: "Internal server error: a bug, never details (the log line carries the correlation ID)",
    503: "A database or the shared store is unavailable, or the server is busy; retry after `Retry-After`",
}
_RETRY_AFTER_STATUSES = {429, 503}
_SUCCESS_MESSAGES = (
    "`Created successfully` for 201 and any POST, `Updated successfully` for PUT and PATCH, "
    "`Deleted successfully` for DELETE, else `Success`"
)


EXTRA_ERROR_STATUSES = "error_statuses"
"""A route's `opt` key naming statuses it answers that its shape does not imply (`{"error_statuses": (422,)}`)."""


def error_statuses(handler: HTTPRouteHandler, path: str, has_input: bool, has_body: bool) -> list[int]:
    """The error statuses an operation can answer with, from what the route declares."""
    statuses = {500, 503}
    if has_input:
        statuses.add(400)
    public = access_of(handler) == "public"
    writes = bool(handler.http_methods & {"POST", "PUT", "PATCH", "DELETE"})
    if not public or writes:  # the public writes are the sign-in routes: credentials refused, registration off
        statuses |= {401, 403}
    if "{" in path or access_of(handler) == AUTHENTICATED_ONLY:
        statuses.add(404)  # the record the path names, or the caller's own (profile, account), may be gone
    if writes:
        statuses |= {409, 429}
    if has_body:
        statuses.add(413)
    if writes and is_conditional(handler):
        statuses.add(412)
    statuses |= set(handler.opt.get(EXTRA_ERROR_STATUSES, ()))
    return sorted(statuses)


def is_conditional(handler: HTTPRouteHandler) -> bool:
    """A route of one resource that answers with `ETag` and honours `If-None-Match` / `If-Match`."""
    response_class = handler.response_class
    return isinstance(response_class, type) and issubclass(response_class, ConditionalResponse)


_IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "An ETag this client holds (or `*`): answered 304 with no body when it is still current",
    "schema": {"type": "string"},
}
_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "The ETag the change is based on (or `*`): answered 412, changing nothing, when it is not "
    "current. Without it the write goes on as always",
    "schema": {"type": "string"},
}


# ---- the document


def served_document(app: Litestar) -> dict[str, Any]:
    """The finished document, built once per app on first use."""
    document: dict[str, Any] | None = app.state.get(DOCUMENT_STATE_KEY)
    if document is None:
        document = finish_document(app, app.openapi_schema.to_schema())
        app.state[DOCUMENT_STATE_KEY] = document
    return document


class OpenAPIDocumentPlugin(JsonRenderPlugin):
    """Serves the finished document (instead of Litestar's own) at `/openapi.json`."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return encode_json(served_document(request.app))


class UndocumentedPayload(RuntimeError):
    """A route whose success payload has no type the document can describe."""


def _operations(app: Litestar) -> dict[tuple[str, str], tuple[HTTPRouteHandler, str]]:
    """(Litestar's path key, lower-case method) → (handler, route path)."""
    found: dict[tuple[str, str], tuple[HTTPRouteHandler, str]] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                found[(route.path_format or "/", method.lower())] = (handler, route.path)
    return found


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _camel_path(path: str) -> str:
    return re.sub(r"\{([^}:]+)\}", lambda m: "{" + _camel(m[1]) + "}", path)


def _success_type(handler: HTTPRouteHandler) -> Any:
    declared = (handler.responses or {}).get(handler.status_code)
    if declared is not None and declared.data_container is not None:
        return declared.data_container
    return handler.parsed_fn_signature.return_type.annotation


class _Schemas:
    """Collects the body and payload types of every operation, then has msgspec describe them all at once."""

    def __init__(self) -> None:
        self.types: list[Any] = []

    def ref(self, tp: Any) -> int:
        self.types.append(tp)
        return len(self.types) - 1

    def generate(self) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        _check_unique_names(self.types)
        schemas, components = msgspec.json.schema_components(self.types, ref_template=REFS)
        _mark_datetimes(self.types, components)
        return [_numbers_for_decimals(s) for s in schemas], _numbers_for_decimals(components)


def _struct_types(types: list[Any]) -> Iterator[msgspec.inspect.StructType]:
    seen: set[type[Any]] = set()

    def walk(info: Any) -> Iterator[msgspec.inspect.StructType]:
        if isinstance(info, msgspec.inspect.StructType):
            if info.cls in seen:
                return
            seen.add(info.cls)
            yield info
            for field in info.fields:
                yield from walk(field.type)
        elif isinstance(info, msgspec.inspect.Metadata):
            yield from walk(info.type)
        elif isinstance(info, msgspec.inspect.UnionType):
            for member in info.types:
                yield from walk(member)
        elif isinstance(info, msgspec.inspect.DictType):
            yield from walk(info.key_type)
            yield from walk(info.value_type)
        elif isinstance(info, (msgspec.inspect.ListType, msgspec.inspect.VarTupleType, msgspec.inspect.SetType)):
            yield from walk(info.item_type)
        elif isinstance(info, msgspec.inspect.TupleType):
            for member in info.item_types:
                yield from walk(member)

    for info in msgspec.inspect.multi_type_info(types):
        yield from walk(info)


def _check_unique_names(types: list[Any]) -> None:
    by_name: dict[str, set[type[Any]]] = {}
    for info in _struct_types(types):
        by_name.setdefault(info.cls.__name__, set()).add(info.cls)
    clashes = sorted(name for name, classes in by_name.items() if len(classes) > 1)
    if clashes:
        raise UndocumentedPayload("two wire types share a name (rename one): " + ", ".join(clashes))


def _is_datetime(info: Any) -> bool:
    if isinstance(info, msgspec.inspect.Metadata):
        return _is_datetime(info.type)
    return isinstance(info, msgspec.inspect.DateTimeType)


def _mark_datetimes(types: list[Any], components: dict[str, Any]) -> None:
    """msgspec leaves out `format: date-time` unless a datetime is declared timezone-aware; the API's times are
    all UTC with `Z` (docs/api.md §1.1), so every datetime field says so."""
    for info in _struct_types(types):
        schema = components.get(info.cls.__name__)
        if schema is None:
            continue
        for field in info.fields:
            members = field.type.types if isinstance(field.type, msgspec.inspect.UnionType) else (field.type,)
            if not any(_is_datetime(m) for m in members):
                continue
            prop = schema["properties"][field.encode_name]
            for option in prop.get("anyOf", [prop]):
                if option.get("type") == "string" and "format" not in option:
                    option["format"] = "date-time"


def _numbers_for_decimals(schema: Any) -> Any:
    """A Decimal is a JSON number on this API's wire (a string is refused: `kernel.http.body`); msgspec describes
    it as a string because that is how it would encode one."""
    if isinstance(schema, dict):
        if schema.get("type") == "string" and schema.get("format") == "decimal":
            rest = {k: v for k, v in schema.items() if k not in {"type", "format"}}
            return {"type": "number", **rest}
        return {key: _numbers_for_decimals(value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_numbers_for_decimals(item) for item in schema]
    return schema


def _integral(schema: Any) -> Any:
    """Litestar writes integer bounds as floats (2147483647.0)."""
    if isinstance(schema, dict):
        return {
            key: int(value) if isinstance(value, float) and value.is_integer() else _integral(value)
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_integral(item) for item in schema]
    return schema


def _envelope_name(payload: dict[str, Any]) -> str:
    ref = payload.get("$ref")
    if isinstance(ref, str):
        return ref.rsplit("/", 1)[1] + "Envelope"
    items = payload.get("items")
    item_ref = items.get("$ref") if isinstance(items, dict) else None
    if payload.get("type") == "array" and isinstance(item_ref, str):
        return item_ref.rsplit("/", 1)[1] + "ListEnvelope"
    raise UndocumentedPayload(f"success payload is not a named type or a list of one: {payload}")


def _envelope(payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "description": "The success envelope (docs/api.md §1.2).",
        "properties": {
            "data": payload,
            "message": {"type": "string", "description": _SUCCESS_MESSAGES},
            "statusCode": {"type": "integer", "description": "The HTTP status"},
            "timestamp": {"type": "string", "format": "date-time"},
            "success": {"type": "boolean", "const": True},
        },
        "required": ["data", "message", "statusCode", "timestamp", "success"],
    }


def _parameters(
    parameters: list[dict[str, Any]], sort_keys: tuple[str, ...] | None, where: str
) -> list[dict[str, Any]]:
    finished = []
    for parameter in parameters:
        parameter = {k: v for k, v in parameter.items() if k not in {"deprecated", "allowEmptyValue", "allowReserved"}}
        if parameter["in"] == "path":
            parameter["name"] = _camel(parameter["name"])
        elif parameter["in"] == "query":
            schema = parameter["schema"]
            members = schema.get("oneOf", [])
            if members and {"type": "null"} in members:  # a query parameter is absent or a string, never null
                rest = [m for m in members if m != {"type": "null"}]
                schema = {**{k: v for k, v in schema.items() if k != "oneOf"}, **rest[0]} if len(rest) == 1 else schema
            if parameter["name"] in QUERY_PARAMETER_SCHEMAS:
                described = {"description": schema["description"]} if "description" in schema else {}
                schema = {**QUERY_PARAMETER_SCHEMAS[parameter["name"]], **described}
            if parameter["name"] == "sortBy":
                if not sort_keys:
                    raise UndocumentedPayload(f"{where} takes sortBy but its page type declares no sort_keys")
                schema = {**schema, "enum": list(sort_keys)}
            parameter["schema"] = schema
        finished.append(parameter)
    return finished


def _response(
    description: str, content: dict[str, Any] | None, retry_after: bool = False, etag: bool = False
) -> dict[str, Any]:
    headers: dict[str, Any] = {"X-Correlation-ID": {"$ref": "#/components/headers/CorrelationId"}}
    if retry_after:
        headers["Retry-After"] = {"$ref": "#/components/headers/RetryAfter"}
    if etag:
        headers["ETag"] = {"$ref": "#/components/headers/ETag"}
    response: dict[str, Any] = {"description": description, "headers": headers}
    if content is not None:
        response["content"] = content
    return response


def _security(handler: HTTPRouteHandler) -> list[dict[str, list[str]]]:
    access = access_of(handler)
    if access == "public":
        return []
    if handler.opt.get(RAW_BODY) and handler.media_type != MediaType.JSON:  # /metrics: a scraper's static token
        return [{METRICS_TOKEN: []}, {BEARER: []}]
    return [{BEARER: []}]


def finish_document(app: Litestar, generated: dict[str, Any]) -> dict[str, Any]:
    """Litestar's document (`generated`) made into the one the API serves."""
    document = copy.deepcopy(generated)
    operations = _operations(app)
    schemas = _Schemas()
    pending: list[tuple[dict[str, Any], str, Any]] = []  # (where a schema goes, its key, index in schemas)
    envelopes: list[tuple[dict[str, Any], int]] = []
    operation_ids: dict[str, str] = {}
    paths: dict[str, Any] = {}

    for path, item in document["paths"].items():
        finished_item: dict[str, Any] = {k: v for k, v in item.items() if k not in HTTP_METHODS}
        for method in HTTP_METHODS:
            if method not in item:
                continue
            operation = item[method]
            handler, route_path = operations[(path, method)]
            where = f"{method.upper()} {path}"
            if handler.handler_name in operation_ids:
                raise UndocumentedPayload(
                    f"operation id {handler.handler_name} of {where} is also {operation_ids[handler.handler_name]}"
                )
            operation_ids[handler.handler_name] = where
            operation["operationId"] = handler.handler_name
            operation["security"] = _security(handler)
            payload = _success_type(handler)
            sort_keys = getattr(payload, "sort_keys", None)
            operation["parameters"] = _parameters(operation.get("parameters", []), sort_keys, where)
            if not operation["parameters"]:
                del operation["parameters"]

            data_field = handler.parsed_data_field
            operation.pop("requestBody", None)
            if data_field is not None:
                body: dict[str, Any] = {"required": not (data_field.is_optional or data_field.has_default)}
                body["content"] = {JSON: {}}
                pending.append((body["content"][JSON], "schema", schemas.ref(data_field.annotation)))
                operation["requestBody"] = body

            responses: dict[str, Any] = {}
            status = handler.status_code
            success_description = operation["responses"].get(str(status), {}).get("description", "Success")
            if status == 204 or payload is None or payload is type(None):
                responses[str(status)] = _response(success_description, None)
            elif handler.opt.get(RAW_BODY):
                if handler.media_type != MediaType.JSON:
                    media = str(handler.media_type)
                    responses[str(status)] = _response(success_description, {media: {"schema": {"type": "string"}}})
                else:
                    raw_type = JsonWebKeySet if route_path.endswith(JWKS_PATH_SUFFIX) else payload
                    content: dict[str, Any] = {JSON: {}}
                    pending.append((content[JSON], "schema", schemas.ref(raw_type)))
                    responses[str(status)] = _response(success_description, content)
            else:
                content = {JSON: {}}
                envelopes.append((content[JSON], schemas.ref(payload)))
                responses[str(status)] = _response(success_description, content, etag=is_conditional(handler))

            has_input = "parameters" in operation or data_field is not None
            if is_conditional(handler):
                header = _IF_NONE_MATCH if method == "get" else _IF_MATCH
                operation.setdefault("parameters", []).append(dict(header))
                if method == "get":
                    responses["304"] = _response(
                        "Not modified: `If-None-Match` names the current ETag", None, etag=True
                    )
            declared = handler.responses or {}
            for code in error_statuses(handler, path, has_input, data_field is not None):
                spec = declared.get(code)
                content = {JSON: {}}
                pending.append((content[JSON], "schema", schemas.ref(spec.data_container if spec else ErrorBody)))
                description = spec.description if spec and spec.description else _ERROR_DESCRIPTIONS[code]
                responses[str(code)] = _response(description, content, code in _RETRY_AFTER_STATUSES)
            operation["responses"] = responses
            finished_item[method] = operation
        paths[_camel_path(path)] = finished_item

    generated_schemas, components = schemas.generate()
    for target, key, index in pending:
        target[key] = generated_schemas[index]
    for target, index in envelopes:
        payload_schema = generated_schemas[index]
        name = _envelope_name(payload_schema)
        components.setdefault(name, {"title": name, **_envelope(payload_schema)})
        target["schema"] = {"$ref": REFS.format(name=name)}

    document["paths"] = paths
    document["components"] = {
        "schemas": dict(sorted(components.items())),
        "securitySchemes": {
            BEARER: {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "An access token from POST /api/v1/auth/login (docs/api.md §3.1)",
            },
            METRICS_TOKEN: {
                "type": "http",
                "scheme": "bearer",
                "description": "The static FREIGHTDESK_METRICS_TOKEN of a scraper (good for /metrics only)",
            },
        },
        "headers": {
            "CorrelationId": {
                "description": "The request's X-Correlation-ID if 1-128 printable ASCII characters, else a new UUID",
                "schema": {"type": "string"},
            },
            "RetryAfter": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}},
            "ETag": {
                "description": "The resource's current entity tag (strong; docs/api.md §1.9), for If-None-Match and "
                "If-Match",
                "schema": {"type": "string"},
            },
        },
    }
    finished: dict[str, Any] = _integral(document)
    return finished
