"""``settings.json``: typed, versioned, written atomically, never silently thrown away.

A file that cannot be read (bad JSON, wrong types, a newer version) is copied to
``settings.json.broken-<timestamp>`` and reported; Maple then continues with defaults so the user
is never locked out. Unknown keys from a newer Maple are kept on save.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from installer.access import credential_problem, normalize_host, normalize_origin, split_list
from installer.contract import DEFAULT_PORT, Device, Precision, VramMode
from installer.errors import SettingsError

log = logging.getLogger(__name__)

SETTINGS_VERSION = 1

Language = Literal["system", "zh", "en"]
Theme = Literal["system", "light", "dark"]
DownloadSource = Literal["auto", "huggingface", "hf-mirror", "modelscope", "civitai"]


class Settings(BaseModel):
    """Everything the user can choose. Defaults are what a new user gets."""

    model_config = ConfigDict(extra="allow", validate_assignment=True)

    version: int = SETTINGS_VERSION
    language: Language = "system"
    theme: Theme = "system"
    port: int = Field(default=DEFAULT_PORT, ge=1, le=65535)
    listen: bool = False
    api_auth: str = ""
    allowed_hosts: list[str] = Field(default_factory=list)  # with listen: Host names served ([] = this machine's)
    cors_allow_origins: list[str] = Field(default_factory=list)  # web sites granted CORS, as A1111's flag
    device: Device = "auto"
    precision: Precision = "auto"
    vram_mode: VramMode = "auto"
    model: str = ""
    open_browser: bool = True
    restart_on_crash: bool = False
    allow_pickle: bool = False
    download_source: DownloadSource = "auto"
    proxy: str = ""
    # Where the engine installer gets packages: "" = the default package index / PyTorch's own
    # index; a mirror URL otherwise ({variant} in torch_index becomes cu130, cu126, cpu, ...).
    package_index: str = ""
    torch_index: str = ""
    hf_token: str = ""
    civitai_token: str = ""
    shared_folders: list[str] = Field(default_factory=list)
    window: dict[str, Any] = Field(default_factory=dict)

    @field_validator("api_auth")
    @classmethod
    def _auth_form(cls, value: str) -> str:
        problem = credential_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        return [normalize_host(item) for item in split_list(value)]

    @field_validator("cors_allow_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        return [normalize_origin(item) for item in split_list(value)]

    def public_dict(self) -> dict[str, Any]:
        """The settings without secrets, for diagnostic bundles."""
        data = self.model_dump()
        for key in ("hf_token", "civitai_token", "api_auth"):
            if data.get(key):
                data[key] = "***"
        return data


@dataclass
class LoadResult:
    settings: Settings
    problems: list[str] = field(default_factory=list)
    backup: Path | None = None


def _migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring an older file up to the current version (version 0 had no version key)."""
    version = data.get("version", 0)
    if not isinstance(version, int):
        raise SettingsError(f"settings.json has a version that is not a number: {version!r}")
    if version > SETTINGS_VERSION:
        raise SettingsError(
            f"settings.json was written by a newer Maple (version {version}, this one reads {SETTINGS_VERSION})"
        )
    if version < 1:
        data = dict(data)
        if "lang" in data and "language" not in data:
            data["language"] = data.pop("lang")
        data["version"] = 1
    return data


def _backup(path: Path, tag: str = "broken") -> Path:
    """Copy ``path`` beside itself; a copy with the same bytes already there is reused."""
    data = path.read_bytes()
    for existing in sorted(path.parent.glob(f"{path.name}.{tag}-*")):
        if existing.is_file() and existing.read_bytes() == data:
            return existing
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backup = path.with_name(f"{path.name}.{tag}-{stamp}")
    n = 1
    while backup.exists():
        backup = path.with_name(f"{path.name}.{tag}-{stamp}-{n}")
        n += 1
    shutil.copy2(path, backup)
    return backup


def load_settings(path: Path) -> LoadResult:
    """Read settings; a missing file gives defaults, a broken one gives defaults, a backup and a problem."""
    if not path.exists():
        return LoadResult(Settings())
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise SettingsError("settings.json does not hold a JSON object")
        settings = Settings.model_validate(_migrate(raw))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValidationError, SettingsError) as exc:
        return _unreadable(path, exc)
    if raw.get("version") != SETTINGS_VERSION:
        # The next save overwrites the old file: keep it, as an older Maple may still want it.
        return LoadResult(settings, backup=_backup(path, f"v{raw.get('version', 0)}"))
    return LoadResult(settings)


def _unreadable(path: Path, exc: Exception) -> LoadResult:
    reason = _describe(exc)
    try:
        backup = _backup(path)
    except OSError as copy_exc:
        log.error("settings.json could not be read (%s) nor copied (%s)", reason, copy_exc)
        return LoadResult(Settings(), [f"settings.json could not be read: {reason}. It was left in place."])
    log.warning("settings.json could not be read (%s); a copy was kept at %s", reason, backup)
    return LoadResult(Settings(), [f"settings.json could not be read: {reason}. A copy was kept at {backup}."], backup)


def _describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "file"
        return f"{where}: {first['msg']}"
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON (line {exc.lineno}, column {exc.colno})"
    if isinstance(exc, SettingsError):
        return exc.message
    return str(exc)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` so that readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_settings(path: Path, settings: Settings) -> None:
    write_atomic(path, json.dumps(settings.model_dump(), indent=2, ensure_ascii=False) + "\n")
