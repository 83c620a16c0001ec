"""Both log formats carry the record's own fields; neither carries uvicorn's ANSI `color_message`. The access
log writes what `FREIGHTDESK_ACCESS_LOG` asks for."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx

from bootstrap.app import create_app
from kernel.logging import ConsoleFormatter, CorrelationFilter, JsonFormatter
from kernel.settings import Settings
from tests.conftest import http_client, running

ANSI_MESSAGE = "Started server process [\x1b[36m%d\x1b[0m]"


@contextmanager
def captured(logger_name: str, formatter: logging.Formatter) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(CorrelationFilter())
    logger = logging.getLogger(logger_name)
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def test_console_lines_carry_the_fields_as_key_value() -> None:
    with captured("freightdesk.test", ConsoleFormatter()) as stream:
        logging.getLogger("freightdesk.test").warning(
            "database unavailable",
            extra={"path": "/api/v1/carriers", "status": 503, "durationMs": 1.5, "error": "TimeoutError: no answer"},
        )
    line = stream.getvalue().rstrip("\n")
    assert "\n" not in line
    assert line.endswith(
        'database unavailable path=/api/v1/carriers status=503 durationMs=1.5 error="TimeoutError: no answer"'
    )


def test_console_values_cannot_break_the_line_and_secrets_stay_out() -> None:
    with captured("freightdesk.test", ConsoleFormatter()) as stream:
        logging.getLogger("freightdesk.test").info(
            "x", extra={"note": "two\nlines\x1b[31m", "password": "hunter2", "tags": ["a", "b"], "none": None}
        )
    line = stream.getvalue().rstrip("\n")
    assert "\n" not in line
    assert "\x1b" not in line
    assert 'note="two\\nlines\\u001b[31m"' in line
    assert "password=[redacted]" in line
    assert "hunter2" not in line
    assert 'tags=["a", "b"]' in line
    assert "none=null" in line


def test_uvicorn_colour_message_is_dropped_from_both_formats() -> None:
    for formatter in (JsonFormatter(), ConsoleFormatter()):
        with captured("uvicorn.error", formatter) as stream:
            logging.getLogger("uvicorn.error").info(
                "Started server process [%d]", 42, extra={"color_message": ANSI_MESSAGE}
            )
        output = stream.getvalue()
        assert "color_message" not in output
        assert "\x1b" not in output
        assert "\\u001b" not in output
        assert "Started server process [42]" in output
        if isinstance(formatter, JsonFormatter):
            assert set(json.loads(output)) == {"ts", "level", "logger", "msg", "correlationId"}


@asynccontextmanager
async def serving(tmp_path: Path, access_log: str) -> AsyncIterator[httpx.AsyncClient]:
    environment = {"FREIGHTDESK_DATA_DIR": str(tmp_path), "FREIGHTDESK_ACCESS_LOG": access_log}
    app = create_app(Settings.from_mapping(environment), modules=["carrier"])
    async with running(app), http_client(app) as client:
        yield client


async def test_a_console_access_line_names_method_path_status_and_duration(tmp_path: Path) -> None:
    async with serving(tmp_path, "all") as client:
        with captured("freightdesk.access", ConsoleFormatter()) as stream:
            await client.get("/api/v1/health/live")
    line = stream.getvalue()
    assert " request method=GET path=/api/v1/health/live status=200 durationMs=" in line


async def test_by_default_only_failed_answers_are_logged(tmp_path: Path) -> None:
    async with serving(tmp_path, "errors") as client:
        with captured("freightdesk.access", JsonFormatter()) as stream:
            await client.get("/api/v1/health/live")
            await client.get("/api/v1/carriers/1")  # no token: 401
            await client.get("/api/v1/nothing-here")  # no route: 404
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(line["path"], line["status"]) for line in lines] == [
        ("/api/v1/carriers/1", 401),
        ("/api/v1/nothing-here", 404),
    ]
    assert all(line["correlationId"] for line in lines)


async def test_the_access_log_can_be_switched_off(tmp_path: Path) -> None:
    async with serving(tmp_path, "off") as client:
        with captured("freightdesk.access", JsonFormatter()) as stream:
            await client.get("/api/v1/nothing-here")
    assert stream.getvalue() == ""
