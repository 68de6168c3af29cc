"""Unexpected errors: a generic answer with a log reference, and one short traceback in the log.

The client learns only that something failed and under which reference (``E-1a2b3c4d``); the
exception's type, text and addresses stay in ``logs/engine.log``. A very deep stack (a runaway
recursion) is logged with its first and last frames only. ``IncidentMiddleware`` answers for any
exception a route lets escape, so the server does not log it a second time.
"""

from __future__ import annotations

import logging
import secrets
import traceback

from starlette.types import ASGIApp, Receive, Scope, Send

from engine.errors import InternalError
from engine.server.asgi_reply import send_error

log = logging.getLogger(__name__)

KEEP_FRAMES = 12  # at each end of a long stack
HINT = "The engine log (logs/engine.log) has the details under this reference; the engine keeps serving."


def new_reference() -> str:
    return f"E-{secrets.token_hex(4)}"


def short_traceback(exc: BaseException, keep: int = KEEP_FRAMES) -> str:
    """The formatted traceback, each stack in the chain cut to its first and last ``keep`` frames."""
    top = traceback.TracebackException.from_exception(exc)
    left_out = 0
    node: traceback.TracebackException | None = top
    seen: set[int] = set()
    while node is not None and id(node) not in seen:
        seen.add(id(node))
        if len(node.stack) > 2 * keep:
            left_out += len(node.stack) - 2 * keep
            node.stack = traceback.StackSummary.from_list([*node.stack[:keep], *node.stack[-keep:]])
        node = node.__cause__ or (None if node.__suppress_context__ else node.__context__)
    text = "".join(top.format())
    return text + (f"({left_out} frames of a deep stack left out)\n" if left_out else "")


def record(exc: BaseException, where: str) -> str:
    """Log ``exc`` once with a new reference; returns the reference."""
    reference = new_reference()
    log.error("Internal error %s in %s:\n%s", reference, where, short_traceback(exc).rstrip())
    return reference


def internal_error(exc: BaseException, where: str) -> InternalError:
    """The error a client gets for ``exc``: generic, with the reference its log entry has."""
    reference = record(exc, where)
    return InternalError(f"Internal error (log reference {reference})", HINT)


class IncidentMiddleware:
    """Turns an exception that escapes a route into a generic 500 with a log reference."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        except Exception as exc:  # the HTTP edge: nothing a request does may escape unlogged
            error = internal_error(exc, f"{scope.get('method', '')} {scope.get('path', '')}")
            try:
                await send_error(send, error.status, error.code, error.message, error.hint)
            except RuntimeError:  # the answer had started already: the server closes the connection
                log.debug("no error answer for %s: the response had started", scope.get("path", ""))
