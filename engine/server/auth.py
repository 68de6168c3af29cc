"""HTTP Basic auth for every request when ``--api-auth user:pass`` is given (a plain ASGI middleware)."""

from __future__ import annotations

import base64
import binascii
import hmac
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send


def credentials_ok(header: str, user: str, password: str) -> bool:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return False
    try:
        given = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    given_user, sep, given_password = given.partition(":")
    user_ok = hmac.compare_digest(given_user.encode(), user.encode())
    password_ok = hmac.compare_digest(given_password.encode(), password.encode())
    return bool(sep) and user_ok and password_ok


class BasicAuthMiddleware:
    def __init__(self, app: ASGIApp, user: str, password: str) -> None:
        self.app = app
        self.user = user
        self.password = password

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or self._allowed(scope):
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            await _refuse(send)

    def _allowed(self, scope: Scope) -> bool:
        headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
        for name, value in headers:
            if name == b"authorization":
                return credentials_ok(value.decode("latin-1"), self.user, self.password)
        return False


async def _refuse(send: Any) -> None:
    body = b'{"error":"unauthorized","detail":"Incorrect or missing credentials","hint":"Use the user:password given with --api-auth."}'
    await send({
        "type": "http.response.start",
        "status": 401,
        "headers": [
            (b"content-type", b"application/json"),
            (b"www-authenticate", b'Basic realm="Maple"'),
            (b"content-length", str(len(body)).encode()),
        ],
    })
    await send({"type": "http.response.body", "body": body})
