"""Integer path parameters are ASCII digits as written.

Litestar converts `{id:int}` with Python's `int()`, which also takes other scripts' digits (fullwidth, Arabic-Indic) and
surrounding spaces ("%201"): the same record would answer at many addresses. Such a path is treated like any
other non-number there ("abc"): no route, 404.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from litestar import Request
from litestar.exceptions import NotFoundException

# A sign stays (-1 is a number out of bounds: 400); leading zeros would be one more spelling of the same id.
_ASCII_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")


def check_integer_path_segments(request: Request[Any, Any, Any]) -> None:
    params = request.scope.get("path_params") or {}
    if not any(isinstance(value, int) and not isinstance(value, bool) for value in params.values()):
        return
    template = request.scope.get("path_template") or ""
    template_segments = template.split("/")
    raw_segments = request.scope["path"].split("/")
    if len(template_segments) != len(raw_segments):
        return
    for pattern, raw in zip(template_segments, raw_segments, strict=True):
        if pattern.startswith("{") and pattern.endswith("}"):
            name = pattern[1:-1].split(":")[0]
            if isinstance(params.get(name), int) and not _ASCII_INTEGER.fullmatch(unquote(raw)):
                raise NotFoundException()
