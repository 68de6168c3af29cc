"""``maple-models`` end to end: real files, a real local HTTP server, the real downloader."""

from __future__ import annotations

import functools
import http.server
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import installer.store.model_store as store_mod
from installer.cli.models import main
from installer.home import Home
from installer.settings import load_settings
from tests.conftest import serving
from tests.installer.st_files import (
    LORA,
    SD1_CHECKPOINT,
    VAE,
    point_trash_at,
    sha256,
    tensor_sha256,
    write_st,
)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    """A local file server (no internet): (base URL, the folder it serves)."""
    root = tmp_path / "served"
    root.mkdir()
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with serving(http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root)))) as httpd:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", root


def run(home: Home, *args: str) -> int:
    return main(["--home", str(home.root), *args])


def local_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, entries: list[dict]) -> None:
    path = tmp_path / f"catalog-{len(entries)}-{entries[0]['id']}.json"
    path.write_text(json.dumps({"models": entries}), encoding="utf-8")
    monkeypatch.setenv("MAPLE_CATALOG", str(path))


def catalog_entry(entry_id: str, file: Path, url: str, kind: str = "lora") -> dict:
    return {"id": entry_id, "name": entry_id, "kind": kind, "arch": "sd1", "file": file.name,
            "size": file.stat().st_size, "sha256": sha256(file), "verified": True, "license": "mit",
            "description": {"en": "A test model", "zh": "测试模型"}, "sources": [{"name": "huggingface", "url": url}]}


def test_list_shows_models_and_broken_files_with_what_to_do(home: Home, capsys: pytest.CaptureFixture[str]) -> None:
    write_st(home.models_dir("checkpoint") / "anime" / "any.safetensors", SD1_CHECKPOINT)
    write_st(home.models_dir("lora") / "ink.safetensors", LORA)
    (home.models_dir("vae") / "vae.safetensors").write_text("version https://git-lfs.github.com/spec/v1\noid x\n")
    write_st(home.models_dir("checkpoint") / "maple-demo.safetensors", SD1_CHECKPOINT, seed=2,
             metadata={"maple.demo": "1"})
    assert run(home, "list") == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["KIND", "NAME", "ARCH", "SIZE", "HASH", "STATE", "WHERE"]
    row = {line.split()[1]: line for line in lines[1:5]}
    for line in row.values():  # the columns line up under their headers; sizes end under SIZE
        state = line.split()[-2]
        assert line.index(f"  {state}  ") + 2 == lines[0].index("STATE")
        assert line.index(" home") + 1 == lines[0].index("WHERE")
        assert line[lines[0].index("SIZE") + 3] == "B"
    assert "SD1.x" in row["anime/any.safetensors"] and "KB" in row["anime/any.safetensors"]
    assert "[demo]" in row["maple-demo.safetensors"] and "[demo]" not in row["anime/any.safetensors"]
    assert "unhashed" in row["ink.safetensors"] and "broken" in row["vae.safetensors"]
    legend = out.split("Legend:")[1]
    assert "unhashed  not hashed yet" in legend and "broken    not a usable model file" in legend
    assert "[demo]    Maple's demo model" in legend and "unknown" not in legend
    assert "Files that cannot be used (1)" in out and "git-LFS pointer" in out  # the detail, after...
    assert "This is a Git LFS pointer, not the model: download the real file." in out  # ...the plain sentence
    assert "maple-models rm vae.safetensors" in out
    assert run(home, "list", "--kind", "lora", "--json") == 0
    [lora] = json.loads(capsys.readouterr().out)
    assert (lora["name"], lora["kind"], lora["state"]) == ("ink.safetensors", "lora", "unhashed")


