"""/api/docs works with no network: the page and everything it loads are served by Freightdesk itself
(docs/api.md §10). scripts/docs-screenshot renders it in Chromium with the network cut off."""

from __future__ import annotations

import re

import httpx
import pytest

from kernel.http.docs_ui import CONTENT_SECURITY_POLICY, SWAGGER_UI_FILES

URL_ATTRIBUTE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


@pytest.mark.parametrize("page", ["/api/docs", "/api/docs/swagger"])
async def test_the_docs_page_loads_nothing_from_elsewhere(client: httpx.AsyncClient, page: str) -> None:
    client.headers.pop("Authorization", None)  # public
    response = await client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    html = response.text
    urls = URL_ATTRIBUTE.findall(html)
    assert len(urls) >= 4  # icons, stylesheets, scripts
    assert "//" not in html.replace("<!DOCTYPE html>", "")
    for url in urls:
        assert url.startswith("/api/docs/assets/"), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert asset.content, url
        assert "max-age=3600" in asset.headers["cache-control"]
    scripts = [u for u in urls if u.endswith(".js")]
    assert scripts == ["/api/docs/assets/swagger-ui-bundle.js", "/api/docs/assets/freightdesk-docs.js"]


async def test_the_start_script_points_at_the_local_document_and_no_validator(client: httpx.AsyncClient) -> None:
    script = (await client.get("/api/docs/assets/freightdesk-docs.js")).text
    assert '"url": "/api/docs/openapi.json"' in script
    assert '"validatorUrl": null' in script
    assert "http" not in script


async def test_the_policy_allows_this_server_only() -> None:
    for directive in CONTENT_SECURITY_POLICY.split("; "):
        sources = directive.split()[1:]
        assert all(s in {"'self'", "'none'", "'unsafe-inline'", "data:"} for s in sources), directive


async def test_swagger_ui_is_a_build_that_reads_openapi_3_1(client: httpx.AsyncClient) -> None:
    bundle = (await client.get("/api/docs/assets/swagger-ui-bundle.js")).text
    version = re.search(r'PACKAGE_VERSION:"(\d+)\.(\d+)\.(\d+)"', bundle)
    assert version is not None
    assert int(version[1]) >= 5  # OpenAPI 3.1 support starts with Swagger UI 5
    assert (await client.get("/api/docs/assets/swagger-ui.css")).headers["content-type"].startswith("text/css")


@pytest.mark.parametrize("name", ["swagger-editor-bundle.js", "..%2F__init__.py", "LICENSE"])
async def test_only_the_listed_files_are_served(client: httpx.AsyncClient, name: str) -> None:
    assert name not in SWAGGER_UI_FILES
    assert (await client.get(f"/api/docs/assets/{name}")).status_code == 404
