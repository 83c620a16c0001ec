"""Each module declares its own DeclarativeBase (own registry and MetaData):

    class CarrierBase(DeclarativeBase):
        metadata = module_metadata("carrier")

A shared registry breaks as soon as two modules define a class with the same name, and a shared MetaData
would let one module's migrations see another module's tables.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec
from sqlalchemy import JSON, DateTime, Integer, MetaData, String
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utc_now() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out; microseconds kept on MariaDB (`DATETIME(6)`)."""

    impl = DateTime(timezone=False).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def module_metadata(module: str) -> MetaData:
    """The MetaData of one module's base: our naming convention, tagged with the module's name."""
    return MetaData(naming_convention=NAMING_CONVENTION, info={"module": module})


def module_of(base: type[DeclarativeBase]) -> str:
    module = base.metadata.info.get("module")
    if not isinstance(module, str):
        raise TypeError(f"{base.__name__}.metadata must come from module_metadata(<module name>)")
    return module


def module_base(module: str) -> type[DeclarativeBase]:
    """The same, built at run time (for tools and tests that need a throwaway module)."""
    attrs: dict[str, Any] = {"metadata": module_metadata(module), "__module__": __name__}
    return type(f"{module.title()}Base", (DeclarativeBase,), attrs)


class IntPrimaryKey:
    """An AUTO_INCREMENT integer id (ids are ints on the wire, for compatibility)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)


class Timestamps:
    """`created_at`/`updated_at`, aware UTC, set by the ORM."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, onupdate=utc_now, nullable=False)


def lookup_key(length: int) -> String:
    """The column type of a lower-cased copy of a `length`-character name, unique to compare names ignoring
    case. Twice as long, because lower-casing can lengthen a string ("İ" becomes "i̇"), and compared byte for
    byte on MySQL/MariaDB, whose default collation would call "Café" and "Cafe" (or two emoji) the same."""
    return String(2 * length).with_variant(mysql.VARCHAR(2 * length, collation="utf8mb4_bin"), "mysql", "mariadb")


StructT = TypeVar("StructT", bound=msgspec.Struct)


class StructJSON(TypeDecorator[StructT]):
    """A JSON column holding one typed msgspec Struct: the document is parsed into the Struct here, once, for
    every reader (ORM and Core selects alike). Decimals are stored as exact strings."""

    impl = JSON
    cache_ok = True

    def __init__(self, struct: type[StructT]) -> None:
        super().__init__()
        self.struct = struct

    def process_bind_param(self, value: StructT | None, dialect: Dialect) -> Any:
        return None if value is None else msgspec.to_builtins(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> StructT | None:
        return None if value is None else msgspec.convert(value, self.struct, strict=False)
