"""OpenPose: the body, hand and face networks, and how people are put together from what they see.

The body network (``body_pose_model.pth``) is a VGG-style trunk followed by six refinement stages,
each with two branches: 38 part-affinity channels (an x/y direction field for each of 19 limbs)
and 19 heat maps (18 keypoints and the background). The hand network (``hand_pose_model.pth``) is
a deeper trunk and six stages giving 22 heat maps (21 joints and the background). The files keep
the layer names without a block prefix (``conv1_1.weight``, ``Mconv7_stage6_L2.bias``, ...); they
are read with torch's weights-only loader and must hold every layer with its shape.

Detection, as the sd-webui-controlnet extension does it: the picture (in the blue-green-red order
the networks were trained on) is scaled to 184 pixels high, padded to a multiple of 8 and run
once; the maps are brought back to the picture's size. Keypoint candidates are the local maxima
of each smoothed heat map above 0.1. For each limb every pair of candidates is scored by the
affinity field sampled at ten points along the segment (most samples must agree with the limb's
direction, with a penalty for limbs longer than half the picture); pairs are taken best first,
each candidate once, and limbs sharing a keypoint join into people. People with fewer than four
keypoints or a low mean score are dropped. For hands, a square around each wrist (from the elbow
direction and the forearm and upper-arm lengths) is cut out and run through the hand network at
four scales; each joint is the strongest point of the largest bright region of its heat map. For
faces (``facenet.pth``, the hand network's layout with 71 maps), a square sized from the eyes and
ears around the nose is run at 384 pixels; each of the 70 points is its map's strongest point.
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.generation import pose_drawing
from engine.generation.annotators import AnnotatorMissingError
from engine.generation.pose_drawing import Person, Point, Pose

log = logging.getLogger(__name__)
Array = np.ndarray[Any, Any]

FOLDER = "openpose"
BODY_FILE = "body_pose_model.pth"
HAND_FILE = "hand_pose_model.pth"
FACE_FILE = "facenet.pth"
FILES = {"body": BODY_FILE, "hand": HAND_FILE, "face": FACE_FILE}
BOX_SIZE = 368
BODY_SCALE = 0.5
STRIDE = 8
PAD_VALUE = 128
PEAK_THRESHOLD = 0.1
PAF_THRESHOLD = 0.05
PAF_SAMPLES = 10
HAND_SCALES = (0.5, 1.0, 1.5, 2.0)
HAND_MAP = 128
HAND_THRESHOLD = 0.05
FACE_INPUT = 384
FACE_THRESHOLD = 0.05
MIN_BOX = 20
# limbs (pairs of 0-based keypoints) and the two affinity channels each reads; the first 17 build
# people, the last two (ear to shoulder) only join keypoints already found
PAF_LIMBS: tuple[tuple[int, int], ...] = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13),
    (1, 0), (0, 14), (14, 16), (0, 15), (15, 17), (2, 16), (5, 17))
PAF_CHANNELS: tuple[tuple[int, int], ...] = (
    (12, 13), (20, 21), (14, 15), (16, 17), (22, 23), (24, 25), (0, 1), (2, 3), (4, 5), (6, 7), (8, 9),
    (10, 11), (28, 29), (30, 31), (34, 35), (32, 33), (36, 37), (18, 19), (26, 27))
_NETS: dict[tuple[str, str, int], Any] = {}

Spec = list[tuple[str, tuple[int, ...]]]  # (name, (in, out, kernel, padding)) or a pool as (name, ())


def _trunk(widths: list[tuple[str, int, int]]) -> Spec:
    spec: Spec = []
    for name, cin, cout in widths:
        spec.append((name, () if name.startswith("pool") else (cin, cout, 3, 1)))
    return spec


def _stage(suffix: str, cin: int, cout: int) -> Spec:
    spec: Spec = [(f"Mconv1_{suffix}", (cin, 128, 7, 3))]
    spec += [(f"Mconv{k}_{suffix}", (128, 128, 7, 3)) for k in range(2, 6)]
    return spec + [(f"Mconv6_{suffix}", (128, 128, 1, 0)), (f"Mconv7_{suffix}", (128, cout, 1, 0))]


def _layers(spec: Spec, bare: set[str]) -> Any:
    """A sequence of named 3x3/7x7/1x1 convolutions with ReLUs (not after those in ``bare``) and 2x2 pools."""
    from torch import nn

    layers: list[tuple[str, nn.Module]] = []
    for name, shape in spec:
        if not shape:
            layers.append((name, nn.MaxPool2d(2, 2)))
            continue
        cin, cout, kernel, pad = shape
        layers.append((name, nn.Conv2d(cin, cout, kernel, 1, pad)))
        if name not in bare:
            layers.append((f"relu_{name}", nn.ReLU(inplace=True)))
    return nn.Sequential(OrderedDict(layers))


_VGG = [("conv1_1", 3, 64), ("conv1_2", 64, 64), ("pool1_stage1", 0, 0), ("conv2_1", 64, 128),
        ("conv2_2", 128, 128), ("pool2_stage1", 0, 0), ("conv3_1", 128, 256), ("conv3_2", 256, 256),
        ("conv3_3", 256, 256), ("conv3_4", 256, 256), ("pool3_stage1", 0, 0), ("conv4_1", 256, 512),
        ("conv4_2", 512, 512)]


def body_network() -> Any:
    """The body network with fresh weights (outputs: affinity fields, heat maps)."""
    import torch
    from torch import nn

    # the released network's last heat-map layer keeps its ReLU; every other stage output has none
    bare = {"conv5_5_CPM_L1", "conv5_5_CPM_L2"} | {f"Mconv7_stage{s}_L{b}" for s in range(2, 7) for b in (1, 2)}
    bare.discard("Mconv7_stage6_L2")

    class BodyNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model0 = _layers(_trunk([*_VGG, ("conv4_3_CPM", 512, 256), ("conv4_4_CPM", 256, 128)]), bare)
            for branch, cout in ((1, 38), (2, 19)):
                first: Spec = [(f"conv5_{k}_CPM_L{branch}", (128, 128, 3, 1)) for k in (1, 2, 3)]
                first += [(f"conv5_4_CPM_L{branch}", (128, 512, 1, 0)), (f"conv5_5_CPM_L{branch}", (512, cout, 1, 0))]
                setattr(self, f"model1_{branch}", _layers(first, bare))
                for s in range(2, 7):
                    setattr(self, f"model{s}_{branch}", _layers(_stage(f"stage{s}_L{branch}", 185, cout), bare))

        def forward(self, x: Any) -> Any:
            features = joined = self.model0(x)
            for s in range(1, 7):  # stage 1 sees the features; each later one also the previous guess
                paf, heat = getattr(self, f"model{s}_1")(joined), getattr(self, f"model{s}_2")(joined)
                if s < 6:
                    joined = torch.cat([paf, heat, features], 1)
            return paf, heat

    return BodyNet()


def hand_network() -> Any:
    """The hand network with fresh weights (output: 22 heat maps)."""
    return _cascade(22)


def face_network() -> Any:
    """The face network with fresh weights (output: 71 heat maps, 70 points and the background)."""
    return _cascade(71)


def _cascade(maps: int) -> Any:
    """The hand and face networks' layout: a deep trunk, a first guess and five refinements of ``maps`` maps."""
    import torch
    from torch import nn

    bare = {"conv6_2_CPM"} | {f"Mconv7_stage{s}" for s in range(2, 7)}

    class CascadeNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            deeper = [("conv4_3", 512, 512), ("conv4_4", 512, 512), ("conv5_1", 512, 512), ("conv5_2", 512, 512),
                      ("conv5_3_CPM", 512, 128)]
            self.model1_0 = _layers(_trunk([*_VGG, *deeper]), bare)
            self.model1_1 = _layers([("conv6_1_CPM", (128, 512, 1, 0)), ("conv6_2_CPM", (512, maps, 1, 0))], bare)
            for s in range(2, 7):
                setattr(self, f"model{s}", _layers(_stage(f"stage{s}", maps + 128, maps), bare))

        def forward(self, x: Any) -> Any:
            features = self.model1_0(x)
            out = self.model1_1(features)
            for s in range(2, 7):
                out = getattr(self, f"model{s}")(torch.cat([out, features], 1))
            return out

    return CascadeNet()


