"""Hot read paths without an ORM session.

A primary-key read through an `AsyncSession` builds a session, an identity map and an instance with its
tracked state, only for the route to turn it into a wire struct and throw it away. For the few reads that
carry most of the traffic (one carrier by id), a module may instead run a Core select on a pooled
connection and shape the row directly: the same SQL, a third less CPU per request (benchmarks/README.md).
Writes keep the session, the unit of work and the outbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Label, Row, Select, inspect
from sqlalchemy.ext.asyncio import AsyncEngine


def attribute_columns(entity: type[Any]) -> list[Label[Any]]:
    """Every mapped column of `entity`, labelled with its attribute name (not its column name), so a Core
    row reads like the ORM object: `row.details` even where the column is called `metadata`."""
    return [getattr(entity, attribute.key).label(attribute.key) for attribute in inspect(entity).column_attrs]


async def read_one(
    engine: AsyncEngine, statement: Select[Any], parameters: Mapping[str, Any] | None = None
) -> Row[Any] | None:
    """The first row of a read-only select (with the values of its bound parameters), or None; the connection
    goes back to the pool at once."""
    async with engine.connect() as connection:
        row: Row[Any] | None = (await connection.execute(statement, parameters)).first()
        return row
