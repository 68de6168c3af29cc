"""The launcher's model manager shows upscalers in a tab of their own, and offers them from the catalog."""

from __future__ import annotations

import numpy as np
import pytest
from safetensors.numpy import save_file

pytestmark = pytest.mark.timeout(60)

KEYS = ("conv_first.weight", "body.0.rdb1.conv1.weight", "conv_body.weight", "conv_up1.weight", "conv_last.weight")


def test_upscalers_have_their_own_tab(qtbot, make_window, home) -> None:
    target = home.root / "models" / "RealESRGAN" / "RealESRGAN_x4plus.safetensors"
    target.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: np.zeros((2, 2), np.float32) for k in KEYS}, str(target))
    window = make_window()
    window.show_page("models")
    page = window.pages["models"]
    qtbot.waitUntil(lambda: "model files found" in page.status.text(), timeout=15000)
    titles = [page.tabs.tabText(i) for i in range(page.tabs.count())]
    assert "Upscalers" in titles
    table = page.tables["upscaler"]
    assert [table.item(r, 0).text() for r in range(table.rowCount())] == ["RealESRGAN_x4plus.safetensors"]
    assert table.item(0, 1).text() == "ESRGAN"
    kinds = {page.catalog_table.item(r, 1).text() for r in range(page.catalog_table.rowCount())}
    assert "Upscalers" in kinds
