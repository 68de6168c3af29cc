"""ControlNet preprocessors ("modules"): a picture in, the detected map ControlNet reads out.

Module names are the sd-webui-controlnet extension's, with its slider meanings for
``threshold_a`` / ``threshold_b`` and its default processor resolution. Every module here is
Maple's own code over numpy and torch (no OpenCV, nothing downloaded):

- ``none``: the picture as it is; ``invert``: white lines on black from black lines on white;
- ``canny``: Canny edges (3x3 Sobel, L1 gradient, non-maximum suppression, hysteresis between
  the low and high thresholds, as the common implementation does on a colour picture);
- ``tile_resample``: the picture shrunk by the down-sampling rate (threshold_a);
- ``scribble_xdog``: a difference of Gaussians thresholded at threshold_a;
- ``lineart_standard``: lines from a Gaussian difference, normalised by their median;
- ``threshold``: a binary picture at threshold_a;
- ``inpaint_only``: the picture with the masked pixels set to -1, for inpainting ControlNets;
- ``reference_only`` / ``reference_adain`` / ``reference_adain+attn``: the picture itself; they
  guide without a model (``engine.generation.reference``);
- ``lineart`` / ``lineart_coarse``: a network (``engine.generation.annotators``) whose weights are
  read only from local folders.
- ``lineart_anime``: the anime line-art U-Net (``engine.generation.annotator_anime``), weights
  likewise local.
- ``softedge_hed`` / ``softedge_hedsafe`` / ``scribble_hed``: the HED network
  (``engine.generation.annotator_hed``), weights likewise local.
- ``openpose_full`` / ``openpose`` / ``openpose_hand`` / ``openpose_face`` / ``openpose_faceonly``: the
  OpenPose body, hand and face networks
  (``engine.generation.annotator_openpose``) and the skeleton drawing
  (``engine.generation.pose_drawing``); they also give the pose as OpenPose JSON (``detect_pose``).
- ``depth_anything``: Depth Anything's relative depth, near white (``engine.generation.annotator_depth``),
  weights likewise local.

A module name Maple does not have is refused naming the ones it has.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import BadRequestError
from engine.generation import annotator_anime, annotator_depth, annotator_hed, annotators, reference
from engine.generation import annotator_openpose as openpose

log = logging.getLogger(__name__)
Array = np.ndarray[Any, Any]


@dataclass(frozen=True)
class Slider:
    name: str
    value: float
    min: float
    max: float
    step: float = 1.0


@dataclass(frozen=True)
class Module:
    """One preprocessor: its function (uint8 HxWx3 in, float HxWx3 in [0, 1] out) and sliders."""

    name: str
    run: Callable[[Array, float, float], Array]
    control_type: str
    resolution: bool = True  # takes processor_res (the picture is scaled to it first)
    threshold_a: Slider | None = None
    threshold_b: Slider | None = None
    needs_mask: bool = False
    weights: tuple[str, str] | None = None  # (annotator folder, file) of a network module
    net_run: Callable[[Array, Path], Array] | None = None
    model_free: bool = False  # guides without a ControlNet model (the unit's model is "None")
    more_weights: tuple[str, ...] = ()  # further files of the same annotator folder
    weights_or: tuple[str, ...] = ()  # files that may stand in for the weights' file (looked for after it)
    pose_run: Callable[[Array, tuple[Path, ...]], tuple[Array, dict[str, Any]]] | None = None


def _gauss_kernel(sigma: float) -> Array:
    radius = max(1, int(round(sigma * 3)))
    x = np.arange(-radius, radius + 1, dtype=np.float32)
    k = np.exp(-(x * x) / (2 * sigma * sigma))
    return (k / k.sum()).astype(np.float32)


def blur(image: Array, sigma: float) -> Array:
    """A separable Gaussian blur of an HxWxC float picture (edges reflected)."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    k = torch.from_numpy(_gauss_kernel(sigma))
    r = k.numel() // 2
    x = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).permute(2, 0, 1)[:, None]
    x = F.pad(x, (r, r, 0, 0), mode="replicate")
    x = F.conv2d(x, k.view(1, 1, 1, -1))
    x = F.pad(x, (0, 0, r, r), mode="replicate")
    x = F.conv2d(x, k.view(1, 1, -1, 1))
    return np.asarray(x[:, 0].permute(1, 2, 0).numpy())


