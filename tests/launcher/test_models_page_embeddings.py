"""The models page lists textual-inversion embeddings on a tab of their own."""

from __future__ import annotations

import pytest

from tests.installer.st_files import LORA, write_st

pytestmark = pytest.mark.timeout(60)


def test_embeddings_have_their_own_tab(qtbot, make_window, home) -> None:
    write_st(home.root / "embeddings" / "EasyNegative.safetensors", {"emb_params": [8, 768]})
    write_st(home.models_dir("lora") / "style.safetensors", LORA)
    window = make_window()
    window.show_page("models")
    page = window.pages["models"]
    qtbot.waitUntil(lambda: "model files found" in page.status.text(), timeout=15000)
    titles = [page.tabs.tabText(i) for i in range(page.tabs.count())]
    assert titles[:4] == ["Checkpoints", "VAE", "LoRA", "Embeddings"] and titles[-1] == "Catalog"
    table = page.tables["embedding"]
    assert table.rowCount() == 1
    assert [table.item(0, c).text() for c in (0, 1)] == ["EasyNegative.safetensors", "SD1.x"]
    assert page.tables["lora"].rowCount() == 1
    opened = []
    page.ctx.open_folder = opened.append
    page.tabs.setCurrentWidget(table)
    table.clearSelection()
    page.open_selected_folder()
    assert opened == [home.root / "embeddings"]
