"""The FastAPI application and the uvicorn server that runs it on the pre-bound socket."""

from __future__ import annotations

import logging
import socket
import threading
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError

from engine.server.json_body import SafeJSONResponse as JSONResponse
from engine.version import engine_version
from installer.errors import MapleError

if TYPE_CHECKING:
    import uvicorn

    from engine.server.service import EngineService

log = logging.getLogger(__name__)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    out = ""
    for p in parts:
        out += f"[{p}]" if p.isdigit() else (f".{p}" if out else p)
    return out or "request"


def _validation_message(exc: RequestValidationError) -> str:
    messages = []
    for err in exc.errors():
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        messages.append(f"{_field(err.get('loc', ()))}: {msg}")
    return "; ".join(messages)


def _first_field(exc: RequestValidationError) -> str | None:
    """The request field the first validation error names (None when it names none)."""
    errors = exc.errors()
    name = _field(errors[0].get("loc", ())) if errors else "request"
    return None if name == "request" else name


async def _on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    body = {"error": "bad-request", "detail": _validation_message(exc), "hint": "", "field": _first_field(exc),
            "errors": _plain(exc.errors())}
    return JSONResponse(body, status_code=422)


def _plain(errors: Any) -> list[dict[str, Any]]:
    return [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))} for e in errors]


async def _on_maple_error(request: Request, exc: Exception) -> JSONResponse:
    """Any of Maple's errors: its own JSON body and HTTP status (both data on the error)."""
    assert isinstance(exc, MapleError)
    return JSONResponse(exc.to_dict(), status_code=exc.status)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    """Generic answer with a log reference (``incidents``); routes' own errors end in IncidentMiddleware."""
    from engine.server.incidents import internal_error

    error = internal_error(exc, f"{request.method} {request.url.path}")
    return JSONResponse(error.to_dict(), status_code=error.status)


def create_app(service: EngineService) -> FastAPI:
    from engine.server import (
        a1111_extra,
        api,
        controlnet_api,
        docs,
        extras_api,
        guards,
        maple_api,
        prompt_routes,
        static,
    )

    local_docs = docs.assets_dir()  # Swagger UI served by the engine; FastAPI's CDN pages only without it
    app = FastAPI(title="Maple engine", version=engine_version(), description="AUTOMATIC1111-compatible API and Maple's own endpoints.",
                  docs_url=None if local_docs else "/docs", redoc_url=None if local_docs else "/redoc")
    docs.install(app, local_docs)
    app.state.service = service
    app.add_exception_handler(RequestValidationError, _on_validation)  # type: ignore[arg-type]
    app.add_exception_handler(MapleError, _on_maple_error)
    app.add_exception_handler(Exception, _on_unexpected)
    app.include_router(api.router)
    app.include_router(maple_api.router)
    app.include_router(prompt_routes.sdapi)
    app.include_router(prompt_routes.maple)
    app.include_router(extras_api.router)  # Extras and the upscaler lists
    app.include_router(a1111_extra.router)  # the rest of A1111's routes (flags, empty lists, unload ...)
    app.include_router(controlnet_api.router)  # the ControlNet extension's /controlnet/ routes
    static.install(app, service)
    guards.install(app, service.config)  # Host, CORS, Origin, login, body size, incidents
    return app


class ServerThread:
    """uvicorn serving ``app`` on an already bound socket, in a background thread."""

    def __init__(self, app: FastAPI, sock: socket.socket) -> None:
        import uvicorn

        config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", timeout_graceful_shutdown=2)
        self.server: uvicorn.Server = uvicorn.Server(config)
        self.sock = sock
        self.thread = threading.Thread(target=self._serve, name="maple-http", daemon=True)
        self.error: BaseException | None = None

    def _serve(self) -> None:
        try:
            self.server.run(sockets=[self.sock])
        except BaseException as exc:  # reported to the main thread, which exits
            self.error = exc
            log.exception("the HTTP server stopped")

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        if self.thread.is_alive():
            self.server.force_exit = True
            self.thread.join(1.0)