def canny_edges(image: Array, low: float, high: float) -> Array:
    """Canny edges of an HxWx3 uint8 picture: a HxW bool array."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    x = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32)).permute(2, 0, 1)[:, None]
    sx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]).view(1, 1, 3, 3)
    padded = F.pad(x, (1, 1, 1, 1), mode="replicate")
    gx, gy = F.conv2d(padded, sx)[:, 0], F.conv2d(padded, sx.transpose(2, 3))[:, 0]
    mag_all = gx.abs() + gy.abs()
    best = mag_all.argmax(dim=0, keepdim=True)  # per pixel, the channel with the strongest gradient
    mag, gx, gy = (t.gather(0, best)[0] for t in (mag_all, gx, gy))
    keep = _non_maximum(mag, gx, gy)
    strong = keep & (mag > high)
    weak = keep & (mag > low)
    return _hysteresis(strong, weak).numpy()


def _non_maximum(mag: Any, gx: Any, gy: Any) -> Any:
    import torch
    import torch.nn.functional as F  # noqa: N812

    p = F.pad(mag[None, None], (1, 1, 1, 1))[0, 0]
    h, w = mag.shape

    def at(dy: int, dx: int) -> Any:
        return p[1 + dy: 1 + dy + h, 1 + dx: 1 + dx + w]

    ax, ay = gx.abs(), gy.abs()
    tan22, tan67 = 0.4142135623730951, 2.414213562373095
    horizontal = ay <= ax * tan22  # gradient along x: compare left and right
    vertical = ay > ax * tan67
    same_sign = (gx * gy) > 0
    pairs = [
        (horizontal, at(0, -1), at(0, 1)),
        (vertical, at(-1, 0), at(1, 0)),
        (~horizontal & ~vertical & same_sign, at(-1, -1), at(1, 1)),
        (~horizontal & ~vertical & ~same_sign, at(-1, 1), at(1, -1)),
    ]
    keep = torch.zeros_like(mag, dtype=torch.bool)
    for where, a, b in pairs:
        keep |= where & (mag > a) & (mag >= b)
    return keep


def _hysteresis(strong: Any, weak: Any) -> Any:
    import torch.nn.functional as F  # noqa: N812

    edges = strong.clone()
    while True:
        grown = F.max_pool2d(edges[None, None].float(), 3, stride=1, padding=1)[0, 0].bool() & weak
        if bool((grown == edges).all()):
            return edges
        edges = grown


def _gray3(mask: Array) -> Array:
    return np.repeat(mask.astype(np.float32)[..., None], 3, axis=2)


def run_none(image: Array, _a: float, _b: float) -> Array:
    return image.astype(np.float32) / 255.0


def run_invert(image: Array, _a: float, _b: float) -> Array:
    return (255.0 - image.astype(np.float32)) / 255.0


def run_canny(image: Array, low: float, high: float) -> Array:
    return _gray3(canny_edges(image, low, high))


def run_tile(image: Array, rate: float, _b: float) -> Array:
    from PIL import Image

    h, w = image.shape[:2]
    rate = max(1.0, float(rate))
    small = Image.fromarray(image).resize((max(1, int(w / rate)), max(1, int(h / rate))), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float32) / 255.0


def run_xdog(image: Array, threshold: float, _b: float) -> Array:
    x = image.astype(np.float32)
    dog = (255.0 - np.min(blur(x, 5.0) - blur(x, 0.5), axis=2)).clip(0, 255)
    return _gray3(2 * (255.0 - dog) > threshold)


def run_lineart_standard(image: Array, _a: float, _b: float) -> Array:
    x = image.astype(np.float32)
    intensity = np.min(blur(x, 6.0) - x, axis=2).clip(0, 255)
    lines = intensity[intensity > 8]
    intensity /= max(16.0, float(np.median(lines)) if lines.size else 16.0)
    return _gray3((intensity * 127.0).clip(0, 255) / 255.0)


def run_threshold(image: Array, level: float, _b: float) -> Array:
    return _gray3(image.astype(np.float32).mean(axis=2) > level)


def inpaint_map(image: Array, mask: Array) -> Array:
    """The picture in [0, 1] with the pixels under the mask (mask > 127) at -1."""
    out = image.astype(np.float32) / 255.0
    out[mask > 127] = -1.0
    return out


MODULES: dict[str, Module] = {m.name: m for m in (
    Module("none", run_none, "All", resolution=False),
    Module("invert", run_invert, "Scribble", resolution=False),
    Module("canny", run_canny, "Canny", threshold_a=Slider("Canny Low Threshold", 100, 1, 255),
           threshold_b=Slider("Canny High Threshold", 200, 1, 255)),
    Module("tile_resample", run_tile, "Tile", resolution=False,
           threshold_a=Slider("Down Sampling Rate", 1.0, 1.0, 8.0, 0.01)),
    Module("scribble_xdog", run_xdog, "Scribble", threshold_a=Slider("XDoG Threshold", 32, 1, 64)),
    Module("lineart_standard", run_lineart_standard, "Lineart"),
    Module("threshold", run_threshold, "Scribble", threshold_a=Slider("Binarization Threshold", 127, 0, 255)),
    Module("inpaint_only", run_none, "Inpaint", resolution=False, needs_mask=True),
    *(Module(name, reference.run_reference, "Reference", resolution=False, model_free=True,
             threshold_a=Slider("Style Fidelity (only for Balanced mode)", reference.FIDELITY_DEFAULT, 0.0, 1.0, 0.01))
      for name in reference.MODULES),
    Module("lineart", run_none, "Lineart", weights=("lineart", "sk_model.pth"), net_run=annotators.run_lineart),
    Module("lineart_coarse", run_none, "Lineart", weights=("lineart", "sk_model2.pth"), net_run=annotators.run_lineart),
    Module("lineart_anime", run_none, "Lineart", weights=annotator_anime.WEIGHTS,
           net_run=annotator_anime.run_lineart_anime),
    Module("softedge_hed", run_none, "SoftEdge", weights=annotator_hed.WEIGHTS, net_run=annotator_hed.run_softedge),
    Module("softedge_hedsafe", run_none, "SoftEdge", weights=annotator_hed.WEIGHTS,
           net_run=annotator_hed.run_softedge_safe),
    Module("scribble_hed", run_none, "Scribble", weights=annotator_hed.WEIGHTS, net_run=annotator_hed.run_scribble),
    Module("depth_anything", run_none, "Depth", weights=(annotator_depth.FOLDER, annotator_depth.FILES[0]),
           weights_or=annotator_depth.FILES[1:], net_run=annotator_depth.run_depth_anything),
    Module("openpose_full", run_none, "OpenPose", weights=(openpose.FOLDER, openpose.BODY_FILE),
           more_weights=(openpose.HAND_FILE, openpose.FACE_FILE), pose_run=openpose.run_full),
    Module("openpose", run_none, "OpenPose", weights=(openpose.FOLDER, openpose.BODY_FILE),
           pose_run=openpose.run_body),
    Module("openpose_hand", run_none, "OpenPose", weights=(openpose.FOLDER, openpose.BODY_FILE),
           more_weights=(openpose.HAND_FILE,), pose_run=openpose.run_body_and_hands),
    Module("openpose_face", run_none, "OpenPose", weights=(openpose.FOLDER, openpose.BODY_FILE),
           more_weights=(openpose.FACE_FILE,), pose_run=openpose.run_body_and_face),
    Module("openpose_faceonly", run_none, "OpenPose", weights=(openpose.FOLDER, openpose.BODY_FILE),
           more_weights=(openpose.FACE_FILE,), pose_run=openpose.run_face_only),
)}
ALIASES = {"pidinet_scribble": "scribble_xdog", "canny_edge": "canny", "tile": "tile_resample",
           "inpaint": "inpaint_only", "lineart_standard (from white bg & black line)": "lineart_standard",
           "invert (from white bg & black line)": "invert",
           "hed": "softedge_hed", "hed_safe": "softedge_hedsafe", "scribble": "scribble_hed", "fake_scribble": "scribble_hed"}


def find_module(name: str | None, field: str = "module") -> Module:
    key = (name or "none").strip()
    key = ALIASES.get(key, key)
    module = MODULES.get(key) or MODULES.get(key.lower())
    if module is None:
        raise BadRequestError.about(field, f"Maple has no preprocessor {name!r}; it has {', '.join(MODULES)}")
    return module


def threshold(value: float, slider: Slider | None) -> float:
    """A unit's threshold with the extension's "-1 means the default"."""
    if slider is None:
        return float(value)
    return float(slider.value) if value is None or value < 0 else float(value)


def scaled_to(image: Array, short_side: int) -> Array:
    """``image`` scaled so its shorter side is ``short_side`` pixels."""
    from PIL import Image

    h, w = image.shape[:2]
    k = short_side / min(h, w)
    if abs(k - 1.0) < 1e-6:
        return image
    size = (max(1, round(w * k)), max(1, round(h * k)))
    filt = Image.Resampling.LANCZOS if k > 1 else Image.Resampling.BOX
    return np.asarray(Image.fromarray(image).resize(size, filt))


def detect(module: Module, image: Array, processor_res: int, threshold_a: float, threshold_b: float,
           mask: Array | None = None, weight_folders: tuple[str, ...] = ()) -> Array:
    """The detected map, HxWx3 float (in [0, 1]; -1 marks inpainting pixels).

    ``weight_folders``: where a network module's weights may be (``annotators.weight_folders``)."""
    weights = annotators.find_weights(*module.weights, weight_folders, module.weights_or) if module.weights else None
    if module.needs_mask:
        if mask is None:
            raise BadRequestError.about("mask", f"the {module.name} preprocessor needs a mask")
        return inpaint_map(image, _fit_mask(mask, image.shape[:2]))
    if module.pose_run is not None:
        return detect_pose(module, image, processor_res, weight_folders)[0]
    if module.resolution and processor_res > 0:
        image = scaled_to(image, processor_res)
    if weights is not None and module.net_run is not None:
        return module.net_run(image, weights)
    a, b = threshold(threshold_a, module.threshold_a), threshold(threshold_b, module.threshold_b)
    return module.run(image, a, b)


def detect_pose(module: Module, image: Array, processor_res: int,
                weight_folders: tuple[str, ...] = ()) -> tuple[Array, dict[str, Any]]:
    """A pose module's drawn skeletons (HxWx3 in [0, 1]) and the pose as OpenPose JSON."""
    if module.pose_run is None or module.weights is None:
        raise BadRequestError.about("module", f"the {module.name} preprocessor does not detect poses")
    folder = module.weights[0]
    paths = tuple(annotators.find_weights(folder, name, weight_folders)
                  for name in (module.weights[1], *module.more_weights))
    if module.resolution and processor_res > 0:
        image = scaled_to(image, processor_res)
    return module.pose_run(image, paths)


def _fit_mask(mask: Array, size: tuple[int, int]) -> Array:
    from PIL import Image

    if mask.shape[:2] == size:
        return mask
    return np.asarray(Image.fromarray(mask).resize((size[1], size[0]), Image.Resampling.NEAREST))


def to_picture(detected: Array) -> Any:
    """The detected map as a PIL picture users see (inpainting pixels black)."""
    from PIL import Image

    return Image.fromarray((detected.clip(0, 1) * 255.0).round().astype(np.uint8))