def file_state(net: Any) -> dict[str, Any]:
    """``net``'s weights under the names the released files use (no block prefix)."""
    return {key.split(".", 1)[1]: value for key, value in net.state_dict().items()}


def _load(path: Path, what: str, build: Any) -> Any:
    import torch

    key = (what, str(path), path.stat().st_mtime_ns)
    if key in _NETS:
        return _NETS[key]
    net = build()
    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
        if not isinstance(state, dict):
            raise ValueError("the file does not hold a dictionary of weights")
        wanted = net.state_dict()
        missing = [k for k in wanted if k.split(".", 1)[1] not in state]
        if missing:
            raise ValueError(f"{len(missing)} layers are missing, the first {missing[0].split('.', 1)[1]}")
        net.load_state_dict({k: state[k.split(".", 1)[1]].float() for k in wanted}, strict=True)
    except Exception as exc:  # a damaged file, a pickle that wants to run code, other names or shapes
        raise AnnotatorMissingError(f"{path.name} cannot be used as the OpenPose {what} network: {exc}"[:400],
                                    f"Put the ControlNet annotator's own {FILES[what]} "
                                    f"into the {FOLDER} folder.") from exc
    for old in [k for k in _NETS if k[0] == what]:
        del _NETS[old]
    _NETS[key] = net.eval().requires_grad_(False)
    return _NETS[key]


