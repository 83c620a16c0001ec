"""Request bodies are JSON as written: checked strictly against the route's schema before the handler runs.

Litestar converts bodies leniently (`"false"` becomes `false`, `"3"` becomes `3`), which hides client bugs and
breaks the contract that a wrong type is a 400. This `before_request` hook decodes the body once more with
msgspec in strict mode and turns every failure into the v1 error shape: undecodable input (bytes that are
not UTF-8, lone surrogates, numbers out of range, nesting deep enough to exhaust the decoder's recursion) is
`Malformed JSON in request body`; a well-formed body that breaks the schema gets `fieldErrors` for each
bad field. Litestar's own checks (missing body, size limit) still apply afterwards.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request

from kernel.contracts.errors import ValidationFailed
from kernel.http.paths import check_integer_path_segments
from kernel.http.validation import collect_field_errors, decimal_strings, humanize

MALFORMED_JSON = "Malformed JSON in request body"


def malformed(reason: str = "is not valid JSON") -> ValidationFailed:
    return ValidationFailed({"body": [reason]}, MALFORMED_JSON)


async def check_request(request: Request[Any, Any, Any]) -> None:
    """The app's `before_request` hook: path ids as written, then the body."""
    check_integer_path_segments(request)
    await check_json_body(request)


async def check_json_body(request: Request[Any, Any, Any]) -> None:
    data_field = request.route_handler.parsed_data_field
    if data_field is None:
        return
    body = await request.body()
    if not body:
        return  # Litestar reports a missing body (or passes None to an optional one)
    if not body.strip():
        raise malformed("is blank")
    try:
        raw = msgspec.json.decode(body)
    except UnicodeDecodeError:  # msgspec's own error for bad UTF-8 inside a string; not a DecodeError
        raise malformed("is not valid UTF-8") from None
    except msgspec.DecodeError:
        raise malformed() from None
    except RecursionError:
        raise malformed("is nested too deeply") from None
    try:
        msgspec.convert(raw, data_field.annotation, strict=True)
    except msgspec.ValidationError as exc:
        errors = collect_field_errors(raw, data_field.annotation) or {"body": [humanize(str(exc))]}
        raise ValidationFailed(errors) from None
    except RecursionError:
        raise malformed("is nested too deeply") from None
    if numbers_as_text := decimal_strings(raw, data_field.annotation):
        raise ValidationFailed({path: ["must be a number"] for path in numbers_as_text})
