"""Keyset paging: the page after a row, found by the row's sort key and id rather than by rows to skip.

A page by `OFFSET` reads every row before it and throws them away, so its cost grows with its depth, and a row
inserted ahead of it between two requests shifts the next page by one (a row is shown twice). The page after a
known row starts reading at that row in the index that serves the order, whatever its depth, and rows inserted
meanwhile ahead of it do not move it. What a list needs for that, whatever its table:

- `after_row(sort_column, id_column, descending, key, row_id)`: "comes after the row (key, row_id)" in the order
  `sort_column, id_column`, both ascending or both descending (docs/api.md §2: ties broken by the id in the same
  direction), with NULL sort keys where MariaDB/MySQL and SQLite put them: first in ascending order, last in
  descending. Written `sort <= key AND (sort < key OR id < row_id)` (descending), so that the index range
  starts at the key.
- `Cursor` and `CursorCodec`: the opaque token a page hands out for the page after it. It holds the position
  (rows before the next page), the last row's sort key and id, and a fingerprint of the query it belongs to
  (sort, direction, search, filters: `query_fingerprint`), so it is refused with another query. It is signed
  (BLAKE2b, keyed), so a token that was altered or made up is refused (`BadCursor`) rather than read; the key
  comes from a secret every process of the deployment shares, so a cursor from one process works in another.

Lists keep their `page`/`limit` paging (`kernel.db.pages`); a list that offers cursors adds them alongside.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.types import TypeDecorator

CURSOR_VERSION = 1
MAX_CURSOR_LENGTH = 512
MAX_POSITION = 10**12
_DIGEST_SIZE = 16

Key = int | str | bool | datetime | None
"""A sort key as a cursor holds it."""


class BadCursor(ValueError):
    """A token that is not a cursor this codec issued for this query: malformed, altered, made up, of another
    list or another query."""


class Cursor(msgspec.Struct, frozen=True, array_like=True):
    """Where the page after a page starts: after the row (`key`, `row_id`), `position` rows into the list of
    the query `query` (a `query_fingerprint`)."""

    query: str
    position: int
    key: Key
    row_id: int

    def for_query(self, query: str, key_type: type[Any]) -> Cursor:
        """This cursor, its key as a `key_type` (None stays None), if it belongs to `query`; else `BadCursor`."""
        if self.query != query:
            raise BadCursor("a cursor of another query")
        return msgspec.structs.replace(self, key=_typed_key(self.key, key_type))


class _Wire(msgspec.Struct, frozen=True, array_like=True):
    version: int
    query: str
    position: int
    key: int | str | bool | None
    row_id: int


def query_fingerprint(*parts: object) -> str:
    """A short digest of what a list query is (sort, direction, search, filters), to bind cursors to it."""
    text = msgspec.json.encode([_plain(part) for part in parts])
    return hashlib.blake2b(text, digest_size=8).hexdigest()


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value


class CursorCodec:
    """Encodes and checks the cursors of one list, signed with a key derived from `secret` and the list's name."""

    def __init__(self, secret: str, purpose: str) -> None:
        self._key = hashlib.blake2b(f"{purpose}\0{secret}".encode(), digest_size=32, person=b"freightdesk.cur").digest()

    def encode(self, cursor: Cursor) -> str:
        key = cursor.key.astimezone(UTC).isoformat() if isinstance(cursor.key, datetime) else cursor.key
        payload = msgspec.json.encode(_Wire(CURSOR_VERSION, cursor.query, cursor.position, key, cursor.row_id))
        token = self._sign(payload) + payload
        return base64.urlsafe_b64encode(token).rstrip(b"=").decode("ascii")

    def decode(self, token: str) -> Cursor:
        """The cursor `token` holds, if this codec issued it; its key as it travels (a time as ISO 8601 text):
        `Cursor.for_query` checks it against the query and types the key. `BadCursor` otherwise."""
        if not token or len(token) > MAX_CURSOR_LENGTH or not token.isascii():
            raise BadCursor("not a cursor")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError) as exc:
            raise BadCursor("not a cursor") from exc
        digest, payload = raw[:_DIGEST_SIZE], raw[_DIGEST_SIZE:]
        if len(digest) != _DIGEST_SIZE or not hmac.compare_digest(digest, self._sign(payload)):
            raise BadCursor("not a cursor this list issued")
        try:
            wire = msgspec.json.decode(payload, type=_Wire)
        except msgspec.DecodeError as exc:
            raise BadCursor("not a cursor") from exc
        if wire.version != CURSOR_VERSION or not 0 <= wire.position <= MAX_POSITION or wire.row_id < 1:
            raise BadCursor("not a cursor")
        return Cursor(query=wire.query, position=wire.position, key=wire.key, row_id=wire.row_id)

    def _sign(self, payload: bytes) -> bytes:
        return hashlib.blake2b(payload, key=self._key, digest_size=_DIGEST_SIZE).digest()


def _typed_key(key: Key, key_type: type[Any]) -> Key:
    if key is None:
        return None
    if key_type is datetime:
        if isinstance(key, datetime):
            return key
        if not isinstance(key, str):
            raise BadCursor("not a cursor")
        try:
            moment = datetime.fromisoformat(key)
        except ValueError as exc:
            raise BadCursor("not a cursor") from exc
        if moment.tzinfo is None:
            raise BadCursor("not a cursor")
        return moment.astimezone(UTC)
    if key_type is bool:
        if not isinstance(key, bool):
            raise BadCursor("not a cursor")
        return key
    if key_type is int:
        if isinstance(key, bool) or not isinstance(key, int):
            raise BadCursor("not a cursor")
        return key
    if key_type is not str or not isinstance(key, str):
        raise BadCursor("not a cursor")
    return key


def key_type_of(column: InstrumentedAttribute[Any]) -> type[Any]:
    """The Python type of a sort column's values, which its cursors' keys are decoded into."""
    column_type = column.type
    if isinstance(column_type, TypeDecorator):  # UTCDateTime: the type it stores as says what comes back
        column_type = column_type.impl_instance
    python_type: type[Any] = column_type.python_type
    return python_type


def after_row(
    sort_column: InstrumentedAttribute[Any],
    id_column: InstrumentedAttribute[Any],
    descending: bool,
    key: Key,
    row_id: int,
) -> ColumnElement[bool]:
    """The rows after (`key`, `row_id`) in the order `sort_column, id_column`, both `descending` or both not;
    NULL keys (only a nullable column has them) come first ascending and last descending."""
    if sort_column is id_column:
        return id_column < row_id if descending else id_column > row_id
    nullable = bool(sort_column.property.columns[0].nullable)
    if key is None:
        ties = and_(sort_column.is_(None), id_column < row_id if descending else id_column > row_id)
        return ties if descending else or_(ties, sort_column.is_not(None))
    if descending:
        after = and_(sort_column <= key, or_(sort_column < key, id_column < row_id))
        return or_(after, sort_column.is_(None)) if nullable else after
    return and_(sort_column >= key, or_(sort_column > key, id_column > row_id))
