"""A job nobody waits for does not keep the only worker: when the HTTP client goes away, its job is
cancelled while it is queued, or interrupted (within one step) while it runs."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from engine.errors import EngineError

if TYPE_CHECKING:
    from fastapi import Request

    from engine.server.worker import JobFn, Worker

log = logging.getLogger(__name__)


class ClientGoneError(EngineError):
    """The client closed its connection before its job finished (nginx's 499; nobody reads it)."""

    code = "client-gone"
    status = 499


async def _disconnected(request: Request) -> None:
    """Returns once the client has closed the connection (the body has been read before this)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


async def call(request: Request, worker: Worker, name: str, fn: JobFn, job_count: int = 1) -> Any:
    """Run ``fn`` on the worker and wait for it, unless the client leaves first."""
    future = worker.submit(name, fn, job_count)
    result = asyncio.wrap_future(future)
    result.add_done_callback(_retrieve)
    gone = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({result, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
    if not result.done():
        what = worker.abandon(future)
        log.info("The client of a %s request went away; its job was %s.", name, what)
        raise ClientGoneError(f"The client went away; the job was {what}")
    return result.result()


def _retrieve(done: asyncio.Future[Any]) -> None:
    """Mark an abandoned job's outcome as seen, so asyncio does not warn about it."""
    if not done.cancelled():
        done.exception()
