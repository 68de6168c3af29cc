"""The rest of A1111's ``/sdapi/v1/`` routes, in A1111's shapes, with what is true of Maple.

Lists of things Maple does not have (hypernetworks, face restorers, scripts, extensions) are
empty; ``cmd-flags`` answers A1111's flag names with Maple's settings; ``sd-modules`` (Forge's
list of VAEs and text encoders) lists the VAEs. ``unload-checkpoint`` frees the model (the next
generation loads it again), ``reload-checkpoint`` loads it again now. ``server-kill`` and
``server-stop`` are Maple's shutdown, accepted only from this computer; Maple's engine cannot
restart itself, so ``server-restart`` says so (the launcher's restart button does it).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from engine.server.maple_api import LOCAL_HOSTS
from engine.server.service import EngineService

router = APIRouter(prefix="/sdapi/v1", tags=["sdapi"])


def _service(request: Request) -> EngineService:
    service: EngineService = request.app.state.service
    return service


@router.get("/cmd-flags")
def cmd_flags(request: Request) -> dict[str, Any]:
    """A1111's command-line flags, answered from Maple's engine settings."""
    service = _service(request)
    config, runtime = service.config, service.runtime
    home = config.home
    vram = runtime.vram_mode_name
    return {
        "api": True, "nowebui": False, "listen": config.listening, "server_name": config.host, "port": config.port,
        "api_auth": "***" if config.api_auth else None, "gradio_auth": None, "share": False,
        "cors_allow_origins": ",".join(config.cors_allow_origins) or None, "api_server_stop": True,
        "data_dir": str(home.root), "models_dir": str(home.root / "models"),
        "ckpt_dir": str(home.models_dir("checkpoint")), "vae_dir": str(home.models_dir("vae")),
        "lora_dir": str(home.models_dir("lora")), "embeddings_dir": str(home.root / "embeddings"),
        "ckpt": runtime.selected or None, "medvram": vram == "medium", "lowvram": vram == "low",
        "medvram_sdxl": config.vram_mode_sdxl == "medium", "no_half": runtime.precision_name == "fp32",
        "no_half_vae": False, "precision": "full" if runtime.precision_name == "fp32" else "autocast",
        "use_cpu": ["all"] if runtime.device_name == "cpu" else [], "xformers": False, "opt_sdp_attention": True,
        "disable_safe_unpickle": config.allow_pickle, "skip_torch_cuda_test": False, "device_id": None,
        "hypernetwork_dir": None, "codeformer_models_path": None, "gfpgan_models_path": None,
        "esrgan_models_path": str(home.models_dir("upscaler")), "styles_file": [], "ui_config_file": None,
        "ui_settings_file": None, "freeze_settings": False, "enable_insecure_extension_access": False,
        "disable_all_extensions": True, "theme": None, "localizations_dir": None,
    }


@router.get("/hypernetworks")
def hypernetworks() -> list[dict[str, Any]]:
    """A1111: ``[{name, path}]``. Maple loads no hypernetworks."""
    return []


@router.get("/face-restorers")
def face_restorers() -> list[dict[str, Any]]:
    """A1111: ``[{name, cmd_dir}]``. Maple has no face restoration."""
    return []


@router.get("/sd-modules")
def sd_modules(request: Request) -> list[dict[str, Any]]:
    """Forge: ``[{model_name, filename}]`` of the VAEs and text encoders; Maple's are the VAEs."""
    return [{"model_name": e.name, "filename": str(e.path)} for e in _service(request).runtime.registry.vaes()]


@router.get("/scripts")
def scripts() -> dict[str, list[str]]:
    """A1111: the script titles per tab. Maple runs A1111's SD upscale (img2img) and ControlNet (always on)."""
    return {"txt2img": ["controlnet"], "img2img": ["sd upscale", "controlnet"]}


@router.get("/script-info")
def script_info(request: Request) -> list[dict[str, Any]]:
    """A1111: ``[{name, is_alwayson, is_img2img, args}]``: SD upscale's."""
    from engine.server.upscaling_jobs import sd_upscale_info

    return [sd_upscale_info(_service(request).runtime.registry)]


@router.get("/extensions")
def extensions() -> list[dict[str, Any]]:
    """A1111: ``[{name, remote, branch, commit_hash, version, commit_date, enabled}]``. Maple runs none."""
    return []


@router.post("/unload-checkpoint")
async def unload_checkpoint(request: Request) -> dict[str, Any]:
    service = _service(request)
    await service.call("unload checkpoint", lambda control: service.runtime.unload_model())
    return {}


@router.post("/reload-checkpoint")
async def reload_checkpoint(request: Request) -> dict[str, Any]:
    service = _service(request)
    await service.call("reload checkpoint", lambda control: service.runtime.reload_model())
    return {}


def _local_only(request: Request) -> None:
    client = request.client.host if request.client else ""
    if client not in LOCAL_HOSTS:
        raise HTTPException(403, "Stopping the engine is only accepted from this computer (127.0.0.1)")


@router.post("/server-kill")
def server_kill(request: Request) -> dict[str, Any]:
    _local_only(request)
    _service(request).request_shutdown()
    return {}


@router.post("/server-stop")
def server_stop(request: Request) -> dict[str, Any]:
    _local_only(request)
    _service(request).request_shutdown()
    return {}


@router.post("/server-restart")
def server_restart(request: Request) -> dict[str, Any]:
    raise HTTPException(501, "Maple's engine cannot restart itself: restart it from the Maple launcher, "
                             "or stop it with /sdapi/v1/server-stop and start it again")


def _not_in_maple(what: str) -> HTTPException:
    return HTTPException(501, what)


@router.post("/interrogate")
def interrogate() -> dict[str, Any]:
    raise _not_in_maple("Maple has no CLIP or DeepBooru interrogator")


@router.post("/create/embedding")
@router.post("/create/hypernetwork")
@router.post("/train/embedding")
@router.post("/train/hypernetwork")
def training() -> dict[str, Any]:
    raise _not_in_maple("Maple does not train embeddings or hypernetworks")
