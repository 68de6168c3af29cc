"""The engine install against a local package index: atomic, resumable, and clear when it cannot.

Real pip, a real local HTTP index (tests/installer/wheel_index.py), real child-process checks;
the fake torch answers torch.cuda as each test needs.
"""

from __future__ import annotations

import errno
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import filelock
import pytest

from installer.engine_install import fetch, install, location, tools
from installer.engine_install.builds import X86_CUDA13, X86_CUDA126
from installer.engine_install.choice import Choice, EngineMachine, Gpu, choose
from installer.engine_install.errors import (
    IndexUnreachableError,
    InstallBusyError,
    InstallCancelled,
    InstallDiskFullError,
    InstallPathError,
    UnsupportedChoiceError,
    VerifyFailedError,
)
from installer.engine_install.install import InstallRequest, install_engine
from installer.engine_install.location import Layout
from installer.engine_install.progress import InstallProgress
from tests.installer.fault_server import Faults, FaultServer
from tests.installer.wheel_index import LocalIndex, fake_package, fake_torch, fake_torchvision

pytestmark = pytest.mark.timeout(120)

RTX4090 = EngineMachine("linux", "x86_64", (Gpu("NVIDIA GeForce RTX 4090", "nvidia", (8, 9)),), "580.95.05", "13.0")
RTX5090 = EngineMachine("linux", "x86_64", (Gpu("NVIDIA GeForce RTX 5090", "nvidia", (12, 0)),), "580.95.05", "13.0")
CPU_ONLY = EngineMachine("linux", "x86_64")
ARCHS_13 = [f"sm_{a}{b}" for a, b in X86_CUDA13]
ARCHS_126 = [f"sm_{a}{b}" for a, b in X86_CUDA126]


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


def serve(server: FaultServer, folder: Path, variant: str = "cu130", cuda: bool = True, archs: list[str] | None = None,
          padding: int = 0, torch_faults: Faults | None = None, prefix: str = "") -> LocalIndex:
    index = LocalIndex(server, prefix)
    index.add(fake_torch(folder, variant, cuda, ARCHS_13 if archs is None else archs, padding=padding), torch_faults)
    index.add(fake_torchvision(folder, variant))
    index.add(fake_package(folder, "diffusers", "0.42.1"))
    return index


def request(root: Path, index: LocalIndex, choice: Choice, **kw: object) -> InstallRequest:
    return InstallRequest(choice, Layout(root), tools.Indexes(index.url, index.url), ("diffusers==0.42.1",), **kw)  # type: ignore[arg-type]


class Reports(list[InstallProgress]):
    def __call__(self, p: InstallProgress) -> None:
        self.append(p)


def test_install_is_verified_then_swapped_in_on_a_path_with_spaces_and_chinese(server, tmp_path) -> None:
    index = serve(server, tmp_path / "wheels")
    root = tmp_path / "Maple 秋叶 整合包" / "engine-packages"
    reports = Reports()
    result = install_engine(request(root, index, choose(RTX4090)), reports, threading.Event())
    where = Layout(root)
    assert result.manifest["torch"] == "2.13.0+cu130" and result.manifest["cuda"] is True
    assert location.read_manifest(where) == result.manifest
    assert (where.live / "torch" / "cuda.py").is_file() and (where.live / "diffusers").is_dir()
    assert not where.staging.exists() and not where.old.exists() and not where.downloads.exists()
    assert [p.phase for p in reports][-3:] == ["installing", "verifying", "done"]
    downloading = [p for p in reports if p.phase == "downloading"]
    assert downloading[-1].done == downloading[-1].total > 0
    path: list[str] = []
    assert location.activate(where, path) == where.live and path == [str(where.live)]


def test_a_build_that_cannot_use_the_gpu_is_never_swapped_in(server, tmp_path) -> None:
    good = serve(server, tmp_path / "good", prefix="/good")
    root = tmp_path / "engine"
    install_engine(request(root, good, choose(RTX4090)), Reports())
    before = location.read_manifest(Layout(root))
    broken = serve(server, tmp_path / "broken", cuda=False, prefix="/broken")
    with pytest.raises(VerifyFailedError, match=r"cannot use the NVIDIA GPU"):
        install_engine(request(root, broken, choose(RTX4090)), Reports())
    assert location.read_manifest(Layout(root)) == before  # the previous engine still works
    assert not Layout(root).staging.exists()


