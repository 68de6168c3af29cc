"""Shared test set-up: Qt offscreen, and every test gets its own data home."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def home(tmp_path: Path):
    from installer.home import Home

    return Home(tmp_path / "home").ensure()
