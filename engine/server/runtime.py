"""The engine's runtime: the one object between the HTTP service and the models.

It holds what the worker generates with (the device choice, the loaded checkpoint and VAE, the
checkpoint chosen at start-up or through options, A1111's clip skip) and runs prepared jobs.
Only the worker thread calls what changes the model (``startup``, ``apply_options``, ``refresh``,
``run``); the lookups, ``prepare`` and the state properties read the registry's last scan and the
current model, and are safe from HTTP threads.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.cli import EngineConfig, shared_folders_now
from engine.errors import EngineError
from engine.generation.sd_upscale import EXTRA_KEY as SD_UPSCALE_KEY
from engine.jobs import GenParams, GenResult, JobControl, LoraRef
from engine.models.device import DeviceChoice
from engine.models.loaded import LoadedModel
from engine.models.registry import ModelInfo, ModelRegistry
from engine.models.unusable import LoadFailures, unusable_models
from engine.server import api_models as m
from engine.server import boot, controlnet_jobs, listings, upscaling_jobs
from engine.server.a1111_options import KeptOptions
from engine.server.options import VAE_BUILTIN, remember_model
from engine.server.outputs import save_images
from engine.server.prepare import PreparedJob, prepare
from engine.server.prompt_library import PromptLibrary
from installer.errors import MapleError

if TYPE_CHECKING:
    from PIL import Image
    from transformers import CLIPTokenizer

    from engine.server.timing import StartupTimer

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """A finished generation as the API answers it."""

    images: list[Image.Image]
    infotexts: list[str]
    info: dict[str, Any] = field(default_factory=dict)
    paths: list[str] = field(default_factory=list)

    def info_json(self) -> str:
        return json.dumps(self.info, ensure_ascii=False)


def _vram_words(choice: DeviceChoice) -> str:
    """``, VRAM mode high (SDXL: medium)`` on a GPU; nothing on the CPU, which has no VRAM."""
    if choice.device == "cpu":
        return ""
    sdxl = f" (SDXL: {choice.vram_mode_sdxl})" if choice.vram_mode_sdxl else ""
    return f", VRAM mode {choice.vram_mode}{sdxl}"


class Runtime:
    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self.registry = ModelRegistry(config.home, list(config.shared_folders),
                                      folders_now=lambda: shared_folders_now(config.home))
        self.choice: DeviceChoice | None = None
        self.model: LoadedModel | None = None
        self.vae_choice = "Automatic"
        self.selected = ""  # the checkpoint chosen at start-up or through options
        self.clip_skip = 1
        self.kept_options = KeptOptions(config.home.root)  # A1111 settings Maple keeps but does not act on
        self.randn_source, self.eta_noise_seed_delta = self.kept_options.noise_settings()
        self._tokenizer: CLIPTokenizer | None = None
        self.prompts = PromptLibrary(config, self.registry)  # embeddings and styles
        self.load_failures = LoadFailures()  # checkpoints that failed to load, shown as unusable

    # --- start-up (worker thread) ---
    def startup(self, timer: StartupTimer) -> None:
        """Import torch, choose the device, list the model folders and load the first model."""
        self.config = boot.import_libraries(self.config, timer)
        self.choice = self._choose()
        log.info("Device: %s, precision %s%s", self.choice.name, self.choice.precision, _vram_words(self.choice))
        with timer.phase("list models"):
            self.registry.refresh()
        boot.ensure_some_checkpoint(self.config.home, self.registry, timer)
        with timer.phase("load model"):
            boot.load_first(boot.candidates(self.config.model, self.registry), self.select,
                            lambda: boot.load_demo(self.config.home, self.registry, self.select))

    # --- state the HTTP side reads ---
    @property
    def device_name(self) -> str:
        return self.choice.device if self.choice else self.config.device

    @property
    def precision_name(self) -> str:
        return self.choice.precision if self.choice else self.config.precision

    @property
    def vram_mode_name(self) -> str:
        if self.choice is None:
            return self.config.vram_mode
        return self.choice.vram_mode_for(self.model.arch if self.model is not None else None)

    def current_title(self) -> str | None:
        return self.model.title if self.model else None

    def is_demo(self) -> bool:
        return bool(self.model and self.model.is_demo)

    def preview(self, latents: Any) -> Image.Image:
        from engine.generation import preview

        return preview.latents_to_image(latents, self.model.arch if self.model else "sd1")

    def tokenizer(self) -> CLIPTokenizer:
        """The loaded model's tokenizer, or SD1's until a model is loaded."""
        pipe_tokenizer = getattr(self.model.pipe, "tokenizer", None) if self.model is not None else None
        if pipe_tokenizer is not None:
            return pipe_tokenizer
        if self._tokenizer is None:
            from engine.models.configs import config_dir, load_tokenizer

            self._tokenizer = load_tokenizer(config_dir("sd1"))
        return self._tokenizer

    def token_count(self, prompt: str) -> m.TokenCountResponse:
        from engine.prompts import conditioning

        embeddings = self.prompts.embeddings_for(self.model)
        tokens, chunks = conditioning.token_count(self.tokenizer(), prompt, embeddings=embeddings)
        return m.TokenCountResponse(tokens=tokens, chunks=chunks, limit=75 * chunks)

    # --- lookups (any thread): unknown names list what exists, errors carry the field ---
    def find_checkpoint(self, name: str, field_name: str) -> ModelInfo:
        return self.registry.find("checkpoint", name, field_name)

    def find_vae(self, name: str, field_name: str) -> ModelInfo | None:
        return None if name in VAE_BUILTIN else self.registry.find("vae", name, field_name)

    def find_lora(self, ref: LoraRef, field_name: str) -> LoraRef:
        info = self.registry.find("lora", ref.name, field_name)
        if not info.lora_hash:
            info = self.registry.with_hash(info)
        return LoraRef(ref.name, ref.weight, str(info.path), (info.lora_hash or "")[:12])

    # --- options ---
    def options(self) -> dict[str, Any]:
        """A1111's settings: the kept ones and A1111's defaults, then Maple's live values."""
        return self.kept_options.answer({
            "randn_source": self.randn_source,
            "eta_noise_seed_delta": self.eta_noise_seed_delta,
            "sd_model_checkpoint": self.current_title(),
            "sd_vae": self.vae_choice,
            "CLIP_stop_at_last_layers": self.clip_skip,
            "samples_save": True,
            "samples_format": "png",
            "outdir_txt2img_samples": str(self.config.home.outputs_dir / "txt2img-images"),
            "outdir_img2img_samples": str(self.config.home.outputs_dir / "img2img-images"),
            "sd_checkpoint_hash": self.model.sha256 if self.model else None,
        })

    def apply_options(self, changes: dict[str, Any]) -> None:
        """In the worker: apply what ``options.check_options`` let through."""
        if "sd_model_checkpoint" in changes:
            self.select(changes["sd_model_checkpoint"])
            remember_model(self.config.home.settings_file, self.selected)
        if "sd_vae" in changes:
            self.apply_vae(changes["sd_vae"])
            self.vae_choice = changes["sd_vae"]
        if "CLIP_stop_at_last_layers" in changes:
            self.clip_skip = int(changes["CLIP_stop_at_last_layers"])
        self.randn_source = str(changes.get("randn_source", self.randn_source))
        self.eta_noise_seed_delta = int(changes.get("eta_noise_seed_delta", self.eta_noise_seed_delta))
        self.kept_options.update({k: v for k, v in changes.items()
                                  if k not in ("sd_model_checkpoint", "sd_vae", "CLIP_stop_at_last_layers")})

    def unload_model(self) -> None:
        """Free the loaded checkpoint (A1111's unload-checkpoint); the next job loads it again."""
        from engine.models import loader

        if self.model is not None:
            loader.unload(self.model)

    def reload_model(self) -> None:
        """Load the chosen checkpoint again now (A1111's reload-checkpoint)."""
        name = self.selected or (self.model.name if self.model is not None else "")
        self.unload_model()
        if name:
            self.switch(name)

    def refresh(self) -> None:
        """Rescan the model folders (one scan covers checkpoints, VAEs and LoRAs)."""
        self.registry.refresh()

    # --- generation ---
    def prepare(self, mode: str, req: m.GenerationRequest) -> PreparedJob:
        """In an HTTP thread: the request checked and resolved, nothing loaded yet."""
        job = prepare(mode, req, self.find_lora, self.clip_skip, self.prompts.styles,
                      (self.randn_source, self.eta_noise_seed_delta))
        job = upscaling_jobs.resolve(job, req, self.registry)  # hires upscaler models, SD upscale
        job = controlnet_jobs.resolve(job, req, self.registry)  # alwayson_scripts.controlnet units
        if job.checkpoint:
            self.find_checkpoint(job.checkpoint, "override_settings.sd_model_checkpoint")
        if job.vae:
            self.find_vae(job.vae, "override_settings.sd_vae")
        return job

    def run(self, job: PreparedJob, control: JobControl) -> Outcome:
        """In the worker: switch model/VAE if asked, generate, save, describe."""
        self.switch(job.checkpoint or self.selected)
        if job.checkpoint and not job.restore_afterwards:
            self.selected = self.require_model().name
        self.apply_vae(job.vae if job.vae is not None else self.vae_choice)
        if job.vae is not None and not job.restore_afterwards:
            self.vae_choice = job.vae
        started = time.time()
        result = self.generate(job.params, control)
        paths = self._save(job, result)
        info = listings.info_dict(job.params, result, self.require_model(), started)
        return Outcome([*result.images, *result.detected_maps], result.infotexts, info, paths)

    def generate(self, params: GenParams, control: JobControl) -> GenResult:
        """Generate with the loaded model, its LoRAs set to exactly the job's."""
        from engine.generation.generate import generate
        from engine.models.lora import apply_loras

        model = self.require_model()
        if params.loras or model.applied_loras:
            apply_loras(model, params.loras)
        model.embeddings = self.prompts.embeddings_for(model, check_folders=True)
        if SD_UPSCALE_KEY in params.extra:
            from engine.generation.sd_upscale import run_sd_upscale

            return run_sd_upscale(model, params, control)
        return generate(model, params, control)

    def _save(self, job: PreparedJob, result: GenResult) -> list[str]:
        if not job.save_images or not result.images:
            return []
        try:
            saved = save_images(self.config.home.outputs_dir, job.params.mode, result.images, result.seeds, result.infotexts)
            if result.detected_maps:  # ControlNet's maps (save_detected_map) next to the pictures
                saved += save_images(self.config.home.outputs_dir, job.params.mode, result.detected_maps,
                                     result.seeds[:1], [], result.detected_labels)
        except OSError as exc:
            raise EngineError(f"Could not save the images: {exc}", "Check the disk space and the outputs folder's permissions.") from exc
        return [str(p) for p in saved]

    # --- model changes (worker thread) ---
    def select(self, name: str) -> None:
        """Load ``name`` and make it the model requests use unless they override it."""
        self.switch(name)
        self.selected = self.require_model().name

    def switch(self, name: str) -> None:
        """Load checkpoint ``name`` unless it is the one loaded; the current one stays if it fails."""
        from engine.models import loader

        entry = self.find_checkpoint(name, "sd_model_checkpoint")
        if self.model is not None and self.model.path == entry.path and self.model.pipe is not None:
            return
        choice = self.choice = self.choice or self._choose()
        kwargs: dict[str, Any] = dict(device=choice.torch_device, dtype=choice.dtype, vram_mode=choice.vram_mode_for(entry.arch),
                                      allow_pickle=self.config.allow_pickle, sha256=entry.sha256, name=entry.name)
        try:
            if self.model is None:
                self.model = loader.load_checkpoint(entry.path, **kwargs)
            else:
                self.model = loader.switch_model(self.model, entry.path, **kwargs)
        except MapleError as exc:  # the file's plain sentence for the API; the raw text goes to the log
            raise self.load_failures.translate(entry, exc) from exc
        self.load_failures.forget(entry.path)
        self.apply_vae(self.vae_choice)

    def unusable_models(self) -> list[dict[str, Any]]:
        """Every model file that cannot be used (broken, or failed to load), with its sentence."""
        return [u.to_api() for u in unusable_models(self.registry, self.load_failures)]

    def apply_vae(self, name: str) -> None:
        from engine.models import vae

        model = self.require_model()
        if model.vae_name == name:
            return
        entry = self.find_vae(name, "sd_vae")
        vae.apply_vae(model, entry.path if entry is not None else name)

    def require_model(self) -> LoadedModel:
        if self.model is None or self.model.pipe is None:
            raise EngineError("No model is loaded yet", "Wait until the engine says 'Startup time', then try again.")
        return self.model

    def _choose(self) -> DeviceChoice:
        from engine.models import device

        cfg = self.config
        return device.choose(cfg.device, cfg.precision, cfg.vram_mode, cfg.vram_mode_sdxl)
