"""The launcher's log: ``logs/launcher.log`` in the data home (it goes into diagnostic bundles)."""

from __future__ import annotations

import logging
import os

LOG_FILE = "launcher.log"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(logs_dir: str | None) -> None:
    """INFO and above to ``<logs_dir>/launcher.log``, or to the terminal when there is no folder."""
    handlers: list[logging.Handler] = []
    if logs_dir:
        os.makedirs(logs_dir, exist_ok=True)
        handlers.append(logging.FileHandler(os.path.join(logs_dir, LOG_FILE), encoding="utf-8"))
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, handlers=handlers or None)
