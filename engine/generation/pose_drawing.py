"""Pose skeletons drawn as OpenPose ControlNets read them, and the OpenPose JSON they come from.

A person is 18 body keypoints in the COCO order OpenPose uses (nose, neck, right shoulder, elbow,
wrist, left shoulder, elbow, wrist, right hip, knee, ankle, left hip, knee, ankle, right eye, left
eye, right ear, left ear), optionally 21 points per hand and 70 face points. The picture is black
with each of the 17 limbs a filled ellipse four pixels thick in its own colour at 60 % brightness,
each body keypoint a disc of radius 4 in full colour, hand bones two-pixel lines with round ends
in colours around the hue circle with blue joints, and face points white discs of radius 3: the drawing the
sd-webui-controlnet extension makes and that OpenPose ControlNet models were trained on.

The JSON is the OpenPose output format the extension reads and writes: ``{"people": [{
"pose_keypoints_2d": [x, y, c, ...], "hand_left_keypoints_2d": ..., "hand_right_keypoints_2d": ...,
"face_keypoints_2d": ...}], "canvas_width": W, "canvas_height": H}``. A point whose confidence is
below 1 is missing (the extension's rule); coordinates all within [0, 1] are fractions of the canvas,
otherwise pixels.
"""

from __future__ import annotations

import colorsys
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.errors import BadRequestError

log = logging.getLogger(__name__)
Array = np.ndarray[Any, Any]
Point = tuple[float, float] | None

BODY_POINTS = 18
HAND_POINTS = 21
FACE_POINTS = 70
MAX_CANVAS = 4096
# limbs as pairs of body keypoint indices (0-based), in drawing order, each with its colour
LIMBS: tuple[tuple[int, int], ...] = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13),
    (1, 0), (0, 14), (14, 16), (0, 15), (15, 17))
COLOURS: tuple[tuple[int, int, int], ...] = (
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0), (0, 255, 0),
    (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255), (0, 0, 255), (85, 0, 255),
    (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85))
HAND_BONES: tuple[tuple[int, int], ...] = tuple(
    pair for finger in range(5) for pair in ((0 if k == 0 else 4 * finger + k, 4 * finger + k + 1) for k in range(4)))
STICK_HALF_WIDTH = 4
JOINT_RADIUS = 4
FACE_RADIUS = 3
BONE_REACH = 1.5
EDGE = 0.01  # hand and face points at or left of / above this pixel are "not found"


@dataclass(frozen=True)
class Person:
    """One person's keypoints in pixels of the canvas (``None``: not found)."""

    body: tuple[Point, ...]
    left_hand: tuple[Point, ...] | None = None
    right_hand: tuple[Point, ...] | None = None
    face: tuple[Point, ...] | None = None


@dataclass(frozen=True)
class Pose:
    people: tuple[Person, ...]
    width: int
    height: int


def _ellipse(cx: int, cy: int, half_length: int, half_width: int, degrees: int) -> list[tuple[float, float]]:
    """The outline of a rotated ellipse, one point per degree."""
    a = math.radians(degrees)
    ca, sa = math.cos(a), math.sin(a)
    out: list[tuple[float, float]] = []
    for step in range(361):
        t = math.radians(step)
        x, y = half_length * math.cos(t), half_width * math.sin(t)
        out.append((cx + round(x * ca - y * sa), cy + round(x * sa + y * ca)))
    return out


def _disc(draw: Any, x: int, y: int, radius: int, colour: tuple[int, int, int]) -> None:
    """The pixels whose centres lie within ``radius`` of (x, y)."""
    span = range(-radius, radius + 1)
    draw.point([(x + dx, y + dy) for dy in span for dx in span if dx * dx + dy * dy <= radius * radius], fill=colour)


def _bone(draw: Any, ends: tuple[int, int, int, int], colour: tuple[int, int, int]) -> None:
    """A line two pixels wide with round ends: the pixels within 1.5 of the segment."""
    x1, y1, x2, y2 = ends
    ys, xs = np.mgrid[min(y1, y2) - 2: max(y1, y2) + 3, min(x1, x2) - 2: max(x1, x2) + 3]
    dx, dy = x2 - x1, y2 - y1
    t = np.clip(((xs - x1) * dx + (ys - y1) * dy) / max(1, dx * dx + dy * dy), 0.0, 1.0)
    near = np.hypot(xs - (x1 + t * dx), ys - (y1 + t * dy)) <= BONE_REACH
    draw.point(list(zip(xs[near].tolist(), ys[near].tolist(), strict=True)), fill=colour)


def draw_body(draw: Any, body: Sequence[Point]) -> None:
    for (i, j), colour in zip(LIMBS, COLOURS, strict=False):
        a, b = (body[i], body[j]) if max(i, j) < len(body) else (None, None)
        if a is None or b is None:
            continue
        length = math.hypot(a[0] - b[0], a[1] - b[1])
        angle = math.degrees(math.atan2(a[1] - b[1], a[0] - b[0]))
        centre = (int((a[0] + b[0]) / 2), int((a[1] + b[1]) / 2))
        dim = tuple(int(c * 0.6) for c in colour)
        draw.polygon(_ellipse(*centre, int(length / 2), STICK_HALF_WIDTH, int(angle)), fill=dim)
    for point, colour in zip(body, COLOURS, strict=False):
        if point is not None:
            _disc(draw, int(point[0]), int(point[1]), JOINT_RADIUS, colour)


