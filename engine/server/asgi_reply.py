"""JSON error answers sent straight from ASGI middleware, before a request reaches FastAPI.

The body has the engine's error shape, ``{"error", "detail", "hint", "field"}``; headers are read
from the raw ASGI scope the same way everywhere.
"""

from __future__ import annotations

import json

from starlette.types import Scope, Send


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of header ``name`` (lower case bytes), decoded as latin-1; None if absent."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def shown(value: str | None, limit: int = 80) -> str:
    """A client-sent value safe to repeat in a message: quoted, escaped and cut short."""
    if value is None:
        return "(none)"
    text = value if len(value) <= limit else value[:limit] + "..."
    return ascii(text)


async def send_error(send: Send, status: int, code: str, detail: str, hint: str = "", field: str = "",
                     headers: list[tuple[bytes, bytes]] | None = None) -> None:
    """Answer with ``status`` and the engine's JSON error body."""
    body = json.dumps({"error": code, "detail": detail, "hint": hint, "field": field}).encode("ascii")
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                    *(headers or [])],
    })
    await send({"type": "http.response.body", "body": body})
