"""Structured logs: one JSON object per line (or a readable console line with the same fields as
`key=value`), every record carrying the request's correlation ID."""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from kernel.correlation import current_correlation_id

_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
# Never let these reach a log line, even if a caller passes them in `extra`.
_REDACTED_KEYS = frozenset({"password", "password_hash", "token", "access_token", "refresh_token", "secret"})
# Fields other libraries attach that are no information of their own: uvicorn's `color_message` is its
# message again with ANSI colour codes.
_DROPPED_KEYS = frozenset({"correlation_id", "color_message"})


class CorrelationFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = current_correlation_id()
        return True


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The record's own structured fields (what the caller passed in `extra`), secrets redacted."""
    fields: dict[str, Any] = {}
    for key, value in record.__dict__.items():
        if key in _STANDARD_ATTRS or key in _DROPPED_KEYS or key.startswith("_"):
            continue
        fields[key] = "[redacted]" if key.lower() in _REDACTED_KEYS else value
    return fields


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "correlationId": getattr(record, "correlation_id", None),
        }
        entry.update(record_fields(record))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


_BARE_VALUE = re.compile(r"[^\s\"'=\\\x00-\x1f\x7f-\x9f]+")  # no spaces, quotes or control characters


def console_value(value: Any) -> str:
    """`value` as a person reads it after `key=`: bare when unambiguous, else quoted like JSON."""
    if isinstance(value, str):
        return value if _BARE_VALUE.fullmatch(value) else json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool) or value is None or isinstance(value, int | float):
        return json.dumps(value)
    return json.dumps(value, default=str, ensure_ascii=False)


class ConsoleFormatter(logging.Formatter):
    """`time LEVEL logger [correlation id] message key=value …`, then the traceback, if any."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s [%(correlation_id)s] %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging.Formatter's name
        line = super().formatMessage(record)
        fields = record_fields(record)
        if not fields:
            return line
        return line + " " + " ".join(f"{key}={console_value(value)}" for key, value in fields.items())


HANDLER_NAME = "freightdesk"
"""Marks the handler this module installs, so configuring again replaces it instead of adding one."""


def configure_logging(level: str = "INFO", json_lines: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else ConsoleFormatter())
    handler.addFilter(CorrelationFilter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == HANDLER_NAME:
            root.removeHandler(existing)
    handler.set_name(HANDLER_NAME)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("uvicorn.access", "aiosqlite", "asyncmy"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
