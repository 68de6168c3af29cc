"""JSON answers that survive any text: a lone surrogate (``"\\ud800"`` sent by a client and echoed
in a message) cannot be UTF-8, so such a body is written with ASCII escapes instead of failing."""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import JSONResponse


class SafeJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")
