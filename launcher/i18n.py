"""Translations through Qt's own system, from a JSON table (no lrelease needed).

Every visible string goes through ``QCoreApplication.translate`` (``tr`` below, or ``self.tr``);
:class:`JsonTranslator` answers those calls from ``assets/i18n/<lang>.json``, a flat
``{"English source": "translation"}`` table. Strings the table lacks fall back to English and are
remembered in ``missing`` so a test can insist that the table is complete.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLocale, QTranslator

log = logging.getLogger(__name__)

I18N_DIR = Path(__file__).resolve().parent.parent / "assets" / "i18n"
CONTEXT = "Maple"
LANGUAGES = ("en", "zh")


def tr(text: str) -> str:
    """Translate ``text`` with the installed translator (English when none is installed)."""
    return QCoreApplication.translate(CONTEXT, text)


def system_language(locale: QLocale | None = None) -> str:
    """``zh`` when the system speaks Chinese, else ``en``."""
    name = (locale or QLocale.system()).name()
    return "zh" if name.lower().startswith("zh") else "en"


def resolve_language(choice: str, locale: QLocale | None = None) -> str:
    """The language to show: the user's choice, or the system's when the choice is ``system``."""
    return choice if choice in LANGUAGES else system_language(locale)


def load_table(lang: str, folder: Path = I18N_DIR) -> dict[str, str]:
    path = folder / f"{lang}.json"
    if not path.exists():
        return {}
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("translation table %s unreadable: %s", path, exc)
        return {}
    return {str(k): str(v) for k, v in data.items() if not str(k).startswith("_")}


class JsonTranslator(QTranslator):
    """A QTranslator that looks strings up in a Python dict instead of a .qm file."""

    def __init__(self, lang: str, table: dict[str, str] | None = None) -> None:
        super().__init__()
        self.lang = lang
        self.table = load_table(lang) if table is None else table
        self.missing: set[str] = set()

    def translate(
        self, context: str, source: str, disambiguation: str | None = None, n: int = -1
    ) -> str:
        # Qt stops at the first translator whose answer is not a null string, and an empty Python
        # string is not null: so always answer, with the English source when there is no entry.
        if self.lang == "en" or not source:
            return source
        found = self.table.get(source)
        if found is None:
            if context == CONTEXT:
                self.missing.add(source)
            return source
        return found

    def isEmpty(self) -> bool:  # noqa: N802 - Qt's name
        return False


_installed: JsonTranslator | None = None


def install(lang: str) -> JsonTranslator:
    """Install (or replace) the application's translator for ``lang`` (``en`` or ``zh``)."""
    global _installed
    app = QCoreApplication.instance()
    if _installed is not None and app is not None:
        app.removeTranslator(_installed)
    _installed = JsonTranslator(lang)
    if app is not None:
        app.installTranslator(_installed)
    return _installed


def current() -> JsonTranslator | None:
    return _installed
