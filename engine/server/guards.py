"""What keeps web pages the user did not choose away from the engine (plain ASGI middleware).

- ``HostGuard``: only ``Host`` names of this engine are served (``host_names``); others get 421.
- ``OriginGuard``: a request that changes something (POST, PUT, PATCH, DELETE) from a page of
  another origin is refused (``Origin``, ``Sec-Fetch-Site``), unless the user listed that origin
  for CORS. A body must be JSON, which a foreign page cannot send without a CORS preflight. A POST
  with no Content-Type at all is still taken from programs (no ``Origin``) and from the engine's
  own page, as A1111 clients send ``/interrupt`` and ``/skip`` that way; a listed site must send JSON.
- CORS headers only for the origins the user listed (``--cors-allow-origins`` / Settings).

``install`` wires these, the body-size limit, the login check and the incident catcher in order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from engine.server.asgi_reply import header, send_error, shown
from engine.server.host_names import HostPolicy, policy_for

if TYPE_CHECKING:
    from fastapi import FastAPI

    from engine.cli import EngineConfig

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BROWSER_SITES_OK = frozenset({"same-origin", "none"})
DEFAULT_PORTS = {"http": "80", "https": "443"}
MAX_REMEMBERED = 64  # Host values answered without parsing again (only good ones are kept)


class HostGuard:
    """Answers 421 to requests whose ``Host`` does not name this engine."""

    def __init__(self, app: ASGIApp, policy: HostPolicy) -> None:
        self.app = app
        self.policy = policy
        self._served: set[tuple[str, int | None]] = set()  # (Host, port) pairs already found good

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        host = header(scope, b"host")
        port = (scope.get("server") or (None, None))[1]
        if (host, port) in self._served or self._allows(host, port):
            await self.app(scope, receive, send)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
        else:
            await send_error(send, 421, "unknown-host", f"Host: {shown(host)} is not a name of this engine",
                             "Open the engine as http://127.0.0.1:PORT, or add the name to the allowed "
                             "host names in Settings (with --listen).", "Host")


    def _allows(self, host: str | None, port: int | None) -> bool:
        allowed = self.policy.allows(host, port)
        if allowed and host is not None and len(self._served) < MAX_REMEMBERED:
            self._served.add((host, port))
        return allowed


def _netloc(scheme: str, netloc: str) -> str:
    """``host[:port]`` lower case, without the scheme's default port."""
    text = netloc.lower()
    default = DEFAULT_PORTS.get(scheme)
    return text[: -len(default) - 1] if default and text.endswith(f":{default}") else text


def same_origin(origin: str, host: str | None) -> bool:
    """True when the page at ``origin`` is this engine's own page (the same host and port)."""
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    if not host or parts.scheme not in DEFAULT_PORTS or not parts.netloc:
        return False
    return _netloc(parts.scheme, parts.netloc) == _netloc(parts.scheme, host)


def is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class OriginGuard:
    """Refuses state-changing requests from foreign pages, and ones that are not JSON."""

    def __init__(self, app: ASGIApp, listed: frozenset[str]) -> None:
        self.app = app
        self.listed = listed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE_METHODS:
            await self.app(scope, receive, send)
            return
        refusal = self.refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
        else:
            await send_error(send, *refusal)

    def refusal(self, scope: Scope) -> tuple[int, str, str, str, str] | None:
        origin, site = header(scope, b"origin"), header(scope, b"sec-fetch-site")
        listed = origin is not None and origin.lower().rstrip("/") in self.listed
        own = origin is not None and same_origin(origin, header(scope, b"host"))
        hint = "Only the engine's own page, programs, and sites listed for CORS in Settings may change things."
        if origin is not None and not (own or listed):
            return 403, "foreign-origin", f"Origin: {shown(origin)} may not use this engine", hint, "Origin"
        if site is not None and site.lower() not in BROWSER_SITES_OK and not (own or listed):
            return 403, "foreign-origin", f"Sec-Fetch-Site: {shown(site)} requests may not use this engine", hint, "Sec-Fetch-Site"
        content_type = header(scope, b"content-type")
        if content_type is None and not listed:
            return None
        if content_type is None or not is_json(content_type):
            return (415, "not-json", f"Content-Type: {shown(content_type)}; this engine takes application/json",
                    "Send the body as JSON with Content-Type: application/json.", "Content-Type")
        return None


def install(app: FastAPI, config: EngineConfig) -> None:
    """Add the guards; the last one added runs first: Host, CORS, Origin, login, body size, incidents."""
    from starlette.middleware.cors import CORSMiddleware

    from engine.server.incidents import IncidentMiddleware
    from engine.server.limits import MAX_BODY_BYTES, BodyLimit

    app.add_middleware(IncidentMiddleware)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    pair = config.auth_pair
    if pair:
        from engine.server.auth import BasicAuthMiddleware
        from engine.server.login_throttle import LoginThrottle

        app.add_middleware(BasicAuthMiddleware, user=pair[0], password=pair[1], throttle=LoginThrottle())
    origins = frozenset(config.cors_allow_origins)
    app.add_middleware(OriginGuard, listed=origins)
    if origins:
        app.add_middleware(CORSMiddleware, allow_origins=sorted(origins), allow_methods=["*"], allow_headers=["*"],
                           allow_credentials=True, allow_private_network=True)
    app.add_middleware(HostGuard, policy=policy_for(config))