def body_net(path: Path) -> Any:
    return _load(path, "body", body_network)


def hand_net(path: Path) -> Any:
    return _load(path, "hand", hand_network)


def face_net(path: Path) -> Any:
    return _load(path, "face", face_network)


def _resized(image: Array, size: tuple[int, int]) -> Array:
    """A uint8 picture at (width, height): box filter when shrinking, Lanczos when enlarging."""
    from PIL import Image

    h, w = image.shape[:2]
    if (w, h) == size:
        return image
    grow = size[0] + size[1] > w + h
    filt = Image.Resampling.LANCZOS if grow else Image.Resampling.BOX
    return np.asarray(Image.fromarray(np.ascontiguousarray(image)).resize(size, filt))


def _maps_at(maps: Any, valid: tuple[int, int], size: tuple[int, int]) -> Array:
    """Network maps (1xCxhxw) enlarged by the stride, cropped to ``valid`` (h, w), resized to ``size`` (h, w)."""
    import torch.nn.functional as F  # noqa: N812

    up = F.interpolate(maps, scale_factor=STRIDE, mode="bicubic", align_corners=False)
    up = up[:, :, :valid[0], :valid[1]]
    out = F.interpolate(up, size=size, mode="bicubic", align_corners=False, antialias=True)
    return np.asarray(out[0].permute(1, 2, 0).double().numpy())


def _net_input(image: Array) -> tuple[Any, tuple[int, int]]:
    import torch

    h, w = image.shape[:2]
    padded = np.pad(image, ((0, -h % STRIDE), (0, -w % STRIDE), (0, 0)), constant_values=PAD_VALUE)
    x = torch.from_numpy(np.ascontiguousarray(padded, dtype=np.float32) / 256.0 - 0.5).permute(2, 0, 1)[None]
    return x, (h, w)


def body_maps(net: Any, image: Array) -> tuple[Array, Array]:
    """Heat maps (HxWx19) and affinity fields (HxWx38) of an RGB uint8 picture, at its size."""
    import torch

    h, w = image.shape[:2]
    k = BODY_SCALE * BOX_SIZE / h
    scaled = _resized(image[:, :, ::-1], (max(1, int(w * k)), max(1, int(h * k))))
    x, valid = _net_input(scaled)
    with torch.no_grad():
        paf, heat = net(x)
    return _maps_at(heat, valid, (h, w)), _maps_at(paf, valid, (h, w))


@dataclass(frozen=True)
class Peak:
    x: int
    y: int
    score: float
    id: int


def find_peaks(heat: Array) -> list[list[Peak]]:
    """Per keypoint, the local maxima of its smoothed heat map above the threshold (ids count up overall)."""
    from scipy.ndimage import gaussian_filter

    found: list[list[Peak]] = []
    counter = 0
    for part in range(pose_drawing.BODY_POINTS):
        raw = heat[:, :, part]
        smooth = gaussian_filter(raw, sigma=3)
        padded = np.pad(smooth, 1)  # zeros around, as the neighbour comparison expects
        centre = padded[1:-1, 1:-1]
        top = (centre >= padded[:-2, 1:-1]) & (centre >= padded[2:, 1:-1])
        side = (centre >= padded[1:-1, :-2]) & (centre >= padded[1:-1, 2:])
        ys, xs = np.nonzero(top & side & (centre > PEAK_THRESHOLD))
        found.append([Peak(int(x), int(y), float(raw[y, x]), counter + n) for n, (y, x) in enumerate(zip(ys, xs, strict=True))])
        counter += len(xs)
    return found


