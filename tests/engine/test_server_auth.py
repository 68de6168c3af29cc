"""HTTP Basic auth middleware on a real ASGI app."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from engine.server.auth import BasicAuthMiddleware, credentials_ok


def _client() -> TestClient:
    app = FastAPI()

    @app.get("/x")
    def x() -> dict[str, int]:
        return {"ok": 1}

    app.add_middleware(BasicAuthMiddleware, user="ann", password="s:cret")
    return TestClient(app)


def test_requests_need_the_right_credentials() -> None:
    client = _client()
    missing = client.get("/x")
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Basic")
    assert client.get("/x", auth=("ann", "wrong")).status_code == 401
    assert client.get("/x", auth=("bob", "s:cret")).status_code == 401
    assert client.get("/x", auth=("ann", "s:cret")).json() == {"ok": 1}


def test_malformed_headers_are_refused() -> None:
    assert not credentials_ok("Basic !!!notbase64", "a", "b")
    assert not credentials_ok("Bearer abc", "a", "b")
    assert not credentials_ok("Basic YWJj", "abc", "")  # "abc" has no colon
