"""Size limits on what a request may ask for, each refused with a 4xx that names the field.

``BodyLimit`` (ASGI) refuses bodies over ``MAX_BODY_BYTES`` before they are read into memory;
``check_generation`` runs in the HTTP thread before a job is queued: prompt length and nesting,
text that is not Unicode characters (lone surrogates), the size of fields Maple does not use, and
the hires pass's target size, also when it comes through ``hr_resize_x/y``. Image counts and
pixels are checked where the images are read (``image_inputs``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.errors import BadRequestError
from engine.server import api_models as m
from engine.server.asgi_reply import header, send_error

MAX_BODY_BYTES = 32 * 1024 * 1024  # four 2048x2048 photos as base64 PNG, with room
MAX_PROMPT_CHARS = 20_000  # about 5,000 tokens: 60-odd chunks of 75
MAX_UNUSED_FIELD_CHARS = 64 * 1024  # fields Maple accepts for compatibility but does not use
MAX_IMAGE_PIXELS = 4096 * 4096  # one input image
MAX_REQUEST_PIXELS = 2 * MAX_IMAGE_PIXELS  # all input images of one request: eight 2048x2048 ones
MAX_HIRES_SCALE = 4.0  # hr_scale's own bound, also for a target size given by hr_resize_x/y
IMAGE_FIELDS = ("init_images", "mask")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BodyLimit:
    """Answers 413 to a body larger than ``max_bytes``; a chunked body is counted as it arrives."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:  # no route reads another's body
            await self.app(scope, receive, send)
            return
        length = header(scope, b"content-length")
        if length is not None:
            if not length.strip().isdigit():
                await send_error(send, 400, "bad-request", "Content-Length: not a number", "", "Content-Length")
            elif int(length) > self.max_bytes:
                await self._refuse(send, int(length))
            else:
                await self.app(scope, receive, send)
        elif header(scope, b"transfer-encoding") is not None:
            await self._chunked(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _chunked(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Read the whole body (up to the limit), then hand it on as one message."""
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            parts.append(message.get("body", b""))
            size += len(parts[-1])
            if size > self.max_bytes:
                await self._refuse(send, size)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(parts), receive), send)

    async def _refuse(self, send: Send, size: int) -> None:
        await send_error(send, 413, "too-large", f"body: {size} bytes; at most {self.max_bytes} bytes per request",
                         "Send smaller images or fewer of them.", "body")


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()  # what follows the body: the client's disconnect
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def surrogate_at(text: str) -> int | None:
    """Where ``text`` holds a lone UTF-16 surrogate (not a character, cannot be UTF-8), or None."""
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return exc.start
    return None


def check_text(value: str, field: str, max_chars: int | None = None) -> None:
    """Refuse text that is too long or is not made of Unicode characters."""
    if max_chars is not None and len(value) > max_chars:
        raise BadRequestError.about(field, f"{len(value)} characters; at most {max_chars}")
    where = surrogate_at(value)
    if where is not None:
        raise BadRequestError.about(field, f"character {where} is a lone surrogate (U+{ord(value[where]):04X}), "
                                    "which is not a Unicode character; send the text as UTF-8")


def check_prompt(value: str, field: str) -> None:
    from engine.prompts.parser import check_nesting

    check_text(value, field, MAX_PROMPT_CHARS)
    check_nesting(value, field)


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string in a JSON-like value (dict keys included) with its field path; no recursion."""
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            for key, inner in item.items():
                yield where, str(key)
                stack.append((f"{where}.{key}" if where else str(key), inner))
        elif isinstance(item, list | tuple):
            stack.extend((f"{where}[{i}]", inner) for i, inner in enumerate(item))


def check_all_text(data: dict[str, Any]) -> None:
    """Refuse a lone surrogate anywhere in ``data``, naming where; one pass in C when there is none."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
        return
    except (UnicodeEncodeError, RecursionError, ValueError, TypeError):
        pass  # find out where (or that it was something else, which the request models refuse)
    for where, text in _strings(data, ""):
        check_text(text, where or "request")


def check_unused_fields(req: m.GenerationRequest) -> None:
    """Fields outside Maple's model are kept for compatibility, but not megabytes of them."""
    total = 0
    for key, value in (req.model_extra or {}).items():
        total += len(key) + sum(len(text) + 1 for _, text in _strings(value, key))
        if total > MAX_UNUSED_FIELD_CHARS:
            raise BadRequestError.about(key, f"fields Maple does not use may hold at most {MAX_UNUSED_FIELD_CHARS} "
                                        "characters in all")


def check_hires(req: m.Txt2ImgRequest) -> None:
    if not req.enable_hr or (req.hr_resize_x <= 0 and req.hr_resize_y <= 0):
        return
    for field, target, side in (("hr_resize_x", req.hr_resize_x, req.width), ("hr_resize_y", req.hr_resize_y, req.height)):
        if target / side > MAX_HIRES_SCALE:
            raise BadRequestError.about(field, f"{target} is {target / side:.1f} times the first pass ({side}); "
                                        f"the hires pass scales at most {MAX_HIRES_SCALE:g} times, as hr_scale does")


def check_generation(req: m.GenerationRequest) -> None:
    """All of the above for a txt2img or img2img request; raises ``BadRequestError`` naming the field."""
    check_prompt(req.prompt, "prompt")
    check_prompt(req.negative_prompt, "negative_prompt")
    check_unused_fields(req)
    check_all_text(req.model_dump(exclude=set(IMAGE_FIELDS)))
    if isinstance(req, m.Txt2ImgRequest):
        check_hires(req)
