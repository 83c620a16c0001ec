"""Every response the suite receives is checked against the served OpenAPI document, so the two cannot drift.

`http_client` (tests/conftest.py) hands each response to `check_response`: the status must be one the
operation documents, the media type one it lists, and the JSON body must validate against that response's
schema. A response to a path the document does not know must be a 404 or 405 in the error shape.

The schemas are checked *closed*: an object that lists its properties may carry no others, so a field the
server sends but the document leaves out fails as surely as a documented field the server leaves out. The
served document itself keeps response objects open (a client should tolerate a field added later).

Validators are compiled once per (operation, status) for the whole session.
"""

from __future__ import annotations

import copy
import json
import re
import time
from functools import cached_property
from typing import Any

import httpx
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOCUMENT_URI = "urn:freightdesk:openapi"
UNDOCUMENTED_PREFIXES = ("/api/docs", "/internal/")
"""The docs pages and their assets, and split mode's internal routes (for other processes, with a service token):
served, but not operations of the API."""
UNMATCHED_STATUSES = {404, 405}
METHODS_NOT_CHECKED = {"OPTIONS", "HEAD"}
"""Answered by Litestar and the CORS middleware for every route, never by an operation."""


class ContractViolation(AssertionError):
    pass


def closed(schema: Any) -> Any:
    """A copy in which every object schema that lists properties forbids the others."""
    if isinstance(schema, dict):
        copied = {key: closed(value) for key, value in schema.items()}
        if "properties" in copied and "additionalProperties" not in copied:
            copied["additionalProperties"] = False
        return copied
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    return schema


def _pointer(*parts: str) -> str:
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def _media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


class Contract:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = copy.deepcopy(document)
        checked = {**self.document, "components": closed(self.document.get("components", {}))}
        resource: Resource[Any] = Resource.from_contents(checked, default_specification=DRAFT202012)
        self.registry: Registry[Any] = Registry().with_resource(DOCUMENT_URI, resource)
        self._validators: dict[tuple[str, str, str, str], Draft202012Validator] = {}
        self.checked = 0
        self.seconds = 0.0

    @cached_property
    def routes(self) -> list[tuple[re.Pattern[str], str]]:
        """Path templates as patterns, literal ones first (`/carriers/active` before `/carriers/{id}`)."""
        templates = sorted(self.document["paths"], key=lambda path: (path.count("{"), path))
        return [(re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(t)) + "$"), t) for t in templates]

    def template_for(self, path: str) -> str | None:
        path = path.rstrip("/") or "/"
        return next((template for pattern, template in self.routes if pattern.match(path)), None)

    def validator(self, template: str, method: str, status: str, media: str) -> Draft202012Validator:
        key = (template, method, status, media)
        if key not in self._validators:
            pointer = _pointer("paths", template, method, "responses", status, "content", media, "schema")
            self._validators[key] = Draft202012Validator(
                {"$ref": f"{DOCUMENT_URI}#{pointer}"},
                registry=self.registry,
                format_checker=Draft202012Validator.FORMAT_CHECKER,
            )
        return self._validators[key]

    def check(self, method: str, path: str, status: int, content_type: str | None, body: bytes) -> None:
        """Raise ContractViolation when the response is not one the document describes."""
        started = time.perf_counter()
        try:
            self._check(method, path, status, content_type, body)
        finally:
            self.seconds += time.perf_counter() - started

    def _check(self, method: str, path: str, status: int, content_type: str | None, body: bytes) -> None:
        if method in METHODS_NOT_CHECKED or path.startswith(UNDOCUMENTED_PREFIXES):
            return
        where = f"{method} {path} → {status}"
        template = self.template_for(path)
        operation = self.document["paths"].get(template, {}).get(method.lower()) if template else None
        if operation is None:
            if status not in UNMATCHED_STATUSES:
                raise ContractViolation(f"{where}: no documented operation answers this request")
            self._validate(where, self._error_validator(), body)
            return
        responses = operation["responses"]
        if str(status) not in responses:
            raise ContractViolation(
                f"{where}: status not documented for {operation['operationId']} (documented: {sorted(responses)})"
            )
        content = responses[str(status)].get("content")
        if not content:
            if body:
                raise ContractViolation(f"{where}: documented without a body, but one came: {body[:200]!r}")
            return
        media = _media_type(content_type)
        documented = {_media_type(m): m for m in content}
        if media not in documented:
            raise ContractViolation(f"{where}: media type {content_type!r} is not one of {sorted(content)}")
        if media != "application/json":
            return
        self._validate(where, self.validator(template or "", method.lower(), str(status), documented[media]), body)

    def _error_validator(self) -> Draft202012Validator:
        key = ("", "", "error", "")
        if key not in self._validators:
            self._validators[key] = Draft202012Validator(
                {"$ref": f"{DOCUMENT_URI}#/components/schemas/ErrorBody"},
                registry=self.registry,
                format_checker=Draft202012Validator.FORMAT_CHECKER,
            )
        return self._validators[key]

    def _validate(self, where: str, validator: Draft202012Validator, body: bytes) -> None:
        try:
            instance = json.loads(body)
        except ValueError as exc:
            raise ContractViolation(f"{where}: body is not JSON: {body[:200]!r}") from exc
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        if errors:
            raise ContractViolation(f"{where}: body does not match the document:\n" + _describe(errors))
        self.checked += 1


def _describe(errors: list[ValidationError]) -> str:
    lines = []
    for error in errors[:10]:
        at = "/".join(str(p) for p in error.absolute_path) or "(body)"
        lines.append(f"  at {at}: {error.message}")
    return "\n".join(lines)


_contract: Contract | None = None


def install(document: dict[str, Any]) -> Contract:
    global _contract
    _contract = Contract(document)
    return _contract


def installed() -> Contract | None:
    return _contract


def current() -> Contract:
    if _contract is None:
        raise RuntimeError("no OpenAPI contract installed (tests/conftest.py installs it for the session)")
    return _contract


async def check_response(response: httpx.Response) -> None:
    """The `http_client` response hook."""
    await response.aread()
    request = response.request
    current().check(
        request.method, request.url.path, response.status_code, response.headers.get("content-type"), response.content
    )
