"""A real engine process on a data home, seen from outside over HTTP: one Maple per home (the home
file, ``/maple/v1/info``, maple-doctor, the launcher attaching), shared folders that change while it
runs, the files that cannot be used (listed with their plain sentence, load errors translated), and
no VRAM words on the CPU."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from installer import running_engine
from installer.home import Home
from installer.settings import load_settings, save_settings
from installer.store.problems import SENTENCES, Problem
from tests.conftest import free_port
from tests.engine.tinymodels import _state, write_tiny_checkpoint

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]
ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "import sys; from installer.cli.models import main; sys.exit(main())"]


@dataclass
class Served:
    home: Home
    port: int
    proc: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=60) as resp:
            return json.loads(resp.read())

    def post(self, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        req = urllib.request.Request(self.url + path, data=json.dumps(body or {}).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                raw = resp.read()
                return resp.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    def checkpoints(self) -> set[str]:
        return {m["model_name"] for m in self.get("/sdapi/v1/sd-models")}


def _incomplete_checkpoint(path: Path) -> None:
    """An SD1 checkpoint without its text encoder: the header says SD1, the load cannot finish."""
    from engine.models.synth import write_checkpoint

    state = {k: v for k, v in _state("sd1", 0).items() if not k.startswith("cond_stage_model.")}
    write_checkpoint(path, state, {"maple.config": "tiny-sd1"})


def _populate(home: Home) -> None:
    folder = home.models_dir("checkpoint")
    write_tiny_checkpoint(folder / "tiny.safetensors")
    good = (folder / "tiny.safetensors").read_bytes()
    (folder / "cut.safetensors").write_bytes(good[: len(good) // 3])  # an interrupted download
    (folder / "notes.safetensors").write_text("these are my prompt notes, not a model\n", encoding="utf-8")
    _incomplete_checkpoint(folder / "partial.safetensors")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = Home(tmp_path_factory.mktemp("served") / "my home 家").ensure()
    _populate(home)
    port = free_port()
    save_settings(home.settings_file, load_settings(home.settings_file).settings.model_copy(update={"port": port}))
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "engine", "--home", str(home.root), "--port", str(port),
                             "--device", "cpu", "--model", "tiny.safetensors"], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, encoding="utf-8")
    engine = Served(home, port, proc)
    out = proc.stdout
    assert out is not None
    threading.Thread(target=lambda: engine.lines.extend(line.rstrip("\n") for line in out), daemon=True).start()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not any(line.startswith("Startup time:") for line in engine.lines):
        assert proc.poll() is None, "\n".join(engine.lines)
        time.sleep(0.5)
    assert any(line.startswith("Startup time:") for line in engine.lines), "\n".join(engine.lines)
    try:
        yield engine
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
        assert not running_engine.record_path(home.root).exists()  # the engine removed its home file


# -- one Maple per data home -------------------------------------------------------------------------
def test_the_engine_says_which_home_it_serves(served: Served) -> None:
    info = served.get("/maple/v1/info")
    assert running_engine.same_home(info["home"], served.home.root) and info["pid"] == served.proc.pid
    record = running_engine.read_record(served.home.root)
    assert record is not None and (record.pid, record.port) == (served.proc.pid, served.port)
    assert running_engine.find(served.home.root) == record


def _doctor(home: Path, port: int) -> dict[str, Any]:
    from installer.cli.doctor import main

    out = io.StringIO()
    with redirect_stdout(out):
        main(["--home", str(home), "--port", str(port), "--json", "--lang", "en"])
    report = json.loads(out.getvalue())
    return next(f for f in report["findings"] if f["id"] == "port")


def test_maple_doctor_knows_its_own_engine_from_a_foreign_program(served: Served, tmp_path: Path) -> None:
    here = _doctor(served.home.root, served.port)
    assert here["verdict"] == "ok" and "Maple's own engine for this data folder" in here["reason"], here
    assert "Close that program" not in here["hint"]
    elsewhere = _doctor(served.home.root, free_port())  # this home's engine runs on another port
    assert elsewhere["verdict"] == "ok" and served.url in elsewhere["reason"], elsewhere
    other = _doctor(tmp_path / "another home", served.port)
    assert other["verdict"] == "warning" and "another data folder" in other["reason"], other


def test_the_launcher_attaches_to_this_homes_engine_on_any_port(served: Served) -> None:
    from launcher.engine.command import plan_port

    wanted = free_port()
    plan = plan_port(wanted, served.home.root)
    assert plan.mine and plan.port == served.port and plan.existing is not None
    settings = load_settings(served.home.settings_file).settings
    save_settings(served.home.settings_file, settings.model_copy(update={"port": wanted}))
    try:
        env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
        done = subprocess.run([sys.executable, "-m", "launcher", "--headless", "--home", str(served.home.root),
                               "--lang", "en"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    finally:
        save_settings(served.home.settings_file, settings)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Maple is already running for this data folder." in done.stdout
    assert served.url in done.stdout and "Starting the engine" not in done.stdout
    assert "Close that program" not in done.stdout


# -- shared folders while running ------------------------------------------------------------------
def _settings_folders(home: Home, folders: list[str]) -> None:
    settings = load_settings(home.settings_file).settings
    save_settings(home.settings_file, settings.model_copy(update={"shared_folders": folders}))


def test_shared_folders_added_and_removed_reach_the_running_engine(served: Served, tmp_path: Path) -> None:
    first, second = tmp_path / "a1111 one", tmp_path / "flat two"
    write_tiny_checkpoint(first / "models" / "Stable-diffusion" / "shared-one.safetensors", seed=3)
    write_tiny_checkpoint(second / "shared-two.safetensors", seed=4)
    added = subprocess.run([*CLI, "--home", str(served.home.root), "add-folder", str(first)], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert added.returncode == 0, added.stderr
    assert "1 checkpoint found" in added.stdout and f"The running engine ({served.url}) lists them now." in added.stdout
    assert "shared-one" in served.checkpoints()  # at once: maple-models asked the engine to refresh
    _settings_folders(served.home, [str(first), str(second)])  # as the launcher's settings page does
    assert "shared-two" not in served.checkpoints()  # not before a refresh...
    assert served.post("/sdapi/v1/refresh-checkpoints")[0] == 200
    assert {"shared-one", "shared-two"} <= served.checkpoints()  # ...and at the next one
    _settings_folders(served.home, [str(second)])
    served.post("/sdapi/v1/refresh-vae")  # any refresh rescans
    names = served.checkpoints()
    assert "shared-two" in names and "shared-one" not in names
    _settings_folders(served.home, [])
    served.post("/sdapi/v1/refresh-checkpoints")


# -- files that cannot be used ---------------------------------------------------------------------
def _unusable(served: Served) -> dict[str, dict[str, Any]]:
    return {u["name"]: u for u in served.get("/maple/v1/unusable-models")}


def test_broken_files_stay_listed_with_the_sentence_the_cli_says_too(served: Served) -> None:
    found = _unusable(served)
    assert found["cut.safetensors"]["problem"] == Problem.TRUNCATED.value
    assert found["notes.safetensors"]["problem"] == Problem.NOT_A_MODEL.value
    assert found["notes.safetensors"]["sentence"] == SENTENCES[Problem.NOT_A_MODEL]
    assert not {"cut", "notes"} & served.checkpoints()  # A1111's list holds only what can load
    status, body = served.post("/sdapi/v1/options", {"sd_model_checkpoint": "cut.safetensors"})
    assert status == 400 and body["detail"].endswith(f"cut.safetensors: {SENTENCES[Problem.TRUNCATED]['en']}"), body
    listed = subprocess.run([*CLI, "--home", str(served.home.root), "list"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    for problem in (Problem.TRUNCATED, Problem.NOT_A_MODEL):
        assert SENTENCES[problem]["en"] in listed.stdout, listed.stdout


def test_a_failed_load_says_a_plain_sentence_and_the_file_joins_the_unusable(served: Served) -> None:
    status, body = served.post("/sdapi/v1/options", {"sd_model_checkpoint": "partial.safetensors"})
    assert status >= 400
    plain = {SENTENCES[p]["en"] for p in (Problem.INCOMPLETE_MODEL, Problem.LOAD_FAILED)}
    assert body["detail"] in plain, body
    assert "Error" not in body["detail"] and "Traceback" not in json.dumps(body)
    assert _unusable(served)["partial.safetensors"]["problem"] in {Problem.INCOMPLETE_MODEL.value, Problem.LOAD_FAILED.value}
    assert served.get("/sdapi/v1/options")["sd_model_checkpoint"].startswith("tiny.safetensors")  # still loaded
    log = (served.home.logs_dir / "engine.log").read_text(encoding="utf-8")
    assert "Could not load partial.safetensors" in log  # the detail stays in the log
    console = "\n".join(served.lines)
    assert "Not listing cut.safetensors: " + SENTENCES[Problem.TRUNCATED]["en"] in console


def test_no_vram_words_on_the_cpu(served: Served) -> None:
    assert served.get("/maple/v1/info")["vram_mode"] == ""
    assert not [line for line in served.lines if "VRAM" in line]
