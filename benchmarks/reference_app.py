"""The reference that `suite.py` measures Freightdesk against: a bare Litestar app with one route.

`GET /` answers `{"status": "ok"}`: no middleware, no database, Litestar's defaults, the locked version. The
suite serves it as

    .venv/bin/python -m uvicorn reference_app:app --app-dir benchmarks --loop uvloop --http httptools \\
        --workers 1 --no-access-log --log-level warning --host 127.0.0.1 --port <free port>

so its throughput is what the server stack itself allows on this machine, and Freightdesk's routes are given
as a ratio to it.
"""

from __future__ import annotations

from litestar import Litestar, get


@get("/")
async def status() -> dict[str, str]:
    return {"status": "ok"}


app = Litestar(route_handlers=[status])
