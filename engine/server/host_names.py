"""The ``Host`` names the engine answers to: its defence against DNS rebinding.

A web page whose own name resolves to 127.0.0.1 is same-origin with the engine, but its requests
still carry that name in ``Host``. So without ``--listen`` only 127.0.0.1, localhost and [::1]
with the serving port are answered. With ``--listen`` the names are the ``allowed_hosts`` setting,
or by default this machine's host name and addresses (again with the serving port); the loopback
names always stay, so the launcher keeps working. Names the user lists in ``allowed_hosts`` match
on any port, as a reverse proxy in front of the engine may use another one.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass

from engine.cli import EngineConfig

log = logging.getLogger(__name__)

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
WILDCARD_BINDS = ("0.0.0.0", "::", "")


@dataclass(frozen=True)
class HostPolicy:
    """Names served with the serving port (``own``) and names served on any port (``listed``)."""

    own: frozenset[str]
    listed: frozenset[str] = frozenset()

    def allows(self, host_header: str | None, server_port: int | None) -> bool:
        parsed = split_host(host_header) if host_header else None
        if parsed is None:
            return False
        name, port = parsed
        if name in self.listed:
            return True
        return name in self.own and (port or 80) == server_port


def split_host(value: str) -> tuple[str, int | None] | None:
    """``"Example.com:7860"`` -> ``("example.com", 7860)``; ``"[::1]"`` -> ``("::1", None)``; None if malformed."""
    text = value.strip().lower()
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return None
        name, rest = text[1:end], text[end + 1 :]
        if rest and not rest.startswith(":"):
            return None
        port_text = rest[1:]
    else:
        name, _, port_text = text.partition(":")
        if ":" in port_text:  # an IPv6 address needs brackets in Host
            return None
    if not name or (port_text and not (port_text.isdigit() and 0 < int(port_text) < 65536)):
        return None
    return name, int(port_text) if port_text else None


def machine_names(bind_host: str) -> set[str]:
    """This machine's host name (also ``.local``) and every address of its network interfaces."""
    import psutil

    names: set[str] = set()
    try:
        hostname = socket.gethostname().lower()
    except OSError:
        hostname = ""
    if hostname:
        names.update({hostname, f"{hostname}.local"})
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family in (socket.AF_INET, socket.AF_INET6):
                names.add(address.address.split("%")[0].lower())
    if bind_host not in WILDCARD_BINDS:
        names.add(bind_host.strip("[]").lower())
    return names


def policy_for(config: EngineConfig) -> HostPolicy:
    """The policy ``config`` asks for; says in the log which names a listening engine serves."""
    listed = frozenset(config.allowed_hosts)
    own = set(LOOPBACK_NAMES)
    if config.listening and not listed:
        own |= machine_names(config.host)
    if config.listening:
        names = ", ".join(sorted(listed or own - LOOPBACK_NAMES)) or "(none)"
        log.info("Answering requests for these host names besides localhost: %s", names)
    return HostPolicy(frozenset(own), listed)
