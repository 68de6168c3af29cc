"""``/docs`` works offline: the page and every script, style and icon it names come from the engine."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest

from tests.engine.server_helpers import LOCAL_BASE, populated_engine

REFERENCE = re.compile(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']|(?:url|redocUrl)\s*:\s*["']([^"']+)["']""")


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    with populated_engine(tmp_path_factory, "docs") as eng:
        yield eng


def _references(html: str) -> list[str]:
    return [a or b for a, b in REFERENCE.findall(html)]


@pytest.mark.parametrize(("page", "wanted"), [
    ("/docs", {"swagger-ui-bundle.js", "swagger-ui.css", "favicon.png", "openapi.json"}),
    ("/redoc", {"redoc.standalone.js", "favicon.png", "openapi.json"}),
])
def test_docs_page_and_all_its_assets_come_from_the_engine(engine, page, wanted) -> None:
    r = engine.client.get(page)
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    refs = _references(r.text)
    assert wanted <= {ref.rsplit("/", 1)[-1] for ref in refs}, refs
    assert not [ref for ref in refs if "//" in ref], "no asset may come from another host"
    for ref in refs:
        asset = engine.client.get(urljoin(f"{LOCAL_BASE}{page}", ref))
        assert asset.status_code == 200 and len(asset.content) > 1000 or ref.endswith("openapi.json"), ref
    bundle = engine.client.get("/docs-static/swagger-ui-bundle.js").text
    assert "SwaggerUIBundle" in bundle and "isOAS31" in bundle  # Swagger UI 5: it reads FastAPI's 3.1 schema
    assert engine.client.get("/openapi.json").json()["openapi"].startswith("3.1")
    assert engine.client.get("/docs/oauth2-redirect").status_code == 200
