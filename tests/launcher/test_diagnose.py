"""Recognising the errors users meet in the engine's console."""

from __future__ import annotations

import pytest

from installer.contract import EngineReady, read_ready_line, ready_line
from launcher.engine import console_lines
from launcher.engine.diagnosis import diagnose, diagnose_line


@pytest.mark.parametrize(("line", "code"), [
    ("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB", "out-of-memory"),
    ("OSError: Can't load tokenizer for 'openai/clip-vit-large-patch14'.", "missing-config"),
    ("ModuleNotFoundError: No module named 'xformers'", "missing-module"),
    ("OSError: [Errno 98] Address already in use", "port-in-use"),
    ("OSError: Cannot find empty port in range: 7860-7860", "port-in-use"),
    ("A tensor with all NaNs was produced in VAE.", "nan-image"),
    ("safetensors_rust.SafetensorError: Error while deserializing header: MetadataIncompleteBuffer", "broken-model"),
    ("RuntimeError: Torch is not able to use GPU", "no-gpu"),
])
def test_known_errors(line: str, code: str) -> None:
    found = diagnose_line(line)
    assert found is not None and found.code == code
    assert found.advice


def test_missing_module_names_it_and_ordinary_lines_pass() -> None:
    found = diagnose(["Loading weights", "ModuleNotFoundError: No module named 'compel'", "Startup time: 3.2s"])
    assert [(d.code, d.detail) for d in found] == [("missing-module", "compel")]
    assert diagnose(["Running on local URL:  http://127.0.0.1:7860", "100%|####| 20/20"]) == []


def test_console_line_levels_and_state_lines() -> None:
    line = ready_line(EngineReady("http://127.0.0.1:7861", 11.8))
    assert read_ready_line(line) == EngineReady("http://127.0.0.1:7861", 11.8)
    assert read_ready_line("Startup time: 11.8s (import torch: 5.4s).") is None  # the human line is for people
    assert read_ready_line("Running on local URL:  http://127.0.0.1:7861") is None
    assert read_ready_line(line[:-3]) is None and read_ready_line(line.replace("http://", "file://")) is None
    assert console_lines.level_of("Traceback (most recent call last):") is console_lines.Level.ERROR
    assert console_lines.level_of("WARNING: Port 7860 is in use") is console_lines.Level.WARNING
    assert console_lines.level_of("Loading model") is console_lines.Level.INFO
