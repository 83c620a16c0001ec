"""Structured logs: one JSON object per line, every record carrying the request's correlation ID."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from kernel.correlation import current_correlation_id

_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
# Never let these reach a log line, even if a caller passes them in `extra`.
_REDACTED_KEYS = frozenset({"password", "password_hash", "token", "access_token", "refresh_token", "secret"})


class CorrelationFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = current_correlation_id()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "correlationId": getattr(record, "correlation_id", None),
        }
        for key, value in record.__dict__.items():
            if key in _STANDARD_ATTRS or key == "correlation_id" or key.startswith("_"):
                continue
            entry[key] = "[redacted]" if key.lower() in _REDACTED_KEYS else value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class ConsoleFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s [%(correlation_id)s] %(message)s")


def configure_logging(level: str = "INFO", json_lines: bool = True) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else ConsoleFormatter())
    handler.addFilter(CorrelationFilter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_freightdesk", False):
            root.removeHandler(existing)
    handler._freightdesk = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("uvicorn.access", "aiosqlite", "asyncmy"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
