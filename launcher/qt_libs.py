"""Before the window opens on a Linux desktop: are the system libraries Qt's xcb plugin needs there?

Qt aborts the whole process (exit 134) when its ``xcb`` platform plugin cannot be loaded, and its
own message often names a library that is present. Maple asks the dynamic loader (``ldd``) which
of the plugin's libraries are missing, names them with the Debian/Ubuntu packages that carry them,
and starts in the terminal instead. Qt aborts the same way when ``DISPLAY`` is set but no X server
answers there (an SSH session without X forwarding, a stopped Xvfb): :func:`unreachable_display`
tries to connect first.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

log = logging.getLogger(__name__)

# The libraries Qt 6's xcb plugin loads that a minimal Debian/Ubuntu system may lack, and their packages.
DEBIAN_PACKAGES: dict[str, str] = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb.so.1": "libxcb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libSM.so.6": "libsm6",
    "libICE.so.6": "libice6",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
}

Runner = Callable[[list[str]], str]


def xcb_plugin() -> Path | None:
    """The xcb platform plugin of the PySide6 that is installed (found without importing Qt)."""
    import importlib.util

    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    plugin = Path(next(iter(spec.submodule_search_locations))) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.exists() else None


def run_ldd(command: list[str]) -> str:
    result = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    return result.stdout


def missing_libraries(library: Path, run: Runner = run_ldd) -> list[str]:
    """The shared libraries ``library`` needs that the dynamic loader cannot find, in ldd's order."""
    try:
        output = run(["ldd", str(library)])
    except (OSError, subprocess.SubprocessError) as exc:
        log.info("could not ask ldd about %s: %s", library, exc)
        return []
    missing: list[str] = []
    for line in output.splitlines():
        name, arrow, where = line.strip().partition("=>")
        if arrow and where.strip() == "not found" and name.strip() not in missing:
            missing.append(name.strip())
    return missing


def uses_xcb(env: Mapping[str, str], platform: str) -> bool:
    """Whether Qt would pick its xcb plugin here (X11, or XWayland when no Wayland plugin is asked for)."""
    if not platform.startswith("linux") or not env.get("DISPLAY"):
        return False
    chosen = env.get("QT_QPA_PLATFORM", "")
    if chosen:
        return chosen.split(";")[0].split(":")[0] == "xcb"
    return not (env.get("WAYLAND_DISPLAY") and env.get("XDG_SESSION_TYPE") == "wayland")


def install_command(missing: list[str]) -> str:
    """The command that installs the packages carrying ``missing`` (unknown names listed as they are)."""
    packages = sorted({DEBIAN_PACKAGES.get(name, "") for name in missing} - {""})
    command = f"sudo apt-get install {' '.join(packages)}" if packages else ""
    unknown = [name for name in missing if name not in DEBIAN_PACKAGES]
    if unknown:
        command += ("; " if command else "") + "and the packages that provide " + ", ".join(unknown)
    return command


def window_blockers(env: Mapping[str, str] | None = None, platform: str | None = None,
                    plugin: Path | None = None, run: Runner = run_ldd) -> list[str]:
    """The libraries missing for the window on this desktop; empty when the window can open."""
    env = os.environ if env is None else env
    if not uses_xcb(env, platform or sys.platform):
        return []
    plugin = plugin or xcb_plugin()
    if plugin is None:
        return []
    return missing_libraries(plugin, run)


X_SOCKET_DIR = "/tmp/.X11-unix"
X_TCP_BASE = 6000


def _display_number(display: str) -> tuple[str, int] | None:
    """``"host:N.S"`` -> ``("host", N)``; None for a DISPLAY that is not of that form."""
    host, colon, rest = display.rpartition(":")
    number = rest.split(".", 1)[0]
    if not colon or not number.isdigit():
        return None
    return host, int(number)


def _connects(family: socket.AddressFamily, address: str | bytes | tuple[str, int], timeout: float) -> bool:
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(address)
        except OSError:
            return False
    return True


def x_server_answers(display: str, socket_dir: str = X_SOCKET_DIR, timeout: float = 1.0) -> bool:
    """Whether an X server accepts connections at ``display`` (its Unix socket, or TCP 6000+N).

    A connection is enough: Qt's xcb plugin aborts the process when it cannot make one."""
    parsed = _display_number(display)
    if parsed is None:
        return False
    host, number = parsed
    if host.startswith("/"):  # a launchd-style socket path given as the host part
        return _connects(socket.AF_UNIX, host + ":" + str(number), timeout)
    if host in ("", "unix"):
        path = f"{socket_dir}/X{number}"
        abstract = sys.platform.startswith("linux") and _connects(socket.AF_UNIX, "\0" + path, timeout)
        return abstract or _connects(socket.AF_UNIX, path, timeout)
    return _connects(socket.AF_INET6 if ":" in host else socket.AF_INET, (host.strip("[]"), X_TCP_BASE + number), timeout)


def unreachable_display(env: Mapping[str, str] | None = None, platform: str | None = None,
                        socket_dir: str = X_SOCKET_DIR) -> str | None:
    """The DISPLAY Qt would use here when no X server answers there; None when it does (or no X is used)."""
    env = os.environ if env is None else env
    if not uses_xcb(env, platform or sys.platform):
        return None
    display = env.get("DISPLAY", "")
    return None if x_server_answers(display, socket_dir) else display