def test_a_build_without_the_cards_architecture_fails_the_check(server, tmp_path) -> None:
    index = serve(server, tmp_path / "w", archs=ARCHS_126)  # an sm_90-at-most build on an RTX 50 card
    with pytest.raises(VerifyFailedError, match=r"no code for this card \(sm_120\)"):
        install_engine(request(tmp_path / "engine", index, choose(RTX5090)), Reports())
    assert location.read_manifest(Layout(tmp_path / "engine")) is None


def test_cancel_keeps_what_was_downloaded_and_the_next_install_resumes(server, tmp_path) -> None:
    size = 3 * 1024 * 1024
    index = serve(server, tmp_path / "w", padding=size, torch_faults=Faults(rate=1.5e6))
    root = tmp_path / "engine"
    cancel = threading.Event()

    def progress(p: InstallProgress) -> None:
        if p.phase == "downloading" and p.done > 1024 * 1024:
            cancel.set()

    with pytest.raises(InstallCancelled):
        install_engine(request(root, index, choose(RTX4090)), progress, cancel)
    parts = list(Layout(root).downloads.glob("torch-*.part"))
    assert parts and parts[0].stat().st_size > 1024 * 1024
    assert location.read_manifest(Layout(root)) is None and not Layout(root).staging.exists()
    server.resources[next(p for p in server.resources if p.endswith(".whl") and "torch-" in p)].faults.rate = None
    reports = Reports()
    install_engine(request(root, index, choose(RTX4090)), reports)
    ranges = [h["Range"] for _m, path, h in server.log if "torch-2.13.0" in path and "Range" in h]
    assert ranges and ranges[-1].startswith("bytes=") and not ranges[-1].startswith("bytes=0-")
    assert location.read_manifest(Layout(root)) is not None
    speeds = [p.speed_bps for p in reports if p.phase == "downloading" and p.speed_bps > 0]
    assert speeds  # speed (and so time left) is reported while bytes arrive


def test_what_a_killed_install_left_is_cleaned_with_a_message(server, tmp_path) -> None:
    index = serve(server, tmp_path / "w")
    where = Layout(tmp_path / "engine")
    (where.staging / "torch").mkdir(parents=True)
    (where.staging / "torch" / "half.py").write_bytes(b"x" * 5000)
    result = install_engine(request(where.root, index, choose(RTX4090)), Reports())
    assert any("half-installed files" in note for note in result.notes)
    assert location.read_manifest(where) is not None


def test_a_swap_killed_half_way_puts_the_previous_engine_back(server, tmp_path) -> None:
    index = serve(server, tmp_path / "w")
    where = Layout(tmp_path / "engine")
    install_engine(request(where.root, index, choose(RTX4090)), Reports())
    where.live.rename(where.old)  # killed between the swap's two renames
    busy = filelock.FileLock(str(where.lock))
    with busy, pytest.raises(InstallBusyError):
        install_engine(request(where.root, index, choose(RTX4090)), Reports())
    from installer.engine_install.staging import recover

    notes = recover(where)
    assert location.read_manifest(where) is not None and "put back" in notes[0]


def test_an_unreachable_index_says_to_set_a_mirror(tmp_path) -> None:
    with FaultServer() as srv:
        dead = srv.url("/simple/")
    choice = choose(RTX4090)  # the server is gone: the port refuses connections
    req = InstallRequest(choice, Layout(tmp_path / "engine"), tools.Indexes(dead, dead), ("diffusers==0.42.1",))
    with pytest.raises(IndexUnreachableError) as caught:
        install_engine(req, Reports())
    assert "mirror" in caught.value.hint and "China" in caught.value.hint
    assert location.read_manifest(Layout(tmp_path / "engine")) is None


