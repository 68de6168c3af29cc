"""The engine's start, ordered for a short ``Startup time``, and its clean stop.

1. parse flags, set up logging (console + ``logs/engine.log``);
2. bind the socket FIRST and say ``Running on local URL:  http://127.0.0.1:PORT``;
3. start the HTTP server (it answers ``/maple/v1/ready`` at once) and the worker, whose first job
   imports torch once and loads the model once;
4. print ``Startup time: ...`` when a generation request can be served (started by the launcher,
   also the machine-readable ready line of :mod:`installer.contract`, which the launcher reads);
5. wait for Ctrl-C, SIGTERM, ``/maple/v1/shutdown``, the parent's exit or stdin's close; stop.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import sys
import threading
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import TYPE_CHECKING

from engine.cli import EngineConfig, UsageError, parse
from engine.server.quiet import quiet_environment
from engine.server.timing import StartupTimer, process_start_time
from installer.contract import EngineReady, ready_line

if TYPE_CHECKING:
    from engine.server.app import ServerThread
    from engine.server.service import EngineService

log = logging.getLogger("engine")

PORT_TRIES = 100
LOG_BYTES = 5 * 1024 * 1024
STOP_TIMEOUT_S = 3.0


class PlainConsoleFormatter(logging.Formatter):
    """INFO lines as users know them from A1111; warnings and errors prefixed with their level."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return text if record.levelno <= logging.INFO else f"{record.levelname}: {text}"


def setup_logging(logs_dir: Path) -> None:
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    console = logging.StreamHandler(sys.stdout)
    console.setFormatter(PlainConsoleFormatter("%(message)s"))
    console.addFilter(lambda record: not getattr(record, "file_only", False))  # details for the log file only
    root.addHandler(console)
    try:
        logs_dir.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(logs_dir / "engine.log", maxBytes=LOG_BYTES, backupCount=3, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(name)s] %(message)s"))
        root.addHandler(handler)
    except OSError as exc:
        log.warning("Cannot write %s: %s; logging to the console only.", logs_dir / "engine.log", exc)


def _try_bind(host: str, port: int) -> socket.socket | None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say TCP, and without it every
    # answer's body waited for the client's delayed ACK (about 40 ms per request on Linux).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    if os.name != "nt":  # on Windows SO_REUSEADDR would let two servers share the port
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno in (errno.EADDRINUSE, errno.EACCES, getattr(errno, "WSAEADDRINUSE", -1), 10013):
            return None
        raise
    sock.set_inheritable(False)
    return sock


def bind_socket(host: str, port: int, tries: int = PORT_TRIES) -> socket.socket:
    """Bind ``port`` or the next free one, and say so when it had to move."""
    for candidate in range(port, min(port + tries, 65536)):
        sock = _try_bind(host, candidate)
        if sock is not None:
            if candidate != port:
                log.warning("Port %d is in use; using port %d instead.", port, candidate)
            return sock
    raise UsageError(f"No free port between {port} and {min(port + tries, 65536) - 1} on {host}.")


def local_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def _announce(config: EngineConfig, port: int) -> None:
    log.info("Running on local URL:  %s", local_url(config.host, port))
    if config.listening:
        log.info("Listening on %s:%d for other computers too; HTTP Basic auth is on.", config.host, port)
    for handler in logging.getLogger().handlers:
        handler.flush()


def run(config: EngineConfig, timer: StartupTimer) -> int:
    from engine.server import lifecycle

    stop = threading.Event()
    lifecycle.install_signal_handlers(stop)
    sock = bind_socket(config.host, config.port)
    _announce(config, sock.getsockname()[1])
    if config.parent_pid:  # started by Maple's launcher: follow it (its pid, and the stdin pipe it holds)
        lifecycle.watch_parent(config.parent_pid, stop)
        lifecycle.watch_stdin(stop)
        from engine.server.winjob import tie_to_parent

        tie_to_parent(config.parent_pid)  # Windows: ends with the launcher even when stuck in native code
    _preimport_heavy()
    service = _start_service(config, timer, stop, local_url(config.host, sock.getsockname()[1]))
    with timer.phase("start server"):
        server = _start_server(service, sock)
    _say_where(config, sock.getsockname()[1])
    while not stop.wait(0.5):
        if not server.thread.is_alive():
            log.error("The HTTP server stopped unexpectedly.")
            return _stop(service, server, 1)
        if service.startup_error is not None:
            log.error("The engine could not start: %s", service.startup_error)
            return _stop(service, server, 1)
    return _stop(service, server, 0)


def _preimport_heavy() -> None:
    """Import torch and diffusers in a thread now, while this thread imports FastAPI and uvicorn.

    The worker's own imports then find them loaded (or wait for them); its phases still say
    how long each took from its side.
    """

    def work() -> None:
        try:
            import torch  # noqa: F401

            from engine.server.quiet import quiet_libraries

            quiet_libraries()
            from diffusers import StableDiffusionPipeline  # noqa: F401
        except Exception:  # the worker imports them again and reports the error
            log.debug("pre-import failed", exc_info=True)

    threading.Thread(target=work, name="maple-preimport", daemon=True).start()


def _start_service(config: EngineConfig, timer: StartupTimer, stop: threading.Event, url: str) -> EngineService:
    """The worker starts first: it imports torch and loads the model while the HTTP side starts."""
    from engine.server.runtime import Runtime
    from engine.server.service import EngineService

    service = EngineService(config, Runtime(config), timer)
    service.on_ready = lambda: _say_ready(config, timer, url)
    service.shutdown_requested = stop
    service.start()
    return service


def _say_ready(config: EngineConfig, timer: StartupTimer, url: str) -> None:
    """``Startup time: ...`` for people; started by Maple's launcher, also the one line it reads."""
    log.info("%s", timer.line())
    if config.parent_pid:
        log.info("%s", ready_line(EngineReady(url, timer.total if timer.total is not None else timer.finish())))


def _start_server(service: EngineService, sock: socket.socket) -> ServerThread:
    from engine.server.app import ServerThread, create_app

    server = ServerThread(create_app(service), sock)
    server.start()
    return server


def _say_where(config: EngineConfig, port: int) -> None:
    """``cache/engine.json``: this home's engine serves here (the launcher and maple-doctor read it)."""
    from installer import running_engine

    url = local_url(config.host, port)
    running_engine.write_record(config.home.root, running_engine.RunningEngine(os.getpid(), port, url, str(config.home.root)))


def _stop(service: EngineService, server: ServerThread, code: int) -> int:
    from installer import running_engine

    running_engine.remove_record(service.config.home.root, os.getpid())
    log.info("Stopping the engine...")
    ended = service.stop(STOP_TIMEOUT_S)
    server.stop(STOP_TIMEOUT_S)
    if not ended:
        log.warning("The running job did not stop in %.0f s; exiting anyway.", STOP_TIMEOUT_S)
    log.info("Engine stopped.")
    return code


def main(argv: list[str] | None = None) -> int:
    quiet_environment()
    timer = StartupTimer(process_start_time())
    try:
        config = parse(argv, probe_machine=False)  # the machine check runs later, in the worker
    except UsageError as exc:
        print(f"maple-engine: {exc}", file=sys.stderr)
        return 2
    setup_logging(config.home.logs_dir)
    try:
        return run(config, timer)
    except UsageError as exc:
        log.error("%s", exc)
        return 2
