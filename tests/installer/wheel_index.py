"""Tiny real wheels and a local PEP 503 package index for the engine installer's tests.

The fake torch is a real wheel named like PyTorch's builds (``torch-2.13.0+cu130-py3-none-any.whl``)
whose ``torch.cuda`` answers ``is_available()`` and ``get_arch_list()`` as the test says, so the
installer's child-process check runs for real. The index is served by :class:`FaultServer`, so
tests can slow it down, cut it or make it fail.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import quote

from tests.installer.fault_server import Faults, FaultServer


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def make_wheel(folder: Path, name: str, version: str, files: Mapping[str, str | bytes],
               requires: Iterable[str] = (), tag: str = "py3-none-any") -> Path:
    """A valid wheel (METADATA, WHEEL, RECORD) holding ``files``."""
    dist = f"{re.sub(r'[-.]+', '_', name)}-{version}.dist-info"
    meta = "Metadata-Version: 2.1\nName: {}\nVersion: {}\n{}".format(
        name, version, "".join(f"Requires-Dist: {r}\n" for r in requires))
    content: dict[str, bytes] = {k: v.encode() if isinstance(v, str) else v for k, v in files.items()}
    content[f"{dist}/METADATA"] = meta.encode()
    content[f"{dist}/WHEEL"] = f"Wheel-Version: 1.0\nGenerator: maple-tests\nRoot-Is-Purelib: true\nTag: {tag}\n".encode()
    record = [_record_line(p, d) for p, d in content.items()] + [f"{dist}/RECORD,,"]
    content[f"{dist}/RECORD"] = ("\n".join(record) + "\n").encode()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{re.sub(r'[-]+', '_', name)}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in content.items():
            zf.writestr(member, data)
    return path


def fake_torch(folder: Path, variant: str = "cu130", cuda: bool = True, arch_list: Iterable[str] = (),
               version: str = "2.13.0", padding: int = 0, broken: bool = False) -> Path:
    """``padding`` bytes of incompressible data make the wheel as big as a test needs."""
    local = f"+{variant}" if variant else ""
    cuda_version = f"'{variant[2:-1]}.{variant[-1]}'" if variant.startswith("cu") else "None"
    files: dict[str, str | bytes] = {
        "torch/__init__.py": ("raise ImportError('DLL load failed while importing _C')\n" if broken else
                              f"__version__ = '{version}{local}'\nfrom torch import cuda, version\n"),
        "torch/version.py": f"__version__ = '{version}{local}'\ncuda = {cuda_version}\n",
        "torch/cuda.py": (f"def is_available():\n    return {cuda!r}\n\n"
                          f"def get_arch_list():\n    return {list(arch_list)!r}\n\n"
                          "def get_device_name(index=0):\n    return 'Fake NVIDIA GPU'\n"),
    }
    if padding:
        files["torch/lib/blob.bin"] = _noise(padding)
    return make_wheel(folder, "torch", f"{version}{local}", files)


def fake_torchvision(folder: Path, variant: str = "cu130", version: str = "0.28.0") -> Path:
    local = f"+{variant}" if variant else ""
    return make_wheel(folder, "torchvision", f"{version}{local}", {"torchvision/__init__.py": f"__version__ = '{version}{local}'\n"},
                      requires=[f"torch==2.13.0{local}"])


def fake_package(folder: Path, name: str, version: str, requires: Iterable[str] = ()) -> Path:
    module = name.replace("-", "_")
    return make_wheel(folder, name, version, {f"{module}/__init__.py": f"__version__ = '{version}'\n"}, requires)


def _noise(size: int) -> bytes:
    import random

    return random.Random(size).randbytes(size)  # incompressible: the wheel is as big as asked


class LocalIndex:
    """A PEP 503 "simple" index on a FaultServer: ``/simple/<name>/`` pages linking ``/files/<wheel>``."""

    def __init__(self, server: FaultServer, prefix: str = "") -> None:
        self.server = server
        self.prefix = prefix
        self.projects: dict[str, list[Path]] = {}

    @property
    def url(self) -> str:
        return self.server.url(f"{self.prefix}/simple/")

    def add(self, wheel: Path, faults: Faults | None = None) -> str:
        name = re.sub(r"[-_.]+", "-", wheel.name.split("-")[0]).lower()
        self.projects.setdefault(name, []).append(wheel)
        url = self.server.add(f"{self.prefix}/files/{wheel.name}", wheel, faults)
        self.server.resources[f"{self.prefix}/files/{quote(wheel.name)}"] = self.server.resources[f"{self.prefix}/files/{wheel.name}"]
        metadata = _metadata(wheel)  # PEP 658: resolvers read this instead of downloading the wheel
        for path in (f"{self.prefix}/files/{wheel.name}.metadata", f"{self.prefix}/files/{quote(wheel.name)}.metadata"):
            self.server.add(path, metadata)
        links = "".join(self._link(w) for w in self.projects[name])
        page = f"<!DOCTYPE html><html><body>\n{links}</body></html>\n".encode()
        for path in (f"{self.prefix}/simple/{name}/", f"{self.prefix}/simple/{name}"):
            self.server.add(path, page, Faults(content_type="text/html"))
        return url

    def _link(self, wheel: Path) -> str:
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        meta = hashlib.sha256(_metadata(wheel)).hexdigest()
        return (f'<a href="{self.prefix}/files/{html.escape(wheel.name)}#sha256={digest}" '
                f'data-dist-info-metadata="sha256={meta}" data-core-metadata="sha256={meta}">{html.escape(wheel.name)}</a>\n')


def _metadata(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        return zf.read(name)
