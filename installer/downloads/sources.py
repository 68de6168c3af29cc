"""Which source first: the user's choice in settings (auto, huggingface, hf-mirror, modelscope, civitai)."""

from __future__ import annotations

import locale
import logging
import os
import time
from urllib.parse import urlsplit, urlunsplit

from installer.downloads.network import NetworkLike, NetworkSettings, network_of

log = logging.getLogger(__name__)

HF_HOST = "huggingface.co"
MIRROR_HOST = "hf-mirror.com"
CHINA_ORDER = ("hf-mirror", "modelscope", "civitai", "huggingface")
CHINA_ZONES = ("Asia/Shanghai", "Asia/Chongqing", "Asia/Harbin", "Asia/Urumqi", "PRC")


def likely_in_china(net: NetworkSettings) -> bool:
    """A cheap guess for "auto": Chinese UI language, a zh_CN locale, or a mainland time zone."""
    if net.language == "zh":
        return True
    lang = os.environ.get("LANG", "") or (locale.getlocale()[0] or "")
    if lang.lower().startswith(("zh_cn", "zh-cn", "chinese (simplified)")):
        return True
    return os.environ.get("TZ", "") in CHINA_ZONES or (time.tzname[0] == "CST" and time.timezone == -8 * 3600)


def mirror_url(url: str) -> str | None:
    """The China mirror's URL for a Hugging Face URL (same path), or None."""
    parts = urlsplit(url)
    if parts.hostname != HF_HOST:
        return None
    return urlunsplit(parts._replace(netloc=MIRROR_HOST))


def _with_mirror(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    names = {n for n, _ in pairs}
    if "hf-mirror" in names:
        return pairs
    extra = [("hf-mirror", m) for n, u in pairs if n == "huggingface" and (m := mirror_url(u))]
    return pairs + extra[:1]


def order_sources(pairs: list[tuple[str, str]], settings: NetworkLike = None) -> list[tuple[str, str]]:
    """Sources in the order to try: the preferred one first, then the rest in catalog order."""
    net = network_of(settings)
    choice = net.download_source
    pairs = _with_mirror(list(pairs)) if choice in ("hf-mirror", "auto") else list(pairs)
    if choice == "auto":
        if not likely_in_china(net):
            return pairs
        preferred: tuple[str, ...] = CHINA_ORDER
    else:
        preferred = (choice,)
    rank = {name: i for i, name in enumerate(preferred)}
    return sorted(pairs, key=lambda p: rank.get(p[0], len(rank)))