def _hue(index: int, count: int) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(index / count, 1.0, 1.0)
    return round(r * 255), round(g * 255), round(b * 255)


def draw_hand(draw: Any, hand: Sequence[Point] | None) -> None:
    if not hand:
        return
    for n, (i, j) in enumerate(HAND_BONES):
        a, b = (hand[i], hand[j]) if j < len(hand) else (None, None)
        if a is None or b is None:
            continue
        ends = (int(a[0]), int(a[1]), int(b[0]), int(b[1]))
        if min(ends) > EDGE:
            _bone(draw, ends, _hue(n, len(HAND_BONES)))
    for point in hand:
        if point is not None and min(int(point[0]), int(point[1])) > EDGE:
            _disc(draw, int(point[0]), int(point[1]), JOINT_RADIUS, (0, 0, 255))


def draw_face(draw: Any, face: Sequence[Point] | None) -> None:
    for point in face or ():
        if point is not None and min(int(point[0]), int(point[1])) > EDGE:
            _disc(draw, int(point[0]), int(point[1]), FACE_RADIUS, (255, 255, 255))


def draw_pose(pose: Pose, body: bool = True, hands: bool = True, face: bool = True) -> Array:
    """The skeletons on a black canvas, HxWx3 uint8 (RGB)."""
    from PIL import Image, ImageDraw

    canvas = Image.new("RGB", (pose.width, pose.height))
    draw = ImageDraw.Draw(canvas)
    for person in pose.people:
        if body:
            draw_body(draw, person.body)
        if hands:
            draw_hand(draw, person.left_hand)
            draw_hand(draw, person.right_hand)
        if face:
            draw_face(draw, person.face)
    return np.asarray(canvas)


def _points(numbers: Any, field: str, size: tuple[int, int]) -> tuple[Point, ...] | None:
    if numbers is None or (isinstance(numbers, list) and not numbers):
        return None
    if not isinstance(numbers, list) or len(numbers) % 3 or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in numbers):
        raise BadRequestError.about(field, "must be a list of numbers, three (x, y, confidence) per keypoint")
    triples = [numbers[k:k + 3] for k in range(0, len(numbers), 3)]
    found = [(float(x), float(y)) for x, y, c in triples if c >= 1.0]
    fractions = bool(found) and all(abs(x) <= 1 and abs(y) <= 1 for x, y in found)
    kx, ky = (size[0], size[1]) if fractions else (1, 1)
    return tuple((float(x) * kx, float(y) * ky) if c >= 1.0 else None for x, y, c in triples)


def pose_from_json(data: Any, field: str = "pose") -> Pose:
    """A Pose from OpenPose JSON (a dict); a malformed one is a 422 naming the field."""
    if not isinstance(data, dict):
        raise BadRequestError.about(field, "must be an OpenPose JSON object")
    size = []
    for key in ("canvas_width", "canvas_height"):
        value = data.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_CANVAS:
            raise BadRequestError.about(f"{field}.{key}", f"must be a whole number of pixels from 1 to {MAX_CANVAS}")
        size.append(value)
    people = data.get("people")
    if not isinstance(people, list):
        raise BadRequestError.about(f"{field}.people", "must be a list of people")
    out = []
    for n, raw in enumerate(people):
        where = f"{field}.people[{n}]"
        if not isinstance(raw, dict):
            raise BadRequestError.about(where, "must be an object with pose_keypoints_2d")
        parts = {key: _points(raw.get(key), f"{where}.{key}", (size[0], size[1])) for key in (
            "pose_keypoints_2d", "hand_left_keypoints_2d", "hand_right_keypoints_2d", "face_keypoints_2d")}
        out.append(Person(parts["pose_keypoints_2d"] or (), parts["hand_left_keypoints_2d"],
                          parts["hand_right_keypoints_2d"], parts["face_keypoints_2d"]))
    return Pose(tuple(out), size[0], size[1])


def _flat(points: Sequence[Point] | None, width: int, height: int) -> list[float] | None:
    if not points:
        return None
    out: list[float] = []
    for p in points:
        out += [0.0, 0.0, 0.0] if p is None else [p[0] / width, p[1] / height, 1.0]
    return out


def pose_to_json(pose: Pose) -> dict[str, Any]:
    """The pose as the extension's detect answers it: keypoints as fractions of the canvas."""
    w, h = pose.width, pose.height
    return {
        "people": [{"pose_keypoints_2d": _flat(p.body, w, h), "face_keypoints_2d": _flat(p.face, w, h),
                    "hand_left_keypoints_2d": _flat(p.left_hand, w, h),
                    "hand_right_keypoints_2d": _flat(p.right_hand, w, h)} for p in pose.people],
        "animals": [], "canvas_height": h, "canvas_width": w}
