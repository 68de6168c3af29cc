"""What the launcher shows a new user: files that cannot be used (the same sentence as the CLI, in
both languages, figures formatted as the CLI does), 疑难解答 recognising them, this home's engine
attached without a question, the console wrapping long lines, the engine's command line quoted.
Screenshots of the changed views go to /work/screenshots-15 (MAPLE_SCREENSHOTS)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from installer import running_engine
from installer.cli.tables import model_lines
from installer.display import arch_name, human_size, short_hash
from installer.home import Home
from installer.store.model_store import ModelStore
from installer.store.problems import SENTENCES, Problem
from launcher.engine.command import shown_command
from launcher.engine.process import EngineState
from tests.conftest import serving
from tests.installer.st_files import LORA, SD1_CHECKPOINT, write_st

SHOTS = Path(os.environ.get("MAPLE_SCREENSHOTS", "/work/screenshots-15"))


def _shot(widget: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert widget.grab().save(str(SHOTS / name))


def _broken_home(home: Home, shared: Path) -> None:
    folder = home.models_dir("checkpoint")
    good = write_st(folder / "mine.safetensors", SD1_CHECKPOINT)
    (folder / "cut.safetensors").write_bytes(good.read_bytes()[:200])
    (folder / "page.safetensors").write_text("<!doctype html><html>Sign in to download</html>", encoding="utf-8")
    write_st(home.models_dir("lora") / "style.safetensors", LORA)
    shared.mkdir(parents=True)
    (shared / "notes.safetensors").write_text("my prompt notes, not a model\n", encoding="utf-8")


def _rows(page: Any, kind: str = "checkpoint") -> dict[str, list[str]]:
    table = page.tables[kind]
    return {table.item(r, 0).text(): [table.item(r, c).text() for c in range(6)] for r in range(table.rowCount())}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_models_page_keeps_unusable_files_with_the_clis_sentence(qtbot, make_window, home, tmp_path, lang) -> None:
    shared = tmp_path / "flat shared"
    _broken_home(home, shared)
    window = make_window(lang=lang, show=True, shared_folders=[str(shared)])
    window.resize(1200, 760)
    window.show_page("models")
    page = window.pages["models"]
    qtbot.waitUntil(lambda: page.status.text().endswith(("model files found.", "个模型文件。")) or "5" in page.status.text(),
                    timeout=20000)
    qtbot.waitUntil(lambda: len(_rows(page)) == 4, timeout=20000)
    rows = _rows(page)
    entries = {e.name: e for e in ModelStore(home, [str(shared)]).scan()}
    cli = "\n".join(model_lines(list(entries.values()), lang))
    expected = {"cut.safetensors": Problem.TRUNCATED, "page.safetensors": Problem.WEB_PAGE,
                "notes.safetensors": Problem.NOT_A_MODEL}  # the last: a flat shared folder, kind unknown
    for name, problem in expected.items():
        said = SENTENCES[problem][lang]
        assert rows[name][4].endswith(said), rows[name]
        assert said in cli
    mine = entries["mine.safetensors"]
    assert rows["mine.safetensors"][1:4] == [arch_name(mine.arch), human_size(mine.size), short_hash(mine)]
    lora = _rows(page, "lora")["style.safetensors"]
    lora_entry = entries["style.safetensors"]
    assert lora[3] == short_hash(lora_entry) == lora_entry.lora_hash  # A1111's LoRA hash, as the CLI shows
    _shot(window, f"launcher-models-unusable-{lang}.png")


def test_troubleshooting_recognises_an_unusable_model_in_both_languages(qtbot, make_window) -> None:
    for lang in ("en", "zh"):
        window = make_window(lang=lang, show=True)
        window.resize(1100, 760)
        line = f"Not listing cut.safetensors: {SENTENCES[Problem.TRUNCATED]['en']}"
        window.ctx.console.extend(["Running on local URL:  http://127.0.0.1:7860", line])
        window.show_page("troubleshoot")
        page = window.pages["troubleshoot"]
        page.show_console_errors()
        texts = [w.text() for w in page.findChildren(type(page.status))]
        title = "A model file cannot be used" if lang == "en" else "有模型文件无法使用"
        assert any(t.startswith(title) and "cut.safetensors" in t for t in texts), texts
        assert SENTENCES[Problem.TRUNCATED][lang] in texts
        assert "No known errors in the console." not in texts
        _shot(window, f"launcher-troubleshoot-unusable-{lang}.png")


REFRESHES: list[str] = []


@pytest.fixture
def maple_info_server(home: Home) -> Iterator[int]:
    """A stand-in for this home's engine: it answers /maple/v1/info with this home, and /ready;
    the refreshes asked of it go to REFRESHES."""
    info = {"version": "0.1.0", "device": "cpu", "precision": "fp32", "vram_mode": "", "model": "x", "demo": False,
            "home": str(home.root), "pid": os.getpid()}
    REFRESHES.clear()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            REFRESHES.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802
            body = json.dumps(info if self.path == "/maple/v1/info" else {"ready": True}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    with serving(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as httpd:
        port = httpd.server_address[1]
        running_engine.write_record(home.root, running_engine.RunningEngine(os.getpid(), port,
                                                                            f"http://127.0.0.1:{port}", str(home.root)))
        yield port


@pytest.mark.parametrize(("lang", "said"), [("en", "already running"), ("zh", "已在")])
def test_the_window_attaches_to_this_homes_engine_without_asking(qtbot, make_window, maple_info_server, monkeypatch,
                                                                 lang, said) -> None:
    from launcher.pages.home import HomePage

    monkeypatch.setattr(HomePage, "ask_use_existing", lambda *_a: pytest.fail("asked instead of attaching"))
    window = make_window(lang=lang, show=True)
    window.resize(1100, 740)
    engine = window.ctx.engine
    window.pages["home"].toggle()
    qtbot.waitUntil(lambda: engine.state is EngineState.EXTERNAL, timeout=15000)
    assert engine.port == maple_info_server and engine.pids() == []  # nothing of ours was started
    notice = window.pages["home"].notice.text()
    assert f"http://127.0.0.1:{maple_info_server}" in notice and said in notice
    _shot(window, f"launcher-home-attached-{lang}.png")


def test_a_shared_folder_added_in_the_window_reaches_the_running_engine_at_once(qtbot, make_window, maple_info_server,
                                                                                tmp_path) -> None:
    window = make_window(show=True)
    window.pages["home"].toggle()
    qtbot.waitUntil(lambda: window.ctx.engine.state is EngineState.EXTERNAL, timeout=15000)
    window.show_page("models")
    window.pages["models"].add_shared_folder(str(tmp_path))
    qtbot.waitUntil(lambda: "/sdapi/v1/refresh-checkpoints" in REFRESHES, timeout=15000)


def test_the_console_wraps_long_lines(qtbot, make_window) -> None:
    for lang in ("en", "zh"):
        window = make_window(lang=lang, show=True)
        window.resize(1000, 700)
        window.ctx.console.extend(["Loading " + "/a/very/long/path/without/any/spaces" * 12 + "/model.safetensors",
                                   "Running on local URL:  http://127.0.0.1:7860"])
        window.show_page("console")
        page = window.pages["console"]
        qtbot.waitUntil(lambda page=page: page.view.blockCount() >= 2, timeout=5000)
        view = page.view
        assert view.horizontalScrollBar().maximum() == 0  # nothing to scroll sideways to
        first = view.document().firstBlock()
        assert first.layout().lineCount() > 1
        _shot(window, f"launcher-console-wrap-{lang}.png")


def test_the_engine_command_line_is_quoted_and_short(tmp_path: Path) -> None:
    import shlex
    import sys

    home = tmp_path / "my home 家"
    shown = shown_command([sys.executable, "-m", "engine", "--home", str(home), "--api-auth", "me:secret"])
    assert shown.startswith(Path(sys.executable).name + " -m engine")
    assert shlex.split(shown)[4] == str(home) and "secret" not in shown

