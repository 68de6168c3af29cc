"""Adding a model by URL: Hugging Face file links, Civitai links, and any direct link."""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote, urlsplit, urlunsplit

import requests

from installer.downloads.civitai import resolve_civitai
from installer.downloads.errors import SourceFailedError, UnsupportedUrlError
from installer.downloads.http import (
    RetryPolicy,
    auth_headers,
    make_session,
    on_civitai,
    on_hugging_face,
)
from installer.downloads.names import sanitize_filename
from installer.downloads.network import NetworkLike, NetworkSettings, network_of
from installer.downloads.reach import ask
from installer.downloads.sources import MIRROR_HOST, order_sources
from installer.downloads.spec import DownloadSpec, folder_for
from installer.home import Home

log = logging.getLogger(__name__)

_HF_PATH = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/(?:resolve|blob)/(?P<rev>[^/]+)/(?P<file>.+)$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_EXT_NAME = re.compile(r"filename\*\s*=\s*([\w!#$%&+^`{}~-]*)'[^']*'([^;]+)", re.IGNORECASE)
_PLAIN_NAME = re.compile(r'filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]+))', re.IGNORECASE)


def guess_kind(name: str) -> str:
    low = name.lower()
    if "vae" in low:
        return "vae"
    if "lora" in low or "lcm" in low:
        return "lora"
    return "checkpoint"


def _head(url: str, net: NetworkSettings, follow: bool) -> requests.Response:
    with make_session(net) as session:
        resp = ask(session, "HEAD", url, net, headers=auth_headers(url, net), allow_redirects=follow, timeout=RetryPolicy().timeout)
    if resp.status_code >= 400:
        hint = "Add your token in the settings." if resp.status_code in (401, 403) else ""
        raise SourceFailedError(f"{url} answered HTTP {resp.status_code}", hint)
    return resp


def _hf_spec(url: str, home: Home, net: NetworkSettings, kind: str | None, sha256: str | None) -> DownloadSpec:
    parts = urlsplit(url)
    m = _HF_PATH.match(parts.path)
    if not m:
        raise UnsupportedUrlError(f"{url} is not a Hugging Face file link (…/<repo>/resolve/<revision>/<file>)")
    path = f"/{m['repo']}/resolve/{m['rev']}/{m['file']}"
    resolved = urlunsplit(parts._replace(path=path, query="", fragment=""))
    head = _head(resolved, net, follow=False).headers
    etag = head.get("X-Linked-Etag", "").strip('"').lower()
    size = head.get("X-Linked-Size") or head.get("Content-Length") or ""
    name = sanitize_filename(unquote(m["file"].rsplit("/", 1)[-1]))
    hf = urlunsplit(parts._replace(netloc="huggingface.co", path=path, query="", fragment="")) if parts.hostname == MIRROR_HOST else resolved
    mirror = urlunsplit(urlsplit(hf)._replace(netloc=MIRROR_HOST))
    sources = [("huggingface", hf), ("hf-mirror", mirror)] if hf != mirror else [("huggingface", hf)]
    kind = kind or guess_kind(name)
    return DownloadSpec(order_sources(sources, net), folder_for(home, kind), name, int(size) if size.isdigit() and etag else None,
                        sha256 or (etag if _HEX64.match(etag) else None), kind, extra={"url": url})


def _civitai_spec(url: str, home: Home, net: NetworkSettings, kind: str | None, sha256: str | None) -> DownloadSpec:
    info = resolve_civitai(url, net)
    kind = kind or info["kind"]
    return DownloadSpec([("civitai", info["url"])], folder_for(home, kind), sanitize_filename(info["name"]), None,
                        sha256 or info["sha256"], kind, base_model=info["base_model"],
                        extra={"url": url, "approx_size": info["approx_size"], "civitai_version": info["version_id"]})


def disposition_name(header: str) -> str | None:
    """The file name in a Content-Disposition header; ``filename*`` (RFC 5987) wins over ``filename``."""
    if m := _EXT_NAME.search(header):
        charset = m.group(1) or "utf-8"
        try:
            return unquote(m.group(2).strip().strip('"'), encoding=charset, errors="strict")
        except (LookupError, UnicodeDecodeError):
            pass
    if m := _PLAIN_NAME.search(header):
        return m.group(1) if m.group(1) is not None else m.group(2).strip()
    return None


def filename_from(resp: requests.Response, url: str) -> str:
    """The name from Content-Disposition, else the URL's last path segment."""
    name = disposition_name(resp.headers.get("Content-Disposition", ""))
    for candidate in (name, unquote(urlsplit(url).path.rsplit("/", 1)[-1]), unquote(urlsplit(resp.url).path.rsplit("/", 1)[-1])):
        if candidate and "." in candidate:
            return sanitize_filename(candidate)
    raise UnsupportedUrlError(f"Cannot tell the file name of {url}", "Use a link that ends with the file name.")


def _plain_spec(url: str, home: Home, net: NetworkSettings, kind: str | None, sha256: str | None) -> DownloadSpec:
    resp = _head(url, net, follow=True)
    name = filename_from(resp, url)
    length = resp.headers.get("Content-Length", "")
    kind = kind or guess_kind(name)
    size = int(length) if length.isdigit() and int(length) > 0 else None
    return DownloadSpec([("url", url)], folder_for(home, kind), name, size, sha256, kind, extra={"url": url})


def resolve_url(url: str, home: Home, settings: NetworkLike = None, kind: str | None = None, sha256: str | None = None) -> DownloadSpec:
    """A spec for a model given by its link; ``kind``/``sha256`` override what the link says."""
    net = network_of(settings)
    url = url.strip()
    if urlsplit(url).scheme not in ("http", "https"):
        raise UnsupportedUrlError(f"{url!r} is not an http(s) link")
    sha256 = sha256.strip().lower() if sha256 else None
    if sha256 and not _HEX64.match(sha256):
        raise UnsupportedUrlError(f"{sha256!r} is not a sha256 (64 hex digits)", "Copy the full SHA256 from the model's page.")
    if on_hugging_face(url):
        return _hf_spec(url, home, net, kind, sha256)
    if on_civitai(url):
        return _civitai_spec(url, home, net, kind, sha256)
    return _plain_spec(url, home, net, kind, sha256)
