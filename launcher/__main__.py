"""``maple``: the launcher window, or the one-click start in the terminal when there is no display."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence

log = logging.getLogger(__name__)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="maple", description="Maple: one-click Stable Diffusion launcher and model manager.")
    parser.add_argument("--home", help="the data home (default: MAPLE_HOME, portable folder or the user data folder)")
    parser.add_argument("--lang", choices=("system", "en", "zh"), help="language of the window (default: settings, then the system's)")
    parser.add_argument("--headless", action="store_true", help="run the one-click start in this terminal, without a window")
    return parser.parse_args(argv)


def has_display(env: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """Linux without DISPLAY / WAYLAND_DISPLAY (and no QT_QPA_PLATFORM chosen) has no display."""
    env = os.environ if env is None else env
    platform = platform or sys.platform
    if not platform.startswith("linux"):
        return True
    return any(env.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def setup_logging(logs_dir: str | None) -> None:
    handlers: list[logging.Handler] = []
    if logs_dir:
        os.makedirs(logs_dir, exist_ok=True)
        handlers.append(logging.FileHandler(os.path.join(logs_dir, "launcher.log"), encoding="utf-8"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        handlers=handlers or None)


def _language(choice: str | None, settings_language: str) -> str:
    from launcher.i18n import resolve_language

    return resolve_language(choice or settings_language)


def run_headless(args: argparse.Namespace) -> int:
    from installer.home import resolve_home
    from installer.settings import load_settings
    from launcher import headless

    home = resolve_home(args.home).ensure()
    setup_logging(str(home.logs_dir))
    lang = _language(args.lang, load_settings(home.settings_file).settings.language)
    return headless.run(home, lang)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.headless or not has_display():
        return run_headless(args)
    from launcher.startup import run_gui

    return run_gui(args.home, args.lang, [sys.argv[0]])


if __name__ == "__main__":
    sys.exit(main())
