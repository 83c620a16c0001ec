"""Wire types shared by request schemas: constraints plus the message a person sees when one is broken."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Generic, Self, TypeVar

import msgspec
from litestar.params import PathParameter
from typing_extensions import TypeIs

from kernel.paging import Page

T = TypeVar("T")

_EMAIL_LOCAL = r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+"
_DOMAIN_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
END = r"$(?!\n)"
r"""The end of the text, in Python and in ECMAScript alike (the OpenAPI document publishes these patterns, and
JSON Schema patterns are ECMAScript). Python's `$` also matches before a final newline, so "a@b.example\n"
would pass; `\Z` refuses it but ECMAScript has no `\Z`. `$` not followed by a newline is the end in both."""
# ASCII classes, not `\d`/`\s` (which take any script's digits and spaces).
EMAIL_PATTERN = rf"^{_EMAIL_LOCAL}@{_DOMAIN_LABEL}(?:\.{_DOMAIN_LABEL})+{END}"
_URL_REST = r"[^\x00-\x20\x7f]"
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_TLD = r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# A host name of letter-digit-hyphen labels (IDNs in their xn-- form), localhost or an IPv4 address; a port
# from 1 to 65535; no user info. Then anything printable after /, ? or #.
_URL_HOST = rf"(?:(?:{_DOMAIN_LABEL}\.)+{_TLD}|localhost|(?:{_OCTET}\.){{3}}{_OCTET})"
_URL_PORT = r"(?::(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?"
URL_PATTERN = rf"^https?://{_URL_HOST}{_URL_PORT}(?:[/?#]{_URL_REST}*)?{END}"
PHONE_PATTERN = rf"^(?=(?:[^0-9]*[0-9]){{10,15}}[^0-9]*{END})\+?[0-9 ()-]+{END}"
CURRENCY_PATTERN = rf"^[A-Z]{{3}}{END}"

Email = Annotated[
    str,
    msgspec.Meta(max_length=254, pattern=EMAIL_PATTERN, extra={"message": "must be a valid email address"}),
]
Url = Annotated[
    str, msgspec.Meta(max_length=2048, pattern=URL_PATTERN, extra={"message": "must be a valid http(s) URL"})
]
Phone = Annotated[
    str,
    msgspec.Meta(
        max_length=25,
        pattern=PHONE_PATTERN,
        extra={"message": "must be a phone number: + and digits, spaces, dashes or parentheses, 10-15 digits"},
    ),
]
CurrencyCode = Annotated[
    str,
    msgspec.Meta(pattern=CURRENCY_PATTERN, extra={"message": "must be an ISO 4217 currency code (e.g. USD)"}),
]

MAX_ID = 2_147_483_647
"""Ids are 32-bit AUTO_INCREMENT integers; anything outside 1..MAX_ID cannot name a row."""

ResourceId = Annotated[int, PathParameter(ge=1, le=MAX_ID, description="Numeric id (1-2147483647)")]


class RequestBody(msgspec.Struct, kw_only=True, rename="camel", forbid_unknown_fields=True):
    """Base of every request body: camelCase on the wire, unknown fields rejected."""


class ResponseBody(msgspec.Struct, kw_only=True, rename="camel"):
    """Base of every response payload."""


class PageOut(ResponseBody, Generic[T]):
    """One page of a list. A resource names its list key by declaring `items` again with a rename:

    class CarrierPage(PageOut[CarrierOut], rename={"items": "carriers"}):
        items: list[CarrierOut]
        sort_keys = tuple(SORT_FIELDS)
    """

    sort_keys: ClassVar[tuple[str, ...]] = ()
    """The `sortBy` values the list accepts: the OpenAPI document lists them as the parameter's enum."""

    items: list[T]
    total: int
    page: int
    limit: int
    total_pages: int

    @classmethod
    def of(cls, page: Page[Any], items: list[T]) -> Self:
        return cls(items=items, total=page.total, page=page.page, limit=page.limit, total_pages=page.total_pages)


class CountOut(ResponseBody):
    count: int


def present(value: T | msgspec.UnsetType) -> TypeIs[T]:
    """True when a PATCH field was sent (not UNSET); narrows the type for the checker."""
    return value is not msgspec.UNSET