def _limb_score(a: Peak, b: Peak, field: Array, height: int) -> float | None:
    """How well the affinity field supports a limb from ``a`` to ``b`` (None: not a limb)."""
    dx, dy = b.x - a.x, b.y - a.y
    norm = max(0.001, math.hypot(dx, dy))
    xs = np.rint(np.linspace(a.x, b.x, PAF_SAMPLES)).astype(int)
    ys = np.rint(np.linspace(a.y, b.y, PAF_SAMPLES)).astype(int)
    along = field[ys, xs, 0] * (dx / norm) + field[ys, xs, 1] * (dy / norm)
    score = float(along.mean()) + min(0.5 * height / norm - 1.0, 0.0)
    agreeing = int((along > PAF_THRESHOLD).sum())
    return score if agreeing > 0.8 * PAF_SAMPLES and score > 0 else None


def find_limbs(peaks: list[list[Peak]], paf: Array) -> list[list[tuple[Peak, Peak, float]] | None]:
    """Per limb, the chosen (start, end, score) pairs, best first, each keypoint used once."""
    limbs: list[list[tuple[Peak, Peak, float]] | None] = []
    for (ia, ib), (cx, cy) in zip(PAF_LIMBS, PAF_CHANNELS, strict=True):
        starts, ends = peaks[ia], peaks[ib]
        if not starts or not ends:
            limbs.append(None)
            continue
        field = paf[:, :, [cx, cy]]
        scored = []
        for i, a in enumerate(starts):
            for j, b in enumerate(ends):
                score = _limb_score(a, b, field, paf.shape[0])
                if score is not None:
                    scored.append((score, i, j))
        scored.sort(key=lambda item: -item[0])
        chosen: list[tuple[Peak, Peak, float]] = []
        used_a: set[int] = set()
        used_b: set[int] = set()
        for score, i, j in scored:
            if i in used_a or j in used_b:
                continue
            chosen.append((starts[i], ends[j], score))
            used_a.add(i)
            used_b.add(j)
            if len(chosen) >= min(len(starts), len(ends)):
                break
        limbs.append(chosen)
    return limbs


@dataclass
class _Body:
    parts: list[int]  # candidate id per keypoint, -1 where none
    score: float
    count: int


def assemble(peaks: list[list[Peak]], limbs: list[list[tuple[Peak, Peak, float]] | None]) -> list[_Body]:
    """People from the chosen limbs: limbs sharing a keypoint belong to one person."""
    score_of = {p.id: p.score for part in peaks for p in part}
    people: list[_Body] = []
    for k, chosen in enumerate(limbs):
        if chosen is None:
            continue
        ia, ib = PAF_LIMBS[k]
        for a, b, score in chosen:
            hits = [n for n, person in enumerate(people) if person.parts[ia] == a.id or person.parts[ib] == b.id]
            overlapping = len(hits) == 2 and _overlap(people[hits[0]], people[hits[1]])
            if len(hits) == 1 or overlapping:
                person = people[hits[0]]
                if person.parts[ib] != b.id or overlapping:  # (two overlapping pieces: counted again, as released)
                    person.parts[ib] = b.id
                    person.count += 1
                    person.score += score_of[b.id] + score
            elif len(hits) == 2:  # two separate pieces of one person: join them
                first, second = people[hits[0]], people[hits[1]]
                first.parts = [max(x, y) if min(x, y) == -1 else x for x, y in zip(first.parts, second.parts, strict=True)]
                first.score += second.score + score
                first.count += second.count
                del people[hits[1]]
            elif not hits and k < 17:
                parts = [-1] * pose_drawing.BODY_POINTS
                parts[ia], parts[ib] = a.id, b.id
                people.append(_Body(parts, score_of[a.id] + score_of[b.id] + score, 2))
    return [p for p in people if p.count >= 4 and p.score / p.count >= 0.4]


def _overlap(one: _Body, other: _Body) -> bool:
    return any(x >= 0 and y >= 0 for x, y in zip(one.parts, other.parts, strict=True))


