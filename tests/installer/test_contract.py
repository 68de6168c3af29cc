"""What the launcher, the engine and the tools share is defined once: port, choices, version, ready line."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from installer.cli.doctor import build_parser
from installer.contract import (
    DEFAULT_PORT,
    DEVICES,
    PRECISIONS,
    VRAM_MODES,
    EngineReady,
    read_ready_line,
    ready_line,
)
from installer.downloads import download
from installer.settings import Settings
from installer.version import maple_version
from tests.installer.dl_helpers import FAST, payload, spec_for
from tests.installer.fault_server import FaultServer


def test_the_settings_and_the_doctor_use_the_shared_port_and_choices() -> None:
    assert Settings().port == DEFAULT_PORT == build_parser().parse_args([]).port == 7860
    for mode in VRAM_MODES:
        assert Settings(vram_mode=mode).vram_mode == mode
    assert Settings(device=DEVICES[-1], precision=PRECISIONS[-1]).device == "cpu"
    with pytest.raises(ValidationError):
        Settings(vram_mode="lowvram")  # A1111's flag name is not a mode


def test_the_ready_line_round_trips_and_nothing_else_reads_as_one() -> None:
    line = ready_line(EngineReady("http://127.0.0.1:7861", 3.25))
    assert line.startswith("maple-engine-ready {") and "\n" not in line
    assert read_ready_line(line) == EngineReady("http://127.0.0.1:7861", 3.25)
    assert read_ready_line(line + "   ") == EngineReady("http://127.0.0.1:7861", 3.25)
    for other in ("Startup time: 3.2s.", "maple-engine-ready", 'maple-engine-ready {"url": 5, "startup_time": 1}'):
        assert read_ready_line(other) is None


def test_the_downloader_says_which_maple_it_is(server: FaultServer, tmp_path: Path) -> None:
    data = payload(10_000)
    url = server.add("/m.safetensors", data)
    download(spec_for(url, tmp_path, data), policy=FAST, connections=1)
    assert maple_version() != "" and server.requests_for("/m.safetensors")[-1]["User-Agent"] == f"Maple/{maple_version()} (model downloader)"
