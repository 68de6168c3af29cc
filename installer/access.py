"""Who may reach the engine: API credentials, the Host names it answers to, the sites granted CORS.

Pure text checks shared by the engine's command line, ``settings.json`` and the launcher's
settings form, so each place refuses the same values with the same words.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_HOST_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")
_IPV6 = re.compile(r"^[0-9a-f:.]+$")


def credential_problem(value: str) -> str | None:
    """Why ``user:password`` cannot be used as API credentials, or None when it can ("" = no login)."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user.strip():
        return "must look like user:password"
    if not password.strip():
        return "the password is empty; choose one (anyone who can reach the engine could log in without it)"
    return None


def normalize_host(value: str) -> str:
    """A Host name for the allow-list: lower case, IPv6 without brackets; ValueError if it is not one."""
    text = value.strip().lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text:
        if not _IPV6.match(text):
            raise ValueError(f"{value!r} is not a host name or address (leave the port out)")
        return text
    if not _HOST_NAME.match(text):
        raise ValueError(f"{value!r} is not a host name or address")
    return text


def normalize_origin(value: str) -> str:
    """A web origin ``scheme://host[:port]`` for CORS, lower case; ValueError for anything else."""
    text = value.strip().rstrip("/")
    if text == "*":
        raise ValueError("'*' would let every web site use the engine; list the sites by name instead")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{value!r} is not an origin like https://example.com") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query or parts.username:
        raise ValueError(f"{value!r} is not an origin like https://example.com (scheme and host, no path)")
    host = parts.hostname.lower()
    shown = f"[{host}]" if ":" in host else host
    default = 80 if parts.scheme == "http" else 443
    return f"{parts.scheme}://{shown}" + (f":{port}" if port and port != default else "")


def split_list(value: str | list[str] | tuple[str, ...]) -> list[str]:
    """``"a, b"`` or ``["a", "b"]`` -> ``["a", "b"]`` (empty items dropped)."""
    items = value.split(",") if isinstance(value, str) else list(value)
    return [item.strip() for item in items if item and item.strip()]