def detect_bodies(heat: Array, paf: Array) -> list[tuple[Point, ...]]:
    """Each person's 18 body keypoints in pixels, from the heat maps and affinity fields."""
    peaks = find_peaks(heat)
    where = {p.id: (float(p.x), float(p.y)) for part in peaks for p in part}
    people = assemble(peaks, find_limbs(peaks, paf))
    return [tuple(where[i] if i >= 0 else None for i in person.parts) for person in people]


def hand_boxes(body: tuple[Point, ...], width: int, height: int) -> list[tuple[int, int, int, bool]]:
    """Squares (left, top, side, is_left) around each hand whose shoulder, elbow and wrist were found."""
    boxes = []
    for shoulder, elbow, wrist, is_left in ((5, 6, 7, True), (2, 3, 4, False)):
        s, e, w = body[shoulder], body[elbow], body[wrist]
        if s is None or e is None or w is None:
            continue
        cx, cy = w[0] + 0.33 * (w[0] - e[0]), w[1] + 0.33 * (w[1] - e[1])
        side = 1.5 * max(math.hypot(w[0] - e[0], w[1] - e[1]), 0.9 * math.hypot(e[0] - s[0], e[1] - s[1]))
        x, y = max(0.0, cx - side / 2), max(0.0, cy - side / 2)
        side = min(side, width - x, height - y)
        if side >= MIN_BOX:
            boxes.append((int(x), int(y), int(side), is_left))
    return boxes


def hand_heat(net: Any, crop: Array) -> Array:
    """The hand network's heat maps (128x128x22) of a BGR uint8 crop, averaged over four scales."""
    import torch
    from scipy.ndimage import gaussian_filter

    smooth = gaussian_filter(crop.astype(np.float32), sigma=(0.8, 0.8, 0), mode="mirror", truncate=3.75)
    smooth = smooth.round().clip(0, 255).astype(np.uint8)
    total = np.zeros((HAND_MAP, HAND_MAP, 22))
    for scale in HAND_SCALES:
        side = int(scale * BOX_SIZE)
        x, valid = _net_input(_resized(smooth, (side, side)))
        with torch.no_grad():
            out = net(x)
        total += _maps_at(out, valid, (HAND_MAP, HAND_MAP)) / len(HAND_SCALES)
    return total


def hand_points(heat: Array, height: int, width: int) -> tuple[Point, ...]:
    """Each joint at the strongest point of the largest bright region of its map (in crop pixels)."""
    from scipy.ndimage import gaussian_filter, label

    out: list[Point] = []
    for part in range(pose_drawing.HAND_POINTS):
        raw = heat[:, :, part].copy()
        bright = gaussian_filter(raw, sigma=3) > HAND_THRESHOLD
        if not bright.any():
            out.append(None)
            continue
        regions, count = label(bright, structure=np.ones((3, 3)))
        sums = [float(raw[regions == n].sum()) for n in range(1, count + 1)]
        raw[regions != int(np.argmax(sums)) + 1] = 0
        y, x = np.unravel_index(int(np.argmax(raw)), raw.shape)
        px, py = int(x * width / HAND_MAP), int(y * height / HAND_MAP)
        out.append(None if px == 0 or py == 0 else (float(px), float(py)))  # on the crop's edge: not found
    return tuple(out)


def detect_hands(net: Any, image: Array, body: tuple[Point, ...]) -> tuple[tuple[Point, ...] | None, ...]:
    """(left hand, right hand) joints in picture pixels for one person."""
    bgr = image[:, :, ::-1]
    hands: dict[bool, tuple[Point, ...]] = {}
    for x, y, side, is_left in hand_boxes(body, image.shape[1], image.shape[0]):
        joints = hand_points(hand_heat(net, bgr[y:y + side, x:x + side]), side, side)
        hands[is_left] = tuple(None if p is None else (p[0] + x, p[1] + y) for p in joints)
    return hands.get(True), hands.get(False)


