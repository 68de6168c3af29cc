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
    parser.add_argument("--start", action="store_true", help="start the engine as soon as the window is ready")
    return parser.parse_args(argv)


def has_display(env: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """Linux without DISPLAY / WAYLAND_DISPLAY (and no QT_QPA_PLATFORM chosen) has no display."""
    env = os.environ if env is None else env
    platform = platform or sys.platform
    if not platform.startswith("linux"):
        return True
    return any(env.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def _language(choice: str | None, settings_language: str) -> str:
    from launcher.i18n import resolve_language

    return resolve_language(choice or settings_language)


def run_headless(args: argparse.Namespace, missing_libraries: Sequence[str] = (), no_x_server: str = "") -> int:
    from installer.home import resolve_home
    from installer.settings import load_settings
    from launcher import headless
    from launcher.logs import setup_logging

    home = resolve_home(args.home).ensure()
    setup_logging(str(home.logs_dir))
    lang = _language(args.lang, load_settings(home.settings_file).settings.language)
    if missing_libraries:
        headless.say_window_blocked(headless.Terminal(lang), list(missing_libraries))
    if no_x_server:
        headless.say_no_x_server(headless.Terminal(lang), no_x_server)
    return headless.run(home, lang)


def start(args: argparse.Namespace) -> int:
    if args.headless or not has_display():
        return run_headless(args)
    from launcher.qt_libs import unreachable_display, window_blockers

    display = unreachable_display()
    if display is not None:  # Qt would abort: DISPLAY names an X server that does not answer
        return run_headless(args, no_x_server=display)
    missing = window_blockers()
    if missing:  # Qt would abort loading its xcb plugin: say what is missing and start in the terminal
        return run_headless(args, missing)
    from launcher.startup import run_gui

    return run_gui(args.home, args.lang, [sys.argv[0]], start=args.start)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return start(args)
    except KeyboardInterrupt:  # Ctrl-C before Maple's own handlers were in place: nothing to stop yet
        return 0


if __name__ == "__main__":
    sys.exit(main())