def test_list_hash_computes_once_and_the_cache_serves_the_next_run(
    home: Home, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lora = write_st(home.models_dir("lora") / "ink.safetensors", LORA)
    assert run(home, "list", "--hash") == 0
    out = capsys.readouterr().out
    assert tensor_sha256(lora)[:12] in out
    assert "unknown   not in Maple's catalog, so there is no hash to check it against" in out
    assert "unhashed" not in out and "[demo]" not in out
    calls: list[Path] = []
    real = store_mod.sha256_file_split
    monkeypatch.setattr(store_mod, "sha256_file_split", lambda p, *a, **k: calls.append(p) or real(p, *a, **k))
    assert run(home, "list", "--hash", "--json") == 0
    [entry] = json.loads(capsys.readouterr().out)
    assert calls == [] and entry["sha256"] == sha256(lora) and entry["lora_hash"] == tensor_sha256(lora)[:12]


def test_add_folder_uses_another_install_in_place(home: Home, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    aki = tmp_path / "sd-webui-aki-v4"
    model = write_st(aki / "models" / "Stable-diffusion" / "anything-v5.safetensors", SD1_CHECKPOINT)
    write_st(aki / "models" / "VAE" / "vae.safetensors", VAE)
    assert run(home, "add-folder", str(aki)) == 0
    assert "1 checkpoint, 1 VAE found" in capsys.readouterr().out
    assert load_settings(home.settings_file).settings.shared_folders == [str(aki)]
    assert run(home, "add-folder", str(aki)) == 0 and "already in use" in capsys.readouterr().out
    assert load_settings(home.settings_file).settings.shared_folders == [str(aki)]
    assert run(home, "list", "--json") == 0
    [ckpt, vae] = json.loads(capsys.readouterr().out)
    assert ckpt["path"] == str(model) and ckpt["location"] == str(aki)
    assert not list(home.models_dir("checkpoint").iterdir())
    assert run(home, "add-folder", str(tmp_path / "missing")) == 1
    err = capsys.readouterr().err
    assert "is not a folder" in err and "what to do:" in err


def test_rm_sends_to_the_trash_and_refuses_shared_files(
    home: Home, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    trash = point_trash_at(tmp_path / "xdg", monkeypatch)
    mine = write_st(home.models_dir("lora") / "mine.safetensors", LORA)
    theirs = write_st(tmp_path / "webui" / "models" / "Lora" / "theirs.safetensors", LORA, seed=3)
    assert run(home, "add-folder", str(tmp_path / "webui")) == 0
    assert run(home, "rm", "mine") == 0
    assert not mine.exists() and (trash / "mine.safetensors").exists()
    assert run(home, "rm", "theirs.safetensors") == 1
    assert "shared folder" in capsys.readouterr().err and theirs.exists()
    assert run(home, "rm", "nothing-like-this") == 1
    assert "No model named" in capsys.readouterr().err


def test_verify_finds_a_damaged_file(home: Home, capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    good = write_st(tmp_path / "ref" / "detail.safetensors", LORA, seed=5)
    local_catalog(tmp_path, monkeypatch, [catalog_entry("detail", good, "http://127.0.0.1:9/x")])
    target = home.models_dir("lora") / "detail.safetensors"
    target.write_bytes(good.read_bytes())
    assert run(home, "verify", "--all") == 0
    assert "detail.safetensors: verified" in capsys.readouterr().out
    raw = bytearray(target.read_bytes())
    raw[-1] ^= 1
    target.write_bytes(bytes(raw))
    assert run(home, "verify", "detail") == 1
    captured = capsys.readouterr()
    assert "mismatch" in captured.out and "download them again" in captured.err
    assert run(home, "list") == 0
    out = capsys.readouterr().out
    assert "mismatch  named like a catalog file but holds other bytes" in out.split("Legend:")[1]
    assert "Not what their name says (1)" in out and str(target) in out


def test_catalog_lists_ids_and_what_is_installed(home: Home, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(home, "catalog") == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "KIND", "ARCH", "SIZE", "HASH", "INSTALLED", "NAME"]
    row = {line.split()[0]: line for line in lines[1:-2] if not line.startswith(" ")}
    assert "GB" in row["sd15"] and "verified" in row["sd15"]
    assert "from source" in "".join(row.values()) and " ? " in row["anything-v5"]
    for line in row.values():  # the KIND and HASH columns line up under their headers
        assert line.index("  " + line.split()[1] + " ") + 2 == lines[0].index("KIND")
        assert line[lines[0].index("HASH"):].startswith(("verified", "not confirmed", "from source"))
    assert lines[-1].startswith("Size ? = not known for certain") and "its source publishes" in lines[-1]
    assert run(home, "catalog", "--json") == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["sdxl-vae-fp16-fix"]["verified"] and not rows["sd15"]["installed"]


def test_pull_a_link_from_a_local_server(home: Home, server: tuple[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    base, root = server
    lora = write_st(root / "detail.safetensors", LORA, seed=9)
    assert run(home, "pull", f"{base}/detail.safetensors", "--sha256", sha256(lora), "--kind", "lora") == 0
    out = capsys.readouterr().out
    landed = home.models_dir("lora") / "detail.safetensors"
    assert landed.read_bytes() == lora.read_bytes()
    assert "matches the published sha256" in out and tensor_sha256(lora)[:12] in out
    assert [p.name for p in home.models_dir("lora").iterdir()] == ["detail.safetensors"]  # no .part left


def test_pull_a_catalog_id_and_it_shows_as_installed(
    home: Home, tmp_path: Path, server: tuple[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, root = server
    vae = write_st(root / "remote-name.safetensors", VAE, seed=4)
    entry = catalog_entry("tiny-vae", vae, f"{base}/remote-name.safetensors", kind="vae")
    entry["file"] = "tiny-vae.safetensors"
    local_catalog(tmp_path, monkeypatch, [entry])
    assert run(home, "pull", "tiny-vae") == 0
    assert "Maple's catalog entry tiny-vae" in capsys.readouterr().out
    assert (home.models_dir("vae") / "tiny-vae.safetensors").read_bytes() == vae.read_bytes()
    calls: list[Path] = []
    monkeypatch.setattr(store_mod, "sha256_file_split", lambda p, *a, **k: calls.append(p))
    assert run(home, "catalog", "--json") == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["installed"] is True
    assert run(home, "list", "--hash", "--json") == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert (listed["state"], listed["arch"], listed["sha256"]) == ("verified", "sd1", sha256(vae))
    assert calls == []  # the hash computed while downloading was kept: nothing was read twice


def test_pull_a_catalog_controlnet_lands_in_the_controlnet_folder(
    home: Home, tmp_path: Path, server: tuple[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np
    from safetensors.numpy import save_file

    base, root = server
    remote = root / "control_v11p_sd15_canny.safetensors"  # an A1111-layout ControlNet's telling tensors, tiny
    save_file({"control_model.input_hint_block.0.weight": np.zeros((4, 3, 3, 3), np.float32),
               "control_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": np.zeros((8, 768), np.float32)},
              str(remote))
    local_catalog(tmp_path, monkeypatch, [catalog_entry("tiny-canny", remote, f"{base}/{remote.name}", kind="controlnet")])
    assert run(home, "pull", "tiny-canny") == 0
    capsys.readouterr()
    landed = home.root / "models" / "ControlNet" / remote.name
    assert landed.read_bytes() == remote.read_bytes()
    assert run(home, "list", "--kind", "controlnet", "--json") == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert (listed["kind"], listed["arch"], listed["catalog_id"]) == ("controlnet", "sd1", "tiny-canny")


def test_pull_refuses_wrong_bytes_and_says_why(home: Home, server: tuple[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    base, root = server
    write_st(root / "model.safetensors", SD1_CHECKPOINT)
    assert run(home, "pull", f"{base}/model.safetensors", "--sha256", "0" * 64, "--kind", "checkpoint") == 1
    err = capsys.readouterr().err
    assert "sha256" in err and "what to do:" in err
    assert list(home.models_dir("checkpoint").glob("*.safetensors")) == []


def test_pull_an_unknown_id_suggests_the_close_ones(home: Home, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(home, "pull", "sdxl-vae-fp16") == 1
    err = capsys.readouterr().err
    assert "neither a catalog id nor a link" in err and "sdxl-vae-fp16-fix" in err


def test_the_command_runs_as_a_program(home: Home) -> None:
    write_st(home.models_dir("checkpoint") / "a.safetensors", SD1_CHECKPOINT)
    done = subprocess.run([sys.executable, "-m", "installer.cli.models", "--home", str(home.root), "list", "--json"],
                          capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert [e["name"] for e in json.loads(done.stdout)] == ["a.safetensors"]
    usage = subprocess.run([sys.executable, "-m", "installer.cli.models", "verify"], capture_output=True, text=True,
                           timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert usage.returncode == 2 and "NAME or --all" in usage.stderr


def _ctrl_c_as_in_a_terminal() -> None:
    """The child gets SIGINT as a shell's child does, whatever this test process did to it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def test_ctrl_c_pauses_a_pull_and_the_same_command_resumes(home: Home, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.installer.fault_server import Faults, FaultServer

    model = write_st(tmp_path / "big.safetensors", {"lora_unet_x.lora_down.weight": [1536, 1024]}, seed=6)
    repo = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    landed = home.models_dir("lora") / "big.safetensors"
    part = landed.with_name(landed.name + ".part")
    with FaultServer() as server:
        # Slow enough that the pull is still running when Ctrl-C comes, with several connections too.
        url = server.add("/big.safetensors", model, Faults(rate=20_000), etag='"v1"')
        cmd = [sys.executable, "-m", "installer.cli.models", "--home", str(home.root), "pull", url,
               "--sha256", sha256(model), "--kind", "lora"]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=repo, env=env,
                                preexec_fn=_ctrl_c_as_in_a_terminal)
        deadline = time.monotonic() + 30
        while not (part.exists() and part.stat().st_size > 0) and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        assert "Paused" in err and "again to resume" in err
        assert part.exists() and not landed.exists()
        server.resources["/big.safetensors"].faults.rate = None
        again = subprocess.run(cmd, capture_output=True, text=True, cwd=repo, env=env, timeout=60)
        assert again.returncode == 0, again.stderr
        assert landed.read_bytes() == model.read_bytes() and not part.exists()
        assert any("Range" in h for h in server.requests_for("/big.safetensors")[-8:])


def test_progress_bars_redraw_on_a_terminal_and_stay_quiet_in_a_log(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from installer.cli.progress import ProgressBar

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setenv("COLUMNS", "60")
    term, log = Terminal(), io.StringIO()
    for stream in (term, log):
        bar = ProgressBar("sd_xl_base_1.0.safetensors", stream=stream, rate=1e9)
        for done in range(0, 6_938_078_334, 700_000_000):
            bar.update(done, 6_938_078_334, speed=50e6)
        bar.close()
    frames = term.getvalue().split("\r")[1:]
    assert len(frames) >= 10 and all(len(f.rstrip("\n")) <= 59 for f in frames)
    assert log.getvalue().count("\n") == 1 and "\r" not in log.getvalue() and "6.9 GB" in log.getvalue()
