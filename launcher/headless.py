"""The one-click start in a terminal (a server, or no display): check, then the engine's console.

Ctrl-C or SIGTERM (once; a second one is ignored) asks the engine to leave, waits a few seconds,
then ends its whole process tree; Maple exits with 0 and no traceback, also when stopped during
the check.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from collections import deque
from typing import IO, Any

from installer.contract import read_ready_line
from installer.home import Home
from installer.settings import Settings, load_settings
from launcher import check_view
from launcher.engine import command as engine_command
from launcher.engine import console_lines, proctree
from launcher.engine.diagnosis import diagnose
from launcher.stop_signals import interrupt_on_stop_signals

log = logging.getLogger(__name__)

MARKS = {"ok": "[ OK ]", "warning": "[WARN]", "blocker": "[FAIL]"}
SIGNAL_GRACE_S = 3.0  # after Ctrl-C: the engine's own clean stop, before its tree is ended (all within 5 s)


class Terminal:
    """Prints translated sentences to the terminal."""

    def __init__(self, lang: str, out: IO[str] | None = None) -> None:
        from launcher.i18n import load_table

        self.table = load_table(lang) if lang != "en" else {}
        self.out = out or sys.stdout

    def t(self, text: str, **values: object) -> str:
        text = self.table.get(text, text)
        for key, value in values.items():
            text = text.replace("{" + key + "}", str(value))
        return text

    def say(self, text: str = "", **values: object) -> None:
        print(self.t(text, **values) if text else "", file=self.out, flush=True)

    def raw(self, line: str) -> None:
        print(line, file=self.out, flush=True)


def say_window_blocked(term: Terminal, missing: list[str]) -> None:
    """The window cannot open on this desktop: name the libraries and the command that installs them."""
    from launcher.qt_libs import install_command

    term.say("The window cannot open: this system lacks {libraries}, which Qt needs to show windows.",
             libraries=", ".join(missing))
    term.say("Install them with: {command}", command=install_command(missing))
    term.say("Starting in this terminal instead.")
    term.say()


def say_no_x_server(term: Terminal, display: str) -> None:
    """DISPLAY is set but no X server answers there: Qt would abort, so Maple starts here instead."""
    term.say("The window cannot open: no X server answers at DISPLAY={display}.", display=display)
    term.say("Start the desktop (or Xvfb) first, or unset DISPLAY to start in the terminal straight away.")
    term.say("Starting in this terminal instead.")
    term.say()


def print_check(term: Terminal, report: Any, lang: str) -> None:
    for row in check_view.rows(report, lang):
        term.raw(f"  {MARKS.get(row.verdict, '[ ?? ]')} {row.title}: {row.reason}")
        if row.hint and row.verdict != "ok":
            term.raw(f"         -> {row.hint}")


def run(home: Home, lang: str, out: IO[str] | None = None, program: list[str] | None = None) -> int:
    term = Terminal(lang, out)
    with interrupt_on_stop_signals():
        try:
            return _run(term, home, lang, program)
        except KeyboardInterrupt:  # stopped before the engine ran (e.g. during the check)
            term.say("Maple stopped.")
            return 0


def _run(term: Terminal, home: Home, lang: str, program: list[str] | None) -> int:
    loaded = load_settings(home.settings_file)
    for problem in loaded.problems:
        term.raw(f"[maple] {problem}")
    settings = loaded.settings
    term.say("Maple: checking this machine...")
    check_args: list[str] = []
    try:
        report = check_view.run_check(home.root, settings.port, settings.api_auth)
        print_check(term, report, lang)
        check_args = check_view.check_args(report)
    except Exception as exc:  # the check must never stop the start
        log.exception("machine check failed")
        term.say("The machine check failed: {error}", error=exc)
    plan = engine_command.plan_port(settings.port, home.root, settings.api_auth)
    if plan.existing is not None and plan.mine:
        term.say("Maple is already running for this data folder. Open this address in your browser:")
        term.raw(f"    {engine_command.local_url(plan.port)}")
        return 0
    if plan.existing is not None:
        term.say("A Maple engine is already running at {url}. Open it in your browser.",
                 url=engine_command.local_url(plan.port))
        return 0
    if plan.moved:
        term.say("Port {wanted} is used by {owner}; the engine will use port {port}.",
                 wanted=plan.wanted, owner=plan.owner or term.t("another program"), port=plan.port)
    return run_engine(term, home, settings, plan.port, check_args, program)


def _popen(cmd: list[str]) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONIOENCODING="utf-8")
    extra: dict[str, Any] = {}
    if sys.platform == "win32":
        extra["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
    else:
        extra["start_new_session"] = True  # Ctrl-C reaches Maple only; Maple stops the engine
    # stdin is a pipe Maple keeps open: the engine stops by itself when Maple goes away
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            encoding="utf-8", errors="replace", bufsize=1, env=env, **extra)


def run_engine(term: Terminal, home: Home, settings: Settings, port: int, check_args: list[str],
               program: list[str] | None = None) -> int:
    args = engine_command.engine_args(settings, home.root, port, check_args, parent_pid=os.getpid())
    cmd = [*(program or engine_command.engine_program()), *args]
    term.say("Starting the engine: {command}", command=engine_command.shown_command(cmd))
    tail: deque[str] = deque(maxlen=200)
    failed, stopping = threading.Event(), threading.Event()
    proc = _popen(cmd)
    try:
        reader = threading.Thread(target=_stream, args=(proc, term, tail, port, failed, stopping), daemon=True)
        reader.start()
        code = proc.wait()
    except KeyboardInterrupt:
        stopping.set()  # the engine's own stop lines are left out: Maple says them once, translated
        term.say("Stopping the engine...")
        stop(proc, port, SIGNAL_GRACE_S)
        reader.join(timeout=1)
        term.say("The engine stopped.")
        return 0
    reader.join(timeout=2)
    if failed.is_set():
        term.say("The engine could not start.")
        report_crash(term, None, list(tail))
        return 1
    if code != 0:
        report_crash(term, code, list(tail))
    return code


def _stream(proc: subprocess.Popen[str], term: Terminal, tail: deque[str], port: int,
            failed: threading.Event, stopping: threading.Event) -> None:
    assert proc.stdout is not None
    for raw in proc.stdout:
        line = raw.rstrip("\n")
        ready = read_ready_line(line)  # the engine's line for Maple: announced, not shown
        if ready is not None:
            announce(term, ready.url)
            continue
        tail.append(line)
        if not (stopping.is_set() and console_lines.stop_notice(line)):
            term.raw(line)
        if console_lines.startup_failed(line) and not failed.is_set():
            failed.set()  # the engine keeps running to explain on its page; here nobody reads it
            threading.Thread(target=stop, args=(proc, port), daemon=True).start()


def announce(term: Terminal, url: str) -> None:
    """The address to open, set apart from the engine's lines so nobody has to look for it."""
    rule = "=" * 64
    term.raw("")
    term.raw(rule)
    term.say("Maple is running. Open this address in your browser:")
    term.raw(f"    {url}")
    term.say("Press Ctrl-C to stop Maple.")
    term.raw(rule)
    term.raw("")


def stop(proc: subprocess.Popen[str], port: int, grace: float = 6.0) -> int:
    """Ask the engine to leave, then end its whole tree if it is still there."""
    family = [p.pid for p in proctree.tree(proc.pid)]
    engine_command.request_shutdown(port, 1.5)
    try:
        code = proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proctree.kill_tree(proc.pid, timeout=2.0)
        code = proc.wait(timeout=5)
    for pid in proctree.alive(family):
        proctree.kill_tree(pid, timeout=1.0)
    return code


def report_crash(term: Terminal, code: int | None, lines: list[str]) -> None:
    if code is not None:
        term.say("The engine stopped with exit code {code}.", code=code)
    for found in diagnose(lines):
        term.raw(f"  ! {term.t(found.title)}: {found.line}")
        term.raw(f"    -> {term.t(found.advice)}")
