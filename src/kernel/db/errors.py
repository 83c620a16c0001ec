"""Which database errors are an outage (retry later) or a database not migrated yet, rather than a bug."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError

# MySQL/MariaDB: can't connect, server gone, lost connection (a read timeout too), lock wait timeout, deadlock,
# too many connections, statement time limit exceeded (MariaDB 1969, MySQL 3024).
_TRANSIENT_MYSQL_CODES = {1040, 1205, 1213, 1969, 2002, 2003, 2006, 2013, 3024}
# MySQL/MariaDB: lock wait timeout, deadlock (the transaction was rolled back; the connection is fine).
_LOCK_CONFLICT_MYSQL_CODES = {1205, 1213}
# MySQL/MariaDB: table doesn't exist.
_MISSING_TABLE_MYSQL_CODES = {1146}


def is_transient_database_error(exc: Exception) -> bool:
    """A database that is down, unreachable, overloaded or briefly locked: worth a retry, not a bug."""
    if isinstance(exc, SQLAlchemyTimeoutError):  # no pooled connection became free in time
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    code = exc.orig.args[0] if exc.orig is not None and exc.orig.args else None
    if isinstance(code, int) and code in _TRANSIENT_MYSQL_CODES:
        return True
    text = str(exc.orig).lower() if exc.orig is not None else ""
    return isinstance(exc, OperationalError) and ("database is locked" in text or "unable to open" in text)


def is_lock_conflict(exc: BaseException) -> bool:
    """A deadlock or lock wait timeout on MySQL/MariaDB: the statement's transaction was rolled back, and running
    it again on the same connection is how InnoDB asks to be answered."""
    if not isinstance(exc, DBAPIError) or exc.orig is None or not exc.orig.args:
        return False
    code = exc.orig.args[0]
    return isinstance(code, int) and code in _LOCK_CONFLICT_MYSQL_CODES


def is_missing_table_error(exc: BaseException) -> bool:
    """A table the code needs does not exist: the database was never migrated (`freightdesk db upgrade`)."""
    if not isinstance(exc, DBAPIError):
        return False
    code = exc.orig.args[0] if exc.orig is not None and exc.orig.args else None
    if isinstance(code, int) and code in _MISSING_TABLE_MYSQL_CODES:
        return True
    return isinstance(exc, OperationalError) and "no such table" in str(exc.orig).lower()


def database_error_text(exc: BaseException) -> str:
    """The driver's own one-line message (`no such table: x`), without SQLAlchemy's statement and links."""
    orig = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    return f"{type(orig).__name__}: {orig}".splitlines()[0][:500]
