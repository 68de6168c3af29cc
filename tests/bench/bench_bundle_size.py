"""The Windows zip's size without and with the engine's packages, side by side.

    .venv/bin/python tests/bench/bench_bundle_size.py [--zip dist/Maple-<v>-win64.zip]

Without --zip it builds the bundle first (scripts/build_bundle.py). The engine's packages are the
Windows wheels of what the first-run install fetches (torch, torchvision and the engine extra),
downloaded once with ``pip download --platform win_amd64`` into the bundle cache. pip judges
environment markers by the machine it runs on (it would ask for torch's Linux-only CUDA
libraries), so each level of requirements is downloaded with ``--no-deps`` and the next level is
read from the wheels' metadata with the markers judged for 64-bit Windows. PyTorch's own
index (the CUDA builds) cannot be reached from this machine, so torch here is the default index's
win_amd64 wheel, which is the CPU build: a CUDA build is far bigger and is not measured.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from installer.engine_install.builds import TORCH_VERSION, TORCHVISION_VERSION  # noqa: E402
from installer.engine_install.requirements import ENGINE_REQUIREMENTS  # noqa: E402
from scripts.bundle.build import Inputs, build, default_cache  # noqa: E402

WIN = ("--platform", "win_amd64", "--python-version", "3.13", "--implementation", "cp", "--only-binary=:all:")
MB = 1e6


WINDOWS = {"platform_system": "Windows", "sys_platform": "win32", "os_name": "nt", "platform_machine": "AMD64",
           "python_version": "3.13", "python_full_version": "3.13.2", "implementation_name": "cpython",
           "platform_python_implementation": "CPython", "extra": ""}


def download(folder: Path, wanted: list[str], *extra: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", *WIN,
                    "-c", str(ROOT / "constraints.txt"), "-d", str(folder), *extra, *wanted], check=True)


def windows_requirements(wheel: Path) -> list[str]:
    """``Requires-Dist`` of a wheel whose markers hold on 64-bit Windows with CPython 3.13."""
    from packaging.requirements import Requirement

    with zipfile.ZipFile(wheel) as zf:
        meta = zf.read(next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    wanted = []
    for line in meta.splitlines():
        if line.startswith("Requires-Dist:"):
            req = Requirement(line.split(":", 1)[1].strip())
            if req.marker is None or req.marker.evaluate(WINDOWS):
                req.marker = None
                wanted.append(str(req))
    return wanted


def _name(requirement: str) -> str:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    return canonicalize_name(Requirement(requirement).name)


def engine_wheels(cache: Path) -> list[Path]:
    """Every wheel of the engine's packages for Windows, level by level of requirements."""
    folder = cache / "engine-wheels"
    wanted = [f"torch=={TORCH_VERSION}", f"torchvision=={TORCHVISION_VERSION}",
              *(r for r in ENGINE_REQUIREMENTS if _name(r) not in ("torch", "torchvision"))]
    seen: set[str] = set()
    while wanted:
        download(folder, wanted, "--no-deps")
        seen.update(_name(r) for r in wanted)
        wheels = {_name(w.name.split("-")[0]): w for w in folder.glob("*.whl")}
        wanted = sorted({r for name in seen if name in wheels for r in windows_requirements(wheels[name])
                         if _name(r) not in seen})
    return sorted(w for w in folder.glob("*.whl") if _name(w.name.split("-")[0]) in seen)


def unpacked_zip_size(wheels: list[Path], work: Path) -> tuple[int, int]:
    """(bytes unpacked, bytes of a level-6 zip of them) for the wheels installed into a folder."""
    target = work / "engine-packages" / "packages"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-index",
                    "--no-deps", "--no-compile", "--target", str(target), *WIN, *map(str, wheels)], check=True)
    files = [p for p in target.rglob("*") if p.is_file()]
    archive = work / "engine.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for path in files:
            zf.write(path, path.relative_to(work).as_posix())
    return sum(p.stat().st_size for p in files), archive.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--zip", type=Path, help="a built bundle (default: build one now)")
    args = parser.parse_args()
    cache = default_cache()
    bundle_zip = args.zip or build(Inputs()).zip_path
    bundle = bundle_zip.stat().st_size
    wheels = engine_wheels(cache)
    download = sum(w.stat().st_size for w in wheels)
    torch = sum(w.stat().st_size for w in wheels if w.name.startswith("torch-"))
    with tempfile.TemporaryDirectory() as tmp:
        unpacked, engine_zip = unpacked_zip_size(wheels, Path(tmp))
    print(f"bundle zip without the engine: {bundle / MB:.1f} MB ({bundle_zip.name}; aim < 120 MB)")
    print(f"engine packages: {len(wheels)} Windows wheels, {download / MB:.1f} MB to download "
          f"(torch {torch / MB:.1f} MB: the default index's win_amd64 wheel, the CPU build), "
          f"{unpacked / MB:.1f} MB unpacked")
    print(f"a zip with the engine inside: {(bundle + engine_zip) / MB:.1f} MB, "
          f"ratio {(bundle + engine_zip) / bundle:.1f}x the zip without it")
    print(f"first-run download vs the zip itself: {download / bundle:.1f}x")


if __name__ == "__main__":
    main()
