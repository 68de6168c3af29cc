"""HTTP Basic auth for every request when ``--api-auth user:pass`` is given (a plain ASGI middleware).

Wrong credentials go through ``LoginThrottle``: a request without any ``Authorization`` header
(a browser's first try, before it asks for the password) is not counted as a failure.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac

from starlette.types import ASGIApp, Receive, Scope, Send

from engine.server.asgi_reply import header, send_error
from engine.server.login_throttle import LoginThrottle


def credentials_ok(value: str, user: str, password: str) -> bool:
    """True when the ``Authorization`` header ``value`` carries exactly ``user`` and ``password``."""
    scheme, _, encoded = value.partition(" ")
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
    """Every request needs the credentials; wrong ones are slowed and then refused per client."""

    def __init__(self, app: ASGIApp, user: str, password: str, throttle: LoginThrottle | None = None) -> None:
        self.app = app
        self.user = user
        self.password = password
        self.throttle = throttle or LoginThrottle()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        client = str((scope.get("client") or ("unknown",))[0])
        locked = self.throttle.locked_for(client)
        if not locked and self._allowed(scope):
            self.throttle.succeeded(client)
            await self.app(scope, receive, send)
            return
        if not locked and header(scope, b"authorization") is not None:
            delay = self.throttle.failed(client)
            if delay:
                await asyncio.sleep(delay)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        elif locked:
            await _too_many(send, locked)
        else:
            await _refuse(send)

    def _allowed(self, scope: Scope) -> bool:
        given = header(scope, b"authorization")
        return given is not None and credentials_ok(given, self.user, self.password)


async def _refuse(send: Send) -> None:
    await send_error(send, 401, "unauthorized", "Incorrect or missing credentials",
                     "Use the user:password given with --api-auth.", "Authorization",
                     [(b"www-authenticate", b'Basic realm="Maple"')])


async def _too_many(send: Send, seconds: float) -> None:
    wait = max(int(seconds + 0.999), 1)
    await send_error(send, 429, "too-many-logins", f"Authorization: too many wrong logins from this address; "
                     f"try again in {wait} s", "Check the user:password given with --api-auth.", "Authorization",
                     [(b"retry-after", str(wait).encode())])
