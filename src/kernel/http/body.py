"""Request bodies are JSON as written: checked strictly against the route's schema before the handler runs.

Litestar converts bodies leniently (`"false"` becomes `false`, `"3"` becomes `3`), which hides client bugs and
breaks the contract that a wrong type is a 400. This `before_request` hook decodes the body with msgspec in
strict mode and hands what it decoded to Litestar as the request's JSON (its `ScopeState.json`), so a body is
decoded once: Litestar's conversion to the handler's type passes the converted value through. It turns every
failure into the v1 error shape: undecodable input (bytes that are
not UTF-8, lone surrogates, numbers out of range, nesting deep enough to exhaust the decoder's recursion) is
`Malformed JSON in request body`; a well-formed body that breaks the schema gets `fieldErrors` for each
bad field. Litestar's own checks (missing body, size limit) still apply afterwards.

A route may add its rules beyond the schema (`BODY_RULES` in its `opt`): when the schema rejects some fields,
those rules run on the fields that passed it, and their findings join the schema's in the same 400, so one
response reports every bad field (docs/api.md §1.4).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import msgspec
from litestar import Request
from litestar.utils.scope.state import ScopeState

from kernel.contracts.errors import ValidationFailed
from kernel.http.paths import check_integer_path_segments
from kernel.http.validation import collect_field_errors, decimal_strings, humanize, passing_fields

MALFORMED_JSON = "Malformed JSON in request body"

BodyRules = Callable[[Mapping[str, Any]], Awaitable[Mapping[str, Sequence[str]]]]
"""`rules(fields)`: the body's fields that passed the schema, by attribute name and converted (as the handler
would have received them) → the rule violations among them, keyed by request field name."""
BODY_RULES = "body_rules"
"""The `opt` key under which a route (or the router above it) names its `BodyRules`."""


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
        converted = msgspec.convert(raw, data_field.annotation, strict=True)
    except msgspec.ValidationError as exc:
        errors = collect_field_errors(raw, data_field.annotation) or {"body": [humanize(str(exc))]}
        await _add_rule_findings(request, errors, raw, data_field.annotation)
        raise ValidationFailed(errors) from None
    except RecursionError:
        raise malformed("is nested too deeply") from None
    if numbers_as_text := decimal_strings(raw, data_field.annotation):
        errors = {path: ["must be a number"] for path in numbers_as_text}
        await _add_rule_findings(request, errors, raw, data_field.annotation)
        raise ValidationFailed(errors)
    ScopeState.from_scope(request.scope).json = converted


async def _add_rule_findings(
    request: Request[Any, Any, Any], errors: dict[str, list[str]], raw: Any, annotation: Any
) -> None:
    """The route's own rules, run on the fields the schema let through (`BODY_RULES`), added to `errors`."""
    rules: BodyRules | None = request.route_handler.opt.get(BODY_RULES)
    if rules is None or not isinstance(raw, dict):
        return
    fields = passing_fields(raw, annotation, failed=errors)
    for field, messages in (await rules(fields)).items():
        known = errors.setdefault(field, [])
        known.extend(message for message in messages if message not in known)
