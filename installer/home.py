"""The data home: where a user's models, outputs, settings, caches and logs live.

Resolution order: an explicit ``--home``, then ``MAPLE_HOME``, then portable mode (a file named
``maple-portable`` beside the program puts the home in a ``data`` folder next to it), then the
platform's user data folder. The layout inside is AUTOMATIC1111's, so an existing A1111 folder can
be used as a home or added as a shared folder.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from installer.errors import HomeError

ENV_VAR = "MAPLE_HOME"
PORTABLE_MARKER = "maple-portable"
APP_NAME = "Maple"

CHECKPOINT_DIR = "models/Stable-diffusion"
VAE_DIR = "models/VAE"
LORA_DIR = "models/Lora"
TAESD_DIR = "models/VAE-approx"
EMBEDDING_DIR = "embeddings"  # A1111's and the 秋叶 bundle's place, beside models/
CONTROLNET_DIR = "models/ControlNet"  # A1111's; the 秋叶 bundle's extension keeps its own (below)
UPSCALER_DIR = "models/ESRGAN"  # where Maple puts upscaler downloads (Forge Neo keeps them all here)
MODEL_DIRS = {"checkpoint": CHECKPOINT_DIR, "vae": VAE_DIR, "lora": LORA_DIR, "taesd": TAESD_DIR,
              "embedding": EMBEDDING_DIR, "upscaler": UPSCALER_DIR, "controlnet": CONTROLNET_DIR}
# More folders holding a kind, read when they exist: Forge Neo keeps embeddings in models/embeddings;
# A1111 keeps each upscaler family in its own folder.
EXTRA_MODEL_DIRS: dict[str, tuple[str, ...]] = {
    "lora": ("models/LyCORIS",),  # A1111's LyCORIS extension's folder (LoHa / LoKr files)
    "embedding": ("models/embeddings",),
    "upscaler": ("models/RealESRGAN", "models/SwinIR", "models/DAT"),
    "controlnet": ("extensions/sd-webui-controlnet/models",),
}
LAYOUT = (
    CHECKPOINT_DIR,
    VAE_DIR,
    LORA_DIR,
    TAESD_DIR,
    EMBEDDING_DIR,
    UPSCALER_DIR,
    "outputs/txt2img-images",
    "outputs/img2img-images",
    "cache",
    "logs",
)


@dataclass(frozen=True)
class Home:
    """A resolved data home. ``ensure()`` creates the A1111 layout on first use."""

    root: Path

    @property
    def settings_file(self) -> Path:
        return self.root / "settings.json"

    @property
    def cache_dir(self) -> Path:
        return self.root / "cache"

    @property
    def logs_dir(self) -> Path:
        return self.root / "logs"

    @property
    def outputs_dir(self) -> Path:
        return self.root / "outputs"

    def models_dir(self, kind: str) -> Path:
        return self.root / MODEL_DIRS[kind]

    def ensure(self) -> Home:
        try:
            for rel in LAYOUT:
                (self.root / rel).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HomeError(f"Cannot create the data home at {self.root}: {exc.strerror or exc}") from exc
        return self


def program_dir() -> Path:
    """The folder of the running program (the frozen executable, or the checkout)."""
    if getattr(sys, "frozen", False):
        return Path(sys.executable).resolve().parent
    return Path(__file__).resolve().parent.parent


def default_root(platform: str | None = None) -> Path:
    """The user's data folder: on Windows ``%LOCALAPPDATA%\\Maple`` (local, not roaming: models are
    gigabytes and must not sync between PCs), elsewhere the platform's own."""
    if (platform or sys.platform) == "win32":
        from platformdirs.windows import Windows

        return Path(Windows(appname=APP_NAME, appauthor=False, roaming=False).user_data_dir)
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def resolve_home(explicit: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None) -> Home:
    """Find the data home without creating anything."""
    env = dict(os.environ) if env is None else env
    if explicit:
        return Home(Path(explicit).expanduser().absolute())
    if env.get(ENV_VAR):
        return Home(Path(env[ENV_VAR]).expanduser().absolute())
    prog = program_dir()
    if (prog / PORTABLE_MARKER).exists():
        return Home(prog / "data")
    return Home(default_root())


MODEL_EXTENSIONS = {
    "checkpoint": (".safetensors", ".ckpt"),
    "vae": (".safetensors", ".ckpt", ".pt"),
    "lora": (".safetensors",),
    "taesd": (".safetensors", ".pth"),
    "embedding": (".safetensors", ".pt", ".bin"),
    "upscaler": (".safetensors", ".pth", ".pt"),
}


def kind_dirs(kind: str) -> tuple[str, ...]:
    """Every folder (relative to a home or an A1111 root) that holds models of ``kind``."""
    return (MODEL_DIRS[kind], *EXTRA_MODEL_DIRS.get(kind, ()))


def model_folders(home: Home, shared: list[str] | tuple[str, ...], kind: str) -> list[Path]:
    """The folders holding models of ``kind``: the home's, then each shared A1111/秋叶 root's.

    A shared folder may be an A1111 root (``models/...`` inside) or a folder of model files itself.
    """
    folders = [home.models_dir(kind)]
    for entry in shared:
        root = Path(entry).expanduser()
        candidate = root / MODEL_DIRS[kind]
        folders.append(candidate if (root / "models").is_dir() else root)
    seen: set[Path] = set()
    unique = []
    for folder in folders:
        key = folder.resolve() if folder.exists() else folder
        if key not in seen:
            seen.add(key)
            unique.append(folder)
    return unique
