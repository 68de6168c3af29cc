"""The machine check's language: English or Chinese, chosen by ``--lang``, the settings or the locale."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping

from installer.machine.i18n_strings import FINDINGS, TEXTS, TITLES

log = logging.getLogger(__name__)

LANGUAGES = ("en", "zh")
LANG_CHINESE = 0x04  # primary language id (low 10 bits of a LANGID) of zh-CN, zh-TW, zh-HK


class _Fields(dict[str, object]):
    """Format fields; a missing one shows as "?" instead of failing."""

    def __missing__(self, key: str) -> object:
        return "?"


def _fill(template: str, params: Mapping[str, object]) -> str:
    return template.format_map(_Fields(params))


def normalize(lang: str | None) -> str:
    """"zh_CN.UTF-8", "zh-Hans", "Chinese (Simplified)_China" -> "zh"; everything else -> "en"."""
    lang = (lang or "").strip().lower()
    return "zh" if lang.startswith(("zh", "chinese")) else "en"


def detect_language(env: Mapping[str, str] | None = None, platform: str | None = None) -> str:
    """The user's language from the environment, then (on Windows) the display language."""
    env = os.environ if env is None else env
    for name in ("MAPLE_LANG", "LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        if env.get(name):
            return normalize(env[name])
    if (platform or sys.platform) == "win32":
        return _windows_language()
    return "en"


def _windows_language() -> str:
    import ctypes

    try:
        lang_id = int(getattr(ctypes, "windll").kernel32.GetUserDefaultUILanguage())  # noqa: B009
    except (AttributeError, OSError) as exc:
        log.debug("Windows UI language not readable: %s", exc)
        return "en"
    return "zh" if lang_id & 0x3FF == LANG_CHINESE else "en"


def text(key: str, lang: str = "en", params: Mapping[str, object] | None = None) -> str:
    entry = TEXTS.get(key)
    if entry is None:
        return key
    return _fill(entry.get(lang) or entry["en"], params or {})


def finding_text(finding_id: str, key: str, lang: str, params: Mapping[str, object]) -> tuple[str, str, str]:
    """(title, reason, hint) of a finding."""
    titles = TITLES.get(finding_id, {"en": finding_id})
    title = titles.get(lang) or titles["en"]
    entry = FINDINGS.get(key)
    if entry is None:
        return title, key, ""
    reason, hint = entry.get(lang) or entry["en"]
    return title, _fill(reason, params), _fill(hint, params)