def face_box(body: tuple[Point, ...], width: int, height: int) -> tuple[int, int, int] | None:
    """A square (left, top, side) around the face, sized from the eyes and ears around the nose."""
    head = body[0]
    if head is None:
        return None
    side = 0.0
    for part, factor in ((14, 3.0), (15, 3.0), (16, 1.5), (17, 1.5)):  # eyes, then ears
        point = body[part]
        if point is not None:
            side = max(side, factor * max(abs(head[0] - point[0]), abs(head[1] - point[1])))
    if side == 0.0:
        return None
    x, y = max(0.0, head[0] - side), max(0.0, head[1] - side)
    across = 2 * side if x + side <= width else width - x
    down = 2 * side if y + side <= height else height - y
    side = min(across, down)
    return (int(x), int(y), int(side)) if side >= MIN_BOX else None


def face_points(net: Any, crop: Array) -> tuple[Point, ...]:
    """The 70 face points of a BGR uint8 crop (in crop pixels), each at its map's strongest point."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    h, w = crop.shape[:2]
    scaled = _resized(crop, (FACE_INPUT, FACE_INPUT))
    x = torch.from_numpy(np.ascontiguousarray(scaled, dtype=np.float32) / 256.0 - 0.5).permute(2, 0, 1)[None]
    with torch.no_grad():
        heat = F.interpolate(net(x), (h, w), mode="bilinear", align_corners=True)[0].numpy()
    out: list[Point] = []
    for part in range(pose_drawing.FACE_POINTS):
        if float(heat[part].max()) <= FACE_THRESHOLD:
            out.append(None)
            continue
        py, px = np.unravel_index(int(np.argmax(heat[part])), heat[part].shape)
        out.append((float(px), float(py)))
    return tuple(out)


def detect_face(net: Any, image: Array, body: tuple[Point, ...]) -> tuple[Point, ...] | None:
    box = face_box(body, image.shape[1], image.shape[0])
    if box is None:
        return None
    x, y, side = box
    points = face_points(net, image[y:y + side, x:x + side, ::-1])
    return tuple(None if p is None else (p[0] + x, p[1] + y) for p in points)


def detect_pose(image: Array, body_path: Path, hand_path: Path | None = None, face_path: Path | None = None) -> Pose:
    """People in an RGB uint8 picture: body keypoints, and hands / faces when their weights are given."""
    h, w = image.shape[:2]
    heat, paf = body_maps(body_net(body_path), image)
    # loaded (and so checked) even when nobody is found
    hands = hand_net(hand_path) if hand_path is not None else None
    faces = face_net(face_path) if face_path is not None else None
    people = []
    for body in detect_bodies(heat, paf):
        left, right = detect_hands(hands, image, body) if hands is not None else (None, None)
        face = detect_face(faces, image, body) if faces is not None else None
        people.append(Person(body, left, right, face))
    log.debug("OpenPose found %d people in a %dx%d picture", len(people), w, h)
    return Pose(tuple(people), w, h)


def _answer(pose: Pose, body: bool = True) -> tuple[Array, dict[str, Any]]:
    drawn = pose_drawing.draw_pose(pose, body=body)
    return drawn.astype(np.float32) / 255.0, pose_drawing.pose_to_json(pose)


def run_body(image: Array, paths: tuple[Path, ...]) -> tuple[Array, dict[str, Any]]:
    """``openpose``: the body skeletons on black (HxWx3 in [0, 1]) and the pose JSON."""
    return _answer(detect_pose(image, paths[0]))


def run_body_and_hands(image: Array, paths: tuple[Path, ...]) -> tuple[Array, dict[str, Any]]:
    """``openpose_hand``: bodies and hands (weights: body, hand)."""
    return _answer(detect_pose(image, paths[0], hand_path=paths[1]))


def run_body_and_face(image: Array, paths: tuple[Path, ...]) -> tuple[Array, dict[str, Any]]:
    """``openpose_face``: bodies and faces (weights: body, face)."""
    return _answer(detect_pose(image, paths[0], face_path=paths[1]))


def run_face_only(image: Array, paths: tuple[Path, ...]) -> tuple[Array, dict[str, Any]]:
    """``openpose_faceonly``: only the faces are drawn; the JSON keeps the bodies (weights: body, face)."""
    return _answer(detect_pose(image, paths[0], face_path=paths[1]), body=False)


def run_full(image: Array, paths: tuple[Path, ...]) -> tuple[Array, dict[str, Any]]:
    """``openpose_full``: bodies, hands and faces (weights: body, hand, face)."""
    return _answer(detect_pose(image, paths[0], paths[1], paths[2]))