def test_too_little_disk_is_refused_before_anything_is_downloaded(server, tmp_path, monkeypatch) -> None:
    index = serve(server, tmp_path / "w")
    monkeypatch.setattr(fetch.shutil, "disk_usage", lambda _p: type("U", (), {"free": 10 * 1024**2})())
    with pytest.raises(InstallDiskFullError, match="Not enough disk space"):
        install_engine(request(tmp_path / "engine", index, choose(RTX4090)), Reports())
    assert not list((tmp_path / "engine" / "downloads").glob("*.whl"))


def test_a_disk_that_fills_while_unpacking_leaves_the_old_engine(server, tmp_path, monkeypatch) -> None:
    index = serve(server, tmp_path / "w")
    root = tmp_path / "engine"
    install_engine(request(root, index, choose(RTX4090)), Reports())
    before = location.read_manifest(Layout(root))
    full = (1, "ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device")
    monkeypatch.setattr(install, "run_tool", lambda *a, **k: full)
    with pytest.raises(InstallDiskFullError):
        install_engine(request(root, index, choose(RTX4090)), Reports())
    assert location.read_manifest(Layout(root)) == before and not Layout(root).staging.exists()


def test_a_read_only_folder_is_named(tmp_path, monkeypatch) -> None:
    def refuse(*_a: object, **_k: object) -> object:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr("installer.engine_install.staging.tempfile.mkstemp", refuse)
    with pytest.raises(InstallPathError, match="cannot write to"):
        install_engine(InstallRequest(choose(RTX4090), Layout(tmp_path / "ro")), Reports())


def test_an_over_long_path_on_windows_without_long_paths_is_refused_keeping_downloads(server, tmp_path) -> None:
    index = serve(server, tmp_path / "w")
    root = tmp_path / ("very-long-folder-name-" * 10) / "engine-packages"
    req = request(root, index, choose(RTX4090), platform="win32", long_paths=False)
    with pytest.raises(InstallPathError, match="Windows stops at 259") as caught:
        install_engine(req, Reports())
    assert "long paths" in caught.value.hint
    assert len(list(Layout(root).downloads.glob("*.whl"))) == 3  # nothing is lost
    install_engine(request(root, index, choose(RTX4090), platform="win32", long_paths=True), Reports())


def test_a_gpu_left_unused_needs_the_users_yes(server, tmp_path) -> None:
    amd = choose(EngineMachine("win32", "AMD64", (Gpu("AMD Radeon RX 7900 XTX", "amd"),)))
    with pytest.raises(UnsupportedChoiceError):
        install_engine(InstallRequest(amd, Layout(tmp_path / "engine")), Reports())
    index = serve(server, tmp_path / "w", variant="", cuda=False)
    result = install_engine(request(tmp_path / "engine", index, amd, consent=True), Reports())
    assert result.manifest["torch"] == "2.13.0" and result.manifest["cuda"] is False


def test_cpu_machine_gets_the_cpu_build_and_no_gpu_check(server, tmp_path) -> None:
    index = serve(server, tmp_path / "w", variant="cpu", cuda=False, archs=[])
    result = install_engine(request(tmp_path / "engine", index, choose(CPU_ONLY)), Reports())
    assert result.manifest["variant"] == "cpu" and result.manifest["torch"] == "2.13.0+cpu"


def test_engine_requirements_are_the_pyproject_extra() -> None:
    import tomllib

    from installer.engine_install.requirements import ENGINE_REQUIREMENTS

    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    extra = [r for r in pyproject["project"]["optional-dependencies"]["engine"]
             if not r.startswith(("torch>", "torchvision>"))]  # these two come from the choice, as a pair
    assert list(ENGINE_REQUIREMENTS) == extra


def test_the_plan_is_kept_and_reused(server, tmp_path) -> None:
    index = serve(server, tmp_path / "w")
    req = request(tmp_path / "engine", index, choose(RTX4090))
    plan = install.plan_for(req)
    assert plan.total_bytes > 0 and plan.sizes_known and plan.wheel("torch") is not None
    assert json.loads((tmp_path / "engine" / "plan.json").read_text())["key"] == plan.key
    hits = len(server.log)
    assert install.plan_for(req) == plan and len(server.log) == hits  # no second resolution
