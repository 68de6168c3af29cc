"""Embedding cards, the style picker, and the variation seed and tiling fields in the real page."""

from __future__ import annotations

import hashlib
import re

from tests.web.conftest import EMBEDDING_NAME
from tests.web.helpers import generate_and_wait, set_small


def _open(page, card: str) -> None:
    if not page.eval_on_selector(card, "e => e.open"):
        page.click(f"{card} > summary")


def test_embedding_cards_add_to_the_last_prompt_box_and_reach_the_infotext(page, engine):
    _open(page, "#emb-card")
    usable = page.locator(f".emb-card[data-embedding='{EMBEDDING_NAME}']")
    usable.wait_for()
    assert "3 vectors" in usable.inner_text()
    skipped = page.locator(".emb-card[data-embedding='sd15_only']")
    assert skipped.is_disabled()  # 768 wide: made for SD1.5, not for the loaded (demo) model
    page.fill("#prompt", "a lighthouse")
    page.fill("#negative_prompt", "blurry")
    page.focus("#negative_prompt")
    assert page.text_content("#emb-target") == "the negative prompt"
    usable.click()
    assert page.input_value("#negative_prompt") == f"blurry, {EMBEDDING_NAME}"
    assert page.input_value("#prompt") == "a lighthouse"
    # the counter asks the engine, which counts the embedding's 3 vectors (+1 for "blurry", +1 for ",")
    page.wait_for_function("document.querySelector('#negative-tokens').textContent === '5/75'")
    assert "active" in (usable.get_attribute("class") or "")
    set_small(page, steps=2)
    generate_and_wait(page)
    info = page.text_content("#info-text")
    short = hashlib.sha256((engine.home / "embeddings" / f"{EMBEDDING_NAME}.safetensors").read_bytes()).hexdigest()[:12]
    assert f'TI hashes: "{EMBEDDING_NAME}: {short}"' in info
    usable.click()  # a second click takes it out again
    assert page.input_value("#negative_prompt") == "blurry"


def test_style_picker_applies_at_generation_and_to_the_prompt_and_saves(page, engine):
    page.wait_for_selector("#style-add option[value='anime']", state="attached")
    page.fill("#prompt", "a cat")
    page.fill("#negative_prompt", "")
    page.select_option("#style-add", "anime")
    assert page.eval_on_selector_all("#style-chips .chip", "els => els.map(e => e.dataset.style)") == ["anime"]
    set_small(page, steps=2)
    generate_and_wait(page)
    info = page.text_content("#info-text")
    assert info.startswith("masterpiece, a cat\nNegative prompt: lowres\n"), info
    assert page.input_value("#prompt") == "a cat"  # applied at generation, the text untouched
    page.select_option("#style-add", "sharp")
    page.click("#style-apply")
    assert page.input_value("#prompt") == "masterpiece, a cat, sharp focus"
    assert page.input_value("#negative_prompt") == "lowres, blurry"
    assert page.locator("#style-chips .chip").count() == 0
    page.click("#style-save")
    page.fill("#style-name", "my style")
    page.click("#style-save-ok")
    page.wait_for_selector("#style-add option[value='my style']", state="attached")
    saved = (engine.home / "styles.csv").read_text(encoding="utf-8-sig")
    assert 'my style,"masterpiece, a cat, sharp focus","lowres, blurry"' in saved
    assert saved.startswith("name,prompt,negative_prompt\nanime,")  # the other styles are still there
    styles = [s["name"] for s in engine.get("/sdapi/v1/prompt-styles")]
    assert styles == ["anime", "sharp", "my style"]


def test_variation_seed_and_tiling_go_out_and_come_back_from_the_infotext(page, engine):
    page.fill("#prompt", "a tiled floor")
    page.fill("#negative_prompt", "")
    set_small(page, steps=2)
    page.fill("#seed", "123")
    _open(page, "#variation-card")
    page.fill("#subseed", "77")
    page.fill("#subseed_strength", "0.4")
    page.fill("#seed_resize_from_w", "48")
    page.fill("#seed_resize_from_h", "56")
    page.check("#tiling")
    assert page.text_content("#variation-note") == "0.4"
    generate_and_wait(page)
    info = page.text_content("#info-text")
    params = info.split("\n")[-1]
    assert "Seed: 123," in params
    assert "Variation seed: 77, Variation seed strength: 0.4, Seed resize from: 48x56" in params
    assert re.search(r"Seed resize from: 48x56, (.+, )?Tiling: True, ", params)
    for field, value in (("#subseed", "-1"), ("#subseed_strength", "0"), ("#seed_resize_from_w", "0")):
        page.fill(field, value)
    page.uncheck("#tiling")
    page.click("#info-panel [data-action='reuse']")
    assert page.input_value("#subseed") == "77"
    assert page.input_value("#subseed_strength") == "0.4"
    assert page.input_value("#seed_resize_from_w") == "48"
    assert page.input_value("#seed_resize_from_h") == "56"
    assert page.is_checked("#tiling")
    page.fill("#subseed_strength", "0")  # leave the form as other tests expect it
    page.fill("#seed_resize_from_w", "0")
    page.fill("#seed_resize_from_h", "0")
    page.uncheck("#tiling")
