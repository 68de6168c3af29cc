"""The loaded checkpoint, VAE and LoRAs as the worker manages them, over engine/models.

Start-up: import torch, resolve the device, list the model folders, write the demo model when the
home has no checkpoint, load the chosen model. Later: switches, VAE changes, LoRA lookups and
refreshes. Only the worker thread calls the methods that change the model.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from engine.cli import EngineConfig
from engine.errors import EngineError, NotFoundError, UnsafeNameError
from engine.jobs import GenParams, GenResult, JobControl, LoraRef
from engine.models.loaded import LoadedModel
from engine.server.device import DeviceChoice
from engine.server.prepare import check_name

if TYPE_CHECKING:
    from engine.server.timing import StartupTimer

log = logging.getLogger(__name__)

VAE_BUILTIN = ("Automatic", "None")


class ModelManager:
    def __init__(self, config: EngineConfig) -> None:
        from engine.models.registry import ModelRegistry

        self.config = config
        self.registry = ModelRegistry(config.home, list(config.shared_folders))
        self.choice: DeviceChoice | None = None
        self.model: LoadedModel | None = None
        self.vae_choice = "Automatic"
        self.selected = ""  # the checkpoint chosen at start-up or through options
        self._tokenizer: Any = None

    # --- start-up ---
    def startup(self, timer: StartupTimer) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from engine.cli import with_machine_defaults

        with ThreadPoolExecutor(1, thread_name_prefix="maple-check") as pool:
            checked = pool.submit(with_machine_defaults, self.config)  # runs while torch imports
            with timer.phase("import torch"):
                import torch  # noqa: F401
            with timer.phase("import diffusers"):
                from engine.server.quiet import quiet_libraries

                quiet_libraries()  # before the pipelines import: transformers warns while they load
                from diffusers import StableDiffusionPipeline  # noqa: F401  (the pipelines, once)
            self.config = checked.result()
        self.choice = self._resolve_choice()
        sdxl = f" (SDXL: {self.choice.vram_mode_sdxl})" if self.choice.vram_mode_sdxl else ""
        log.info("Device: %s, precision %s, VRAM mode %s%s", self.choice.name, self.choice.precision, self.choice.vram_mode, sdxl)
        with timer.phase("list models"):
            self.registry.refresh()
        self._ensure_some_checkpoint(timer)
        with timer.phase("load model"):
            self._load_initial()

    def _ensure_some_checkpoint(self, timer: StartupTimer) -> None:
        from engine.models.demo import ensure_demo_model, home_has_checkpoint

        if home_has_checkpoint(self.config.home) or self.registry.checkpoints():
            return
        with timer.phase("write demo model"):
            ensure_demo_model(self.config.home)
            self.registry.refresh()
        log.info("No checkpoint found: starting with Maple's demo model, which draws noise.")
        log.info(
            "Put a checkpoint in %s (or run: maple-models pull sd15), then pick it on the page.",
            self.config.home.models_dir("checkpoint"),
        )

    def _load_initial(self) -> None:
        wanted = self.config.model
        if wanted:
            try:
                self.select(wanted)
                return
            except Exception as exc:  # the start must not fail on one bad model: fall back
                log.error("Could not load %s: %s. Loading another model instead.", wanted, exc)
        for entry in self._startup_candidates():
            try:
                self.select(entry.name)
                return
            except Exception as exc:
                log.error("Could not load %s: %s", entry.name, exc)
        self._load_demo()

    def _load_demo(self) -> None:
        """Last resort: no checkpoint in the folders loads, so start with the demo model."""
        from engine.models.demo import ensure_demo_model

        log.warning("No checkpoint could be loaded: starting with Maple's demo model, which draws noise.")
        path = ensure_demo_model(self.config.home)
        self.registry.refresh()
        self.select(path.name)

    def _startup_candidates(self) -> list[Any]:
        entries = self.checkpoint_entries()
        return [e for e in entries if not e.is_demo] + [e for e in entries if e.is_demo]

    # --- listings (any thread) ---
    def checkpoint_entries(self) -> list[Any]:
        return list(self.registry.checkpoints())

    def vae_entries(self) -> list[Any]:
        return list(self.registry.vaes())

    def lora_entries(self) -> list[Any]:
        return list(self.registry.loras())

    def entry_is_demo(self, entry: Any) -> bool:
        return bool(entry.is_demo)

    def current_title(self) -> str | None:
        return self.model.title if self.model else None

    def is_demo(self) -> bool:
        return bool(self.model and self.model.arch == "demo")

    def tokenizer(self) -> Any:
        if self.model is not None and getattr(self.model.pipe, "tokenizer", None) is not None:
            return self.model.pipe.tokenizer
        if self._tokenizer is None:
            from engine.models.configs import config_dir, load_tokenizer

            self._tokenizer = load_tokenizer(config_dir("sd1"))
        return self._tokenizer

    # --- lookups (any thread): unknown names list what exists, and name the field ---
    def _find(self, kind: str, name: str, field: str) -> Any:
        from engine.models.errors import ModelNotFoundError, UnsafeModelPathError

        check_name(name.split(" [")[0], field)
        try:
            return self.registry.find(kind, name)
        except UnsafeModelPathError as exc:
            raise UnsafeNameError(f"{field}: {exc.message}") from exc
        except ModelNotFoundError as exc:
            raise NotFoundError(f"{field}: {exc.message}", exc.hint) from exc

    def find_checkpoint(self, name: str, field: str) -> Any:
        return self._find("checkpoint", name, field)

    def find_vae(self, name: str, field: str) -> Any:
        if name in VAE_BUILTIN:
            return None
        return self._find("vae", name, field)

    def find_lora(self, ref: LoraRef) -> LoraRef:
        info = self._find("lora", ref.name, "prompt <lora:...>")
        if not info.lora_hash:
            info = self.registry.with_hash(info)
        return LoraRef(ref.name, ref.weight, str(info.path), (info.lora_hash or "")[:12])

    # --- changes (worker thread) ---
    def switch(self, name: str) -> None:
        from engine.models.loader import load_checkpoint, switch_model

        entry = self.find_checkpoint(name, "sd_model_checkpoint")
        if self.model is not None and self.model.path == entry.path and self.model.pipe is not None:
            return
        choice = self._choice()
        kwargs: dict[str, Any] = dict(device=choice.torch_device, dtype=choice.dtype, vram_mode=choice.vram_mode_for(entry.arch),
                                      allow_pickle=self.config.allow_pickle, sha256=entry.sha256, name=entry.name)
        if self.model is None:
            self.model = load_checkpoint(entry.path, **kwargs)
        else:
            self.model = switch_model(self.model, entry.path, **kwargs)
        self.apply_vae(self.vae_choice)

    def select(self, name: str) -> None:
        """Load ``name`` and make it the model requests use unless they override it."""
        self.switch(name)
        self.selected = self.require_model().name

    def set_vae(self, name: str) -> None:
        self.apply_vae(name)
        self.vae_choice = name

    def apply_vae(self, name: str) -> None:
        from engine.models import vae

        model = self.require_model()
        if model.vae_name == name:
            return
        entry = self.find_vae(name, "sd_vae")
        vae.apply_vae(model, entry.path if entry is not None else name)

    def refresh(self) -> None:
        self.registry.refresh()

    def require_model(self) -> LoadedModel:
        if self.model is None or self.model.pipe is None:
            raise EngineError("No model is loaded yet", "Wait until the engine says 'Startup time', then try again.")
        return self.model

    def generate(self, params: GenParams, control: JobControl) -> GenResult:
        from engine.generation.generate import generate

        model = self.require_model()
        if params.loras or model.applied_loras:
            self._apply_loras(model, params.loras)
        return generate(model, params, control)

    def _apply_loras(self, model: LoadedModel, loras: tuple[LoraRef, ...]) -> None:
        from engine.models.lora import apply_loras

        apply_loras(model, loras)

    def _choice(self) -> DeviceChoice:
        if self.choice is None:
            self.choice = self._resolve_choice()
        return self.choice

    def _resolve_choice(self) -> DeviceChoice:
        from engine.server import device

        cfg = self.config
        return device.resolve(cfg.device, cfg.precision, cfg.vram_mode, cfg.vram_mode_sdxl)
