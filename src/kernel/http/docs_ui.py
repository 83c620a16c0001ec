"""The interactive docs at /api/docs: Swagger UI served by Freightdesk itself, so the page works with no network
(docs/api.md §10).

The Swagger UI files come from the `swagger-ui-py` package (its `static` folder, a build of swagger-ui-dist;
nothing else of the package is imported). The page, its start script and those files are all served from
`/api/docs`, and the Content-Security-Policy of every docs response lets the browser load nothing from
anywhere else: a page that tried a CDN would show broken, not quietly phone out.
"""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from pathlib import Path
from typing import Any

from litestar import Request, Response, Router, get
from litestar.datastructures import CacheControlHeader, ResponseHeader
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.params import FromPath

from kernel.http.access import PUBLIC
from kernel.http.envelope import RAW_BODY

DOCS_PATH = "/api/docs"
ASSETS = "/assets"
START_SCRIPT = "freightdesk-docs.js"

SWAGGER_UI_FILES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "index.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}
"""The files of the Swagger UI build the page uses; no other file of the package is served."""

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        # Swagger UI sets style attributes and its CSS embeds its icons as data: URLs.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",  # the document, and "Try it out" against this server
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)


class SwaggerUIMissing(RuntimeError):
    """The swagger-ui-py package (a dependency) is not installed."""


@cache
def swagger_ui_directory() -> Path:
    spec = importlib.util.find_spec("swagger_ui")  # located, not imported: its __init__ pulls in Jinja and YAML
    if spec is None or not spec.submodule_search_locations:
        raise SwaggerUIMissing("the swagger-ui-py package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


@cache
def _asset(name: str) -> bytes:
    return (swagger_ui_directory() / name).read_bytes()


def page(title: str, docs_path: str = DOCS_PATH) -> bytes:
    assets = f"{docs_path}{ASSETS}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" type="image/png" sizes="32x32" href="{assets}/favicon-32x32.png">
<link rel="icon" type="image/png" sizes="16x16" href="{assets}/favicon-16x16.png">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="stylesheet" href="{assets}/index.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/{START_SCRIPT}"></script>
</body>
</html>
""".encode()


def start_script(docs_path: str = DOCS_PATH) -> bytes:
    options = {
        "url": f"{docs_path}/openapi.json",
        "dom_id": "#swagger-ui",
        "deepLinking": True,
        "displayOperationId": True,
        "defaultModelsExpandDepth": 0,
        "persistAuthorization": False,
        "validatorUrl": None,  # no badge fetched from the public validator
    }
    return (
        "window.addEventListener('load', function () {\n"
        f"  window.ui = SwaggerUIBundle(Object.assign({json.dumps(options)}, "
        "{presets: [SwaggerUIBundle.presets.apis]}));\n"
        "});\n"
    ).encode()


class OfflineSwaggerUI(OpenAPIRenderPlugin):
    """Swagger UI at `/api/docs` (and `/api/docs/swagger`), its files at `/api/docs/assets/<name>`."""

    def __init__(self, docs_path: str = DOCS_PATH) -> None:
        super().__init__(path=["/", "/swagger"], favicon="", style="")
        self.docs_path = docs_path

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return page(str(openapi_schema["info"]["title"]), self.docs_path)

    def receive_router(self, router: Router) -> None:
        script = start_script(self.docs_path)

        @get(
            f"{ASSETS}/{{name:str}}",
            sync_to_thread=False,
            cache_control=CacheControlHeader(max_age=3600, public=True),
        )
        def docs_asset(name: FromPath[str]) -> Response[bytes]:
            if name == START_SCRIPT:
                return Response(script, media_type="text/javascript; charset=utf-8")
            if name not in SWAGGER_UI_FILES:
                raise NotFoundException()
            return Response(_asset(name), media_type=SWAGGER_UI_FILES[name])

        router.register(docs_asset)


def docs_router(path: str = DOCS_PATH) -> Router:
    """The router Litestar mounts the docs on: public, not enveloped, not in the document, CSP on every answer."""
    return Router(
        path=path,
        route_handlers=[],
        opt={**PUBLIC, RAW_BODY: True},
        include_in_schema=False,
        response_headers=[ResponseHeader(name="Content-Security-Policy", value=CONTENT_SECURITY_POLICY)],
    )
