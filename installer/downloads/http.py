"""The HTTP side: sessions with proxies and tokens, and back-off retries that honour Retry-After."""

from __future__ import annotations

import email.utils
import http.client
import logging
import os
import random
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
import urllib3

from installer.downloads.network import NetworkSettings
from installer.version import maple_version

log = logging.getLogger(__name__)

HF_HOSTS = {"huggingface.co", "hf-mirror.com"}
CIVITAI_HOSTS = {"civitai.com", "civitai.green"}
HF_ENV = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
CIVITAI_ENV = ("CIVITAI_API_TOKEN", "CIVITAI_TOKEN")
RETRY_STATUS = {429, 500, 502, 503, 504, 520, 521, 522, 523, 524}


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts without progress, back-off range, and socket timeouts (seconds)."""

    attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 60.0
    connect_timeout: float = 10.0
    read_timeout: float = 30.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        backoff = self.base_delay * (2 ** max(attempt - 1, 0))
        return min(backoff, self.max_delay) * random.uniform(0.8, 1.2)

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)


class RetryableHTTP(Exception):
    """A reply worth retrying (5xx, 429); carries the server's Retry-After in seconds if any."""

    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


RETRYABLE: tuple[type[BaseException], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    ConnectionError,
    TimeoutError,
    RetryableHTTP,
)


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def host_in(url: str, hosts: set[str]) -> bool:
    host = _host(url)
    return any(host == h or host.endswith("." + h) for h in hosts)


def on_hugging_face(url: str) -> bool:
    """Hugging Face or its China mirror."""
    return host_in(url, HF_HOSTS)


def on_civitai(url: str) -> bool:
    return host_in(url, CIVITAI_HOSTS)


def _token(chosen: str, env_names: tuple[str, ...]) -> str:
    return chosen or next((os.environ[n] for n in env_names if os.environ.get(n)), "")


def auth_headers(url: str, net: NetworkSettings) -> dict[str, str]:
    """The token for this URL's host only: Hugging Face (and its mirror) or Civitai, never elsewhere."""
    if on_hugging_face(url):
        token = _token(net.hf_token, HF_ENV)
    elif on_civitai(url):
        token = _token(net.civitai_token, CIVITAI_ENV)
    else:
        token = ""
    return {"Authorization": f"Bearer {token}"} if token else {}


def user_agent() -> str:
    return f"Maple/{maple_version()} (model downloader)"


def make_session(net: NetworkSettings, pool: int = 4) -> requests.Session:
    """A session with Maple's user agent and the proxy from the settings (else the environment's)."""
    session = requests.Session()
    session.headers["User-Agent"] = user_agent()
    session.headers["Accept-Encoding"] = "identity"
    if net.proxy:
        session.proxies.update({"http": net.proxy, "https": net.proxy})
    adapter = requests.adapters.HTTPAdapter(pool_connections=pool, pool_maxsize=pool)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def check_status(resp: requests.Response) -> None:
    """Raise RetryableHTTP for 429/5xx, keep other codes for the caller."""
    if resp.status_code in RETRY_STATUS:
        retry_after = parse_retry_after(resp.headers.get("Retry-After"))
        resp.close()
        raise RetryableHTTP(resp.status_code, retry_after)


def sleep_or_stop(seconds: float, stop: threading.Event | None) -> bool:
    """Sleep, waking early when ``stop`` is set; True if stopped."""
    if stop is None:
        time.sleep(seconds)
        return False
    return stop.wait(seconds)


def retry_after_of(exc: BaseException | None) -> float | None:
    return exc.retry_after if isinstance(exc, RetryableHTTP) else None
