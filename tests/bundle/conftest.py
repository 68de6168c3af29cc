"""The Windows bundle, built once per test session and unzipped where Windows users put it.

The build downloads wheels only on its first run (cached in ``MAPLE_BUNDLE_CACHE``, default
``~/.cache/maple/bundle``). Without osslsigncode or MinGW-w64 (``scripts/system-packages.sh``
installs them) the bundle tests skip; without Wine only the Wine tests do.
"""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.bundle.wine import CC, WineSession, wine_binary

if TYPE_CHECKING:
    from scripts.bundle.build import Result

# A folder name with spaces and Chinese characters, as 秋叶 users name theirs.
USER_FOLDER = "AI 绘画 整合包"
TOOLS = ("osslsigncode", CC, "x86_64-w64-mingw32-windres")


def _missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Result:
    missing = _missing_tools()
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (bash scripts/system-packages.sh installs them)")
    pytest.importorskip("pefile")
    from scripts.bundle.build import Inputs, build

    return build(Inputs(dist=tmp_path_factory.mktemp("dist")))


def unzip(built: Result, parent: Path) -> Path:
    """The zip extracted as a user would: the bundle folder inside a folder named like theirs."""
    target = parent / USER_FOLDER
    with zipfile.ZipFile(built.zip_path) as archive:
        archive.extractall(target)
    return target / built.folder_name


@pytest.fixture(scope="session")
def bundle(built: Result, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundle as unzipped, for the checks that only read it."""
    return unzip(built, tmp_path_factory.mktemp("unzipped"))


@pytest.fixture(scope="session")
def wine_bundle(built: Result, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of its own for the Wine tests, which write the data home and the engine into it."""
    return unzip(built, tmp_path_factory.mktemp("unzipped-wine"))


@pytest.fixture(scope="session")
def wine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WineSession]:
    if wine_binary() is None:
        pytest.skip("Wine is not installed (bash scripts/system-packages.sh installs it)")
    if shutil.which(CC) is None:
        pytest.skip(f"{CC} is not installed: the Wine shims cannot be built")
    session = WineSession(tmp_path_factory.mktemp("wineprefix"), tmp_path_factory.mktemp("wine-work")).start()
    try:
        yield session
    finally:
        session.stop()
