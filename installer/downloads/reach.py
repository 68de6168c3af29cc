"""Telling quickly that a source cannot be reached (offline, a name that does not resolve, refused).

A name lookup goes through the system resolver, which no socket timeout bounds: offline, with a
name server configured but out of reach, one lookup can take tens of seconds. So the lookup runs
in a helper thread and the source counts as unreachable after ``DNS_TIMEOUT`` seconds (one quick
retry within that time for a temporary failure). Through a proxy the proxy resolves the name, so
nothing is looked up here.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import requests

from installer.downloads.errors import SourceUnreachableError
from installer.downloads.network import NetworkSettings

log = logging.getLogger(__name__)

DNS_TIMEOUT = 2.0  # seconds a source's name may take to resolve, retry included
RETRY_PAUSE = 0.2


def uses_proxy(url: str, net: NetworkSettings) -> bool:
    """True when this URL goes through a proxy (from the settings or the environment)."""
    if net.proxy:
        return True
    host = urlsplit(url).hostname or ""
    scheme = urlsplit(url).scheme
    return bool(urllib.request.getproxies().get(scheme)) and not urllib.request.proxy_bypass(host)


def _lookup(host: str, port: int, timeout: float) -> OSError | None:
    """None if ``host`` resolved within ``timeout``; else the error (TimeoutError when it hung)."""
    outcome: list[OSError | None] = []

    def work() -> None:
        try:
            socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            outcome.append(None)
        except OSError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=work, name=f"dns-{host}", daemon=True)  # a hung lookup is left behind
    thread.start()
    thread.join(timeout)
    return outcome[0] if outcome else TimeoutError(f"no answer in {timeout:.0f} s")


def check_name(url: str, net: NetworkSettings, timeout: float | None = None) -> None:
    """Raise SourceUnreachableError quickly when the URL's host name does not resolve."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host or uses_proxy(url, net):
        return
    port = parts.port or (443 if parts.scheme == "https" else 80)
    deadline = time.monotonic() + (DNS_TIMEOUT if timeout is None else timeout)
    error = _lookup(host, port, deadline - time.monotonic())
    if isinstance(error, socket.gaierror) and error.errno == socket.EAI_AGAIN and deadline - time.monotonic() > RETRY_PAUSE * 2:
        time.sleep(RETRY_PAUSE)  # a temporary failure: one quick retry
        error = _lookup(host, port, deadline - time.monotonic())
    if error is not None:
        log.info("%s did not resolve: %s", host, error)
        raise SourceUnreachableError(f"{host} could not be found (the name did not resolve: {_reason(error)})")


def _reason(error: BaseException) -> str:
    if isinstance(error, socket.gaierror):
        return error.strerror or str(error)
    return str(error) or type(error).__name__


def unreachable(url: str, error: BaseException | None) -> SourceUnreachableError:
    """The error for a source that never answered: refused, timed out, reset before a reply."""
    host = urlsplit(url).netloc or url
    if isinstance(error, requests.exceptions.ConnectTimeout):
        why = "the connection timed out"
    elif _refused(error):
        why = "the connection was refused"
    else:
        why = f"no answer: {error}" if error else "no answer"
    return SourceUnreachableError(f"{host} could not be reached ({why})")


def _refused(error: BaseException | None) -> bool:
    for _ in range(6):  # the cause chain of requests -> urllib3 -> socket errors
        if error is None:
            return False
        if isinstance(error, ConnectionRefusedError) or "Connection refused" in str(error):
            return True
        error = error.__cause__ or error.__context__
    return False


def ask(session: requests.Session, method: str, url: str, net: NetworkSettings, **kwargs: Any) -> requests.Response:
    """One request to look a link up (no retries): a source that cannot be reached says so clearly."""
    check_name(url, net)
    try:
        return session.request(method, url, **kwargs)
    except (requests.ConnectionError, requests.Timeout) as exc:
        if isinstance(exc, requests.exceptions.SSLError):
            raise
        raise unreachable(url, exc) from exc
