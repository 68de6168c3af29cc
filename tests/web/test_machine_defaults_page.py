"""The page follows the machine and the model: the built-in model at its own size, the CPU small, and says why;
keeps what the user chose, and shows no VRAM words; files that cannot be used stay in the pickers,
disabled, with their plain sentence in the page's language."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from installer.store.problems import SENTENCES, Problem

SHOTS = Path(os.environ.get("MAPLE_SCREENSHOTS", "/work/screenshots-15"))


def _open(browser: Any, engine: Any) -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    page = context.new_page()
    page.goto(engine.url)
    page.wait_for_selector("body[data-ready]")
    return context, page


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name))


def test_with_the_built_in_model_the_page_starts_at_its_size_says_why_and_keeps_the_users_choice(
        browser: Any, engine: Any) -> None:
    context, page = _open(browser, engine)
    try:
        assert (page.input_value("#width"), page.input_value("#height"), page.input_value("#steps"),
                page.input_value("#cfg_scale")) == ("128", "128", "10", "5")
        note = page.locator("#defaults-note")
        assert note.is_visible() and "built-in model" in note.text_content() and "128×128" in note.text_content()
        assert "CFG 5" in note.text_content()
        assert page.is_visible("#demo-notice") and "draws coloured shapes" in page.inner_text("#demo-notice")
        assert "VRAM" not in (page.get_attribute("#engine-badge", "title") or "")
        assert "VRAM" not in page.inner_text("body")  # what the user reads
        _shot(page, "web-builtin-defaults-en.png")
        page.fill("#steps", "12")  # the user's own choice
        page.wait_for_timeout(400)  # the form is saved a moment after typing
        page.reload()
        page.wait_for_selector("body[data-ready]")
        assert page.input_value("#steps") == "12" and page.input_value("#width") == "128"
        page.click("#lang-switch")
        assert "内置模型" in note.text_content() and "彩色图形" in page.inner_text("#demo-notice")
        _shot(page, "web-builtin-defaults-zh.png")
    finally:
        context.close()


def test_on_the_cpu_with_a_users_model_the_page_starts_small_and_says_why(browser: Any, engine: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-US")
    page = context.new_page()
    try:
        page.route("**/maple/v1/info", lambda route: route.fulfill(  # a checkpoint of the user's, on the CPU
            json=dict(json.loads(route.fetch().text()), demo=False, demo_model="")))
        page.goto(engine.url)
        page.wait_for_selector("body[data-ready]")
        assert (page.input_value("#width"), page.input_value("#height"), page.input_value("#steps")) == ("256", "256", "6")
        note = page.locator("#defaults-note")
        assert note.is_visible() and "No GPU here" in note.text_content() and "256×256" in note.text_content()
        assert page.is_hidden("#demo-notice")
        _shot(page, "web-cpu-defaults-en.png")
    finally:
        context.close()


def test_on_a_gpu_the_usual_values_come_back(browser: Any, engine: Any) -> None:
    context, page = _open(browser, engine)
    try:
        assert (page.input_value("#width"), page.input_value("#cfg_scale")) == ("128", "5")
        page.route("**/maple/v1/info", lambda route: route.fulfill(  # the engine as a GPU machine's answers
            json=dict(json.loads(route.fetch().text()), device="cuda", vram_mode="high", demo=False, demo_model="")))
        page.reload()
        page.wait_for_selector("body[data-ready]")
        assert (page.input_value("#width"), page.input_value("#steps")) == ("512", "20")
        assert page.input_value("#cfg_scale") == "7"  # the built-in model's CFG 5 was Maple's choice, not the user's
        assert page.is_hidden("#defaults-note")
    finally:
        context.close()


# The picker as a list, over the page, for the screenshot (a closed <select> shows one line).
OPEN_PICKER = """(() => { const s = document.querySelector('#checkpoint');
  Object.assign(s.style, {height: 'auto', position: 'absolute', zIndex: 10, width: '760px'}); s.size = 6; })()"""


def _broken_files(folder: Path) -> list[Path]:
    cut = folder / "cut-download.safetensors"
    cut.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":")  # its header is cut off
    text = folder / "my notes.safetensors"
    text.write_text("a text file named like a model\n", encoding="utf-8")
    return [cut, text]


def test_files_that_cannot_be_used_stay_in_the_picker_disabled_with_their_sentence(browser: Any, engine: Any) -> None:
    made = _broken_files(engine.checkpoints)
    context, page = _open(browser, engine)
    try:
        page.click("#refresh-models")
        page.wait_for_selector("#checkpoint optgroup.unusable option", state="attached")
        options = page.locator("#checkpoint optgroup.unusable option")
        texts = [options.nth(i).text_content() for i in range(options.count())]
        assert f"cut-download.safetensors — {SENTENCES[Problem.TRUNCATED]['en']}" in texts
        assert f"my notes.safetensors — {SENTENCES[Problem.NOT_A_MODEL]['en']}" in texts
        assert all(options.nth(i).is_disabled() for i in range(options.count()))
        assert page.get_attribute("#checkpoint optgroup.unusable", "label") == "Cannot be used"
        page.evaluate(OPEN_PICKER)
        _shot(page, "web-unusable-picker-en.png")
        page.click("#lang-switch")
        zh = page.locator("#checkpoint optgroup.unusable option").first.text_content()
        assert zh.endswith(SENTENCES[Problem.TRUNCATED]["zh"])
        assert page.get_attribute("#checkpoint optgroup.unusable", "label") == "无法使用"
        _shot(page, "web-unusable-picker-zh.png")
    finally:
        context.close()
        for path in made:
            path.unlink()
        engine.post("/sdapi/v1/refresh-checkpoints")


# Every piece of text a user can read (visible text, option labels, titles, placeholders).
VISIBLE_TEXT = """() => { const out = [];
  const walk = (n) => { for (const c of n.childNodes) {
    if (c.nodeType === 3) { const t = c.textContent.trim(); const e = c.parentElement;
      if (t && e && e.offsetParent !== null) out.push(`${e.tagName}#${e.id}: ${t}`); }
    else if (c.nodeType === 1 && !["SCRIPT", "STYLE"].includes(c.tagName)) walk(c); } };
  walk(document.body);
  for (const e of document.querySelectorAll("option")) out.push(`option ${e.closest("select").id}: ${e.textContent}`);
  for (const e of document.querySelectorAll("[title]")) if (e.offsetParent !== null) out.push(`title ${e.id}: ${e.title}`);
  for (const e of document.querySelectorAll("[placeholder]")) out.push(`placeholder ${e.id}: ${e.placeholder}`);
  return out; }"""


def _texts(browser: Any, engine: Any, locale: str, switch: bool) -> set[str]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale=locale)
    page = context.new_page()
    try:
        page.goto(engine.url)
        page.wait_for_selector("body[data-ready]")
        if switch:
            page.click("#lang-switch")
        found = set(page.evaluate(VISIBLE_TEXT))
        for tab in ("img2img", "pnginfo", "outputs"):
            page.click(f"[data-tab={tab}]")
            if tab == "outputs":  # it lists the day's images (or says there are none) first
                page.wait_for_function("document.querySelector('#outputs-grid').children.length > 0")
            found |= {f"{tab} | {text}" for text in page.evaluate(VISIBLE_TEXT)}
        return found
    finally:
        context.close()


def test_after_switching_to_chinese_the_page_reads_as_a_chinese_page_does(browser: Any, engine: Any) -> None:
    switched = _texts(browser, engine, "en-US", switch=True)
    fresh = _texts(browser, engine, "zh-CN", switch=False)
    assert switched == fresh, {"after the switch only": sorted(switched - fresh), "fresh only": sorted(fresh - switched)}


def test_the_live_preview_has_the_size_of_the_final_image(browser: Any, engine: Any) -> None:
    context, page = _open(browser, engine)
    try:
        page.fill("#prompt", "the stage keeps its size")
        page.fill("#width", "64")
        page.fill("#height", "64")
        page.fill("#steps", "60")
        before = page.locator("#stage").bounding_box()
        page.click("#generate")
        page.wait_for_selector("#stage-img.preview[src^='data:image/png']", timeout=120_000)
        during = page.locator("#stage").bounding_box()
        _shot(page, "web-preview-during.png")
        page.click("#skip")  # the image ends here, as it is: the final one
        page.wait_for_selector("#generate:not([disabled])", timeout=180_000)
        page.wait_for_selector("#stage-img:not(.preview)")
        after = page.locator("#stage").bounding_box()
        _shot(page, "web-preview-after.png")
        assert before == during == after, (before, during, after)
    finally:
        context.close()


def test_the_pages_rescan_picks_up_a_shared_folder_added_while_the_engine_runs(browser: Any, engine: Any,
                                                                              tmp_path: Path) -> None:
    from installer.settings import load_settings, save_settings
    from tests.engine.tinymodels import write_tiny_checkpoint

    shared = tmp_path / "other install"
    write_tiny_checkpoint(shared / "models" / "Stable-diffusion" / "from-the-other-install.safetensors")
    settings_file = engine.home / "settings.json"
    before = load_settings(settings_file).settings
    context, page = _open(browser, engine)
    try:
        options = "Array.from(document.querySelectorAll('#checkpoint option')).map(o => o.value).join('|')"
        assert "from-the-other-install" not in page.evaluate(options)
        save_settings(settings_file, before.model_copy(update={"shared_folders": [str(shared)]}))  # as maple-models does
        page.click("#refresh-models")
        page.wait_for_function(f"({options}).includes('from-the-other-install')")
    finally:
        context.close()
        save_settings(settings_file, before)
        engine.post("/sdapi/v1/refresh-checkpoints")
