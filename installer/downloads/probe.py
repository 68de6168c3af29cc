"""Opening a (range) request and judging the reply before a byte of it reaches the disk."""

from __future__ import annotations

import re
from dataclasses import dataclass

import requests

from installer.downloads.errors import BadContentError, SourceFailedError
from installer.downloads.http import RetryPolicy, auth_headers, check_status
from installer.downloads.network import NetworkSettings

_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HTML_START = (b"<!doctype", b"<html", b"<?xml", b"<head", b"<body")
_LFS_START = b"version https://git-lfs"


@dataclass(frozen=True)
class Reply:
    """What a reply says about the bytes it carries."""

    status: int
    start: int
    total: int | None
    length: int | None
    etag: str | None
    last_modified: str | None
    published_sha256: str | None
    published_size: int | None
    accepts_ranges: bool


def open_request(
    session: requests.Session,
    url: str,
    net: NetworkSettings,
    policy: RetryPolicy,
    start: int = 0,
    end: int | None = None,
    validator: str | None = None,
    ranged: bool = False,
) -> requests.Response:
    """GET ``url`` from byte ``start`` (to ``end`` inclusive) with If-Range; 429/5xx raise RetryableHTTP."""
    headers = auth_headers(url, net)
    if ranged or start or end is not None:
        headers["Range"] = f"bytes={start}-{'' if end is None else end}"
        if validator:
            headers["If-Range"] = validator
    resp = session.get(url, headers=headers, stream=True, timeout=policy.timeout)
    check_status(resp)
    if resp.status_code in (401, 403):
        resp.close()
        raise SourceFailedError(f"{url} refused the download (HTTP {resp.status_code})", "This file needs a login: add your Hugging Face or Civitai token in the settings.")
    if resp.status_code not in (200, 206, 416):
        resp.close()
        raise SourceFailedError(f"{url} answered HTTP {resp.status_code}")
    if resp.status_code != 416 and resp.headers.get("Content-Type", "").lower().startswith(("text/html", "application/xhtml")):
        resp.close()
        raise BadContentError(f"{url} sent a web page instead of the model file")
    return resp


def _published(resp: requests.Response) -> tuple[str | None, int | None]:
    """Hugging Face's X-Linked-Etag (the LFS sha256) and X-Linked-Size, on the reply or a redirect."""
    for r in [*resp.history, resp]:
        etag = r.headers.get("X-Linked-Etag", "").strip('"').removeprefix("W/").strip('"').lower()
        if _HEX64.match(etag):
            size = r.headers.get("X-Linked-Size", "")
            return etag, int(size) if size.isdigit() else None
    return None, None


def describe(resp: requests.Response) -> Reply:
    h = resp.headers
    length = int(h["Content-Length"]) if h.get("Content-Length", "").isdigit() else None
    start, total = 0, length
    if resp.status_code == 206:
        m = _CONTENT_RANGE.match(h.get("Content-Range", ""))
        if not m:
            raise SourceFailedError(f"{resp.url} sent a partial reply without a usable Content-Range")
        start, total = int(m.group(1)), (int(m.group(3)) if m.group(3) != "*" else None)
    sha, size = _published(resp)
    ranges = resp.status_code == 206 or h.get("Accept-Ranges", "").lower() == "bytes"
    return Reply(resp.status_code, start, total, length, h.get("ETag"), h.get("Last-Modified"), sha, size, ranges)


def sniff(first: bytes, url: str) -> None:
    """Refuse a body that is an HTML page or a git-LFS pointer, whatever its Content-Type said."""
    head = first[:512].lstrip().lower()
    if head.startswith(_HTML_START):
        raise BadContentError(f"{url} sent a web page instead of the model file")
    if head.startswith(_LFS_START):
        raise BadContentError(f"{url} sent a git-LFS pointer (a small text file) instead of the model file", "The link points at the repository's pointer, not the file: use a 'resolve' link.")
