"""``--vram-mode auto`` follows the machine check per model: on an 8-12 GB card SDXL gets "medium", SD1 "high"."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from engine import cli
from engine.models import loader
from engine.server.runtime import Runtime
from engine.server.timing import StartupTimer
from installer.machine import report as machine
from installer.machine.verdicts import Recommendation
from tests.engine.tinymodels import write_tiny_checkpoint

TEN_GB_CARD = Recommendation(device="cuda", precision="fp16", vram_mode="high", vram_mode_sdxl="medium", note_key="gpu")


@pytest.fixture
def loads(monkeypatch) -> list[tuple[str, str]]:
    """Every model load the engine asks for, as (file name, VRAM mode), on a faked 10 GB card."""
    monkeypatch.setattr(machine, "check", lambda home, **kw: SimpleNamespace(recommendation=TEN_GB_CARD))
    seen: list[tuple[str, str]] = []
    real_load, real_switch = loader.load_checkpoint, loader.switch_model

    def load(path: Any, **kwargs: Any) -> Any:
        seen.append((path.name, kwargs["vram_mode"]))
        return real_load(path, **kwargs)

    def switch(current: Any, path: Any, **kwargs: Any) -> Any:
        seen.append((path.name, kwargs["vram_mode"]))
        return real_switch(current, path, **kwargs)

    monkeypatch.setattr(loader, "load_checkpoint", load)
    monkeypatch.setattr(loader, "switch_model", switch)
    return seen


def _runtime(home, *flags: str) -> Runtime:
    ckpts = home.models_dir("checkpoint")
    write_tiny_checkpoint(ckpts / "one.safetensors", "sd1")
    write_tiny_checkpoint(ckpts / "xl.safetensors", "sdxl")
    # the device stays the CPU (the test has no GPU); the VRAM mode is what the machine check says
    config = cli.parse(["--home", str(home.root), "--device", "cpu", "--model", "one.safetensors", *flags],
                       env={}, probe_machine=False)
    runtime = Runtime(config)
    runtime.startup(StartupTimer())
    return runtime


def test_auto_gives_sdxl_medium_and_sd1_high(home, loads) -> None:
    runtime = _runtime(home, "--vram-mode", "auto")
    assert loads == [("one.safetensors", "high")] and runtime.vram_mode_name == "high"
    runtime.apply_options({"sd_model_checkpoint": "xl.safetensors"})
    assert loads[-1] == ("xl.safetensors", "medium") and runtime.vram_mode_name == "medium"
    runtime.apply_options({"sd_model_checkpoint": "one.safetensors"})
    assert loads[-1] == ("one.safetensors", "high") and runtime.vram_mode_name == "high"


def test_a_mode_asked_for_applies_to_every_model(home, loads) -> None:
    runtime = _runtime(home, "--vram-mode", "low")
    runtime.apply_options({"sd_model_checkpoint": "xl.safetensors"})
    assert loads == [("one.safetensors", "low"), ("xl.safetensors", "low")] and runtime.vram_mode_name == "low"


def test_parse_with_the_machine_check_keeps_the_sdxl_mode(home, monkeypatch) -> None:
    monkeypatch.setattr(machine, "check", lambda home, **kw: SimpleNamespace(recommendation=TEN_GB_CARD))
    config = cli.parse(["--home", str(home.root)], env={})
    assert (config.vram_mode, config.vram_mode_sdxl) == ("high", "medium")
    assert cli.parse(["--home", str(home.root), "--vram-mode", "high"], env={}).vram_mode_sdxl == ""
