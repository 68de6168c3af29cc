"""The sd-webui-controlnet extension's routes under ``/controlnet/``: lists, settings, detect.

``model_list`` names the ControlNet files of the model store as the extension does
(``control_v11p_sd15_canny [d14c016b]``); ``module_list`` the preprocessors Maple has, with their
sliders; ``control_types`` groups both by control type (a model belongs to a type by the words in
its name); ``detect`` runs preprocessors on pictures and answers the detected maps (and, for the
OpenPose modules, the poses as OpenPose JSON); ``render_openpose_json`` draws poses sent as that JSON.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from engine.errors import BadRequestError
from engine.generation import pose_drawing
from engine.generation import preprocessors as pre
from engine.server import images
from engine.server.controlnet_jobs import model_title, weight_folders_of
from engine.server.image_inputs import decode, probe

router = APIRouter(prefix="/controlnet", tags=["controlnet"])
API_VERSION = 2
UNIT_COUNT = 3
MAX_DETECT_IMAGES = 8
# control type -> words a model's file name carries (lower case)
TYPE_WORDS: dict[str, tuple[str, ...]] = {
    "Canny": ("canny",), "Depth": ("depth",), "NormalMap": ("normal",), "OpenPose": ("openpose", "pose"),
    "MLSD": ("mlsd",), "Lineart": ("lineart",), "SoftEdge": ("softedge", "hed", "pidi"),
    "Scribble": ("scribble", "sketch"), "Segmentation": ("seg",), "Shuffle": ("shuffle",), "Tile": ("tile",),
    "Inpaint": ("inpaint",), "InstructP2P": ("ip2p",), "Reference": (),  # Reference: no models, none needed
}


class DetectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    controlnet_module: str = "none"
    controlnet_input_images: list[str] = Field(default_factory=list)
    controlnet_images: list[str] = Field(default_factory=list, description="another name for controlnet_input_images")
    controlnet_masks: list[str] = Field(default_factory=list)
    controlnet_processor_res: int = Field(512, ge=-1, le=2048)
    controlnet_threshold_a: float = -1
    controlnet_threshold_b: float = -1
    low_vram: bool = False


def _registry(request: Request) -> Any:
    return request.app.state.service.runtime.registry


def model_titles(registry: Any) -> list[str]:
    return [model_title(info) for info in registry.items("controlnet")]


def control_type_of(title: str) -> str | None:
    name = title.lower()
    return next((t for t, words in TYPE_WORDS.items() if any(w in name for w in words)), None)


@router.get("/version")
def version() -> dict[str, int]:
    return {"version": API_VERSION}


@router.get("/model_list")
def model_list(request: Request, update: bool = True) -> dict[str, list[str]]:
    registry = _registry(request)
    if update:
        registry.refresh()
    return {"model_list": model_titles(registry)}


def _sliders(module: pre.Module) -> list[dict[str, Any]]:
    sliders: list[dict[str, Any]] = []
    if module.resolution:
        sliders.append({"name": "Preprocessor Resolution", "value": 512, "min": 64, "max": 2048})
    for slider in (module.threshold_a, module.threshold_b):
        if slider is not None:
            sliders.append({"name": slider.name, "value": slider.value, "min": slider.min, "max": slider.max,
                            "step": slider.step})
    return sliders


@router.get("/module_list")
def module_list(alias_names: bool = False) -> dict[str, Any]:
    del alias_names  # Maple's modules have no separate display names
    detail = {name: {"model_free": m.model_free, "sliders": _sliders(m)} for name, m in pre.MODULES.items()}
    return {"module_list": list(pre.MODULES), "module_detail": detail}


@router.get("/control_types")
def control_types(request: Request) -> dict[str, Any]:
    titles = model_titles(_registry(request))
    types: dict[str, Any] = {"All": {"module_list": list(pre.MODULES), "model_list": ["None", *titles],
                                     "default_option": "none", "default_model": "None"}}
    for name in TYPE_WORDS:
        modules = [m.name for m in pre.MODULES.values() if m.control_type == name]
        models = [t for t in titles if control_type_of(t) == name]
        types[name] = {"module_list": ["none", *modules], "model_list": ["None", *models],
                       "default_option": modules[0] if modules else "none",
                       "default_model": models[0] if models else "None"}
    return {"control_types": types}


@router.get("/settings")
def settings() -> dict[str, int]:
    return {"control_net_unit_count": UNIT_COUNT, "control_net_max_models_num": UNIT_COUNT}


@router.post("/detect")
async def detect(request: Request, req: DetectRequest) -> dict[str, Any]:
    name = "controlnet_input_images" if req.controlnet_input_images else "controlnet_images"
    pictures = req.controlnet_input_images or req.controlnet_images
    if not pictures:
        raise BadRequestError.about("controlnet_input_images", "send at least one base64 picture")
    if len(pictures) > MAX_DETECT_IMAGES:
        raise BadRequestError.about(name, f"at most {MAX_DETECT_IMAGES} pictures")
    module = pre.find_module(req.controlnet_module, "controlnet_module")
    inputs = [probe(data, f"{name}[{i}]") for i, data in enumerate(pictures)]
    masks = [probe(data, f"controlnet_masks[{i}]") for i, data in enumerate(req.controlnet_masks)]
    res = 512 if req.controlnet_processor_res == -1 else req.controlnet_processor_res
    folders = weight_folders_of(_registry(request))
    if res < 64:
        raise BadRequestError.about("controlnet_processor_res", "must be -1 or from 64 to 2048")

    def run() -> tuple[list[str], list[dict[str, Any]]]:
        out, poses = [], []
        for i, item in enumerate(inputs):
            mask = np.asarray(decode(masks[i], "L")) if i < len(masks) else None
            picture = np.asarray(decode(item, "RGB"))
            if module.pose_run is not None:
                detected, pose = pre.detect_pose(module, picture, res, folders)
                poses.append(pose)
            else:
                detected = pre.detect(module, picture, res, req.controlnet_threshold_a, req.controlnet_threshold_b,
                                      mask, folders)
            out.append(images.encode_png(pre.to_picture(detected), ""))
        return out, poses

    maps, poses = await run_in_threadpool(run)
    answer: dict[str, Any] = {"info": "Success", "images": maps}
    if poses:
        answer["poses"] = poses
    return answer


POSE_KEYS = {"people", "canvas_width", "canvas_height", "animals", "version"}
PERSON_KEYS = {"pose_keypoints_2d", "hand_left_keypoints_2d", "hand_right_keypoints_2d", "face_keypoints_2d",
               "person_id"}
MAX_RENDER = 16


def _checked_pose(data: Any, field: str) -> pose_drawing.Pose:
    if isinstance(data, dict):
        extra = sorted(set(data) - POSE_KEYS) + sorted(
            f"people[{n}].{key}" for n, person in enumerate(data.get("people") or [])
            if isinstance(person, dict) for key in set(person) - PERSON_KEYS)
        if extra:
            raise BadRequestError.about(f"{field}.{extra[0]}", "Maple does not read this OpenPose JSON field")
        if data.get("animals"):
            raise BadRequestError.about(f"{field}.animals", "Maple draws people's poses only, not animal poses")
    return pose_drawing.pose_from_json(data, field)


@router.post("/render_openpose_json")
async def render_openpose_json(pose_data: list[Any] = Body(default_factory=list)) -> dict[str, Any]:  # noqa: B008
    """Skeleton pictures of poses sent as OpenPose JSON (a list of them), drawn as detect draws them."""
    if not pose_data:
        return {"info": "No pose data detected."}
    if len(pose_data) > MAX_RENDER:
        raise BadRequestError.about("body", f"at most {MAX_RENDER} poses at once")
    poses = [_checked_pose(data, f"body[{n}]") for n, data in enumerate(pose_data)]

    def run() -> list[str]:
        from PIL import Image

        return [images.encode_png(Image.fromarray(pose_drawing.draw_pose(pose)), "") for pose in poses]

    return {"images": await run_in_threadpool(run), "info": "Success"}
