"""What the built-in shapes model knows: colours, shapes, sizes, positions and the prompts built from them.

One scene is a shape of one colour on a plain background. ``Scene.prompt()`` writes it the way the
model was taught ("a small red circle on a blue background, top left"); ``is_held_out`` keeps one
scene in ten out of training so adherence is measured on prompts the model never saw.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 35), "orange": (245, 135, 20), "yellow": (245, 225, 40), "green": (40, 165, 60),
    "cyan": (40, 210, 225), "blue": (35, 65, 215), "purple": (135, 50, 185), "pink": (245, 135, 195),
    "white": (245, 245, 245), "black": (20, 20, 20),
}
BACKGROUNDS: dict[str, tuple[int, int, int]] = {**COLOURS, "gray": (128, 128, 128)}
SHAPES = ("circle", "square", "triangle", "star", "ring")
SIZES: dict[str, float] = {"small": 0.30, "": 0.44, "large": 0.62}  # the shape's extent over the picture's side
ROWS = ("top", "", "bottom")
COLUMNS = ("left", "", "right")
MIN_CONTRAST = 110.0  # RGB distance a shape's colour keeps from its background


def distance(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    return float(sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) ** 0.5)


def backgrounds_for(colour: str) -> list[str]:
    """The backgrounds a shape of ``colour`` may stand on (far enough from it to be seen)."""
    return [b for b, rgb in BACKGROUNDS.items() if distance(rgb, COLOURS[colour]) >= MIN_CONTRAST]


def position_words(row: int, col: int) -> str:
    words = " ".join(w for w in (ROWS[row], COLUMNS[col]) if w)
    return words or "center"


@dataclass(frozen=True)
class Scene:
    colour: str
    shape: str
    background: str
    size: str  # "small", "" (medium) or "large"
    row: int  # 0 top, 1 middle, 2 bottom
    col: int  # 0 left, 1 middle, 2 right

    def prompt(self, style: int = 0) -> str:
        thing = " ".join(w for w in (self.size, self.colour, self.shape) if w)
        where = position_words(self.row, self.col)
        if style == 1:
            return f"{thing}, {self.background} background, {where}"
        return f"a {thing} on a {self.background} background, {where}"

    def key(self) -> str:
        return f"{self.colour}|{self.shape}|{self.background}|{self.size}|{self.row}{self.col}"


def is_held_out(scene: Scene) -> bool:
    """One scene in ten (by a hash of its words) is never drawn for training."""
    return hashlib.sha256(scene.key().encode()).digest()[0] % 10 == 0


def random_scene(rng: random.Random) -> Scene:
    colour = rng.choice(list(COLOURS))
    return Scene(colour, rng.choice(SHAPES), rng.choice(backgrounds_for(colour)), rng.choice(list(SIZES)),
                 rng.randrange(3), rng.randrange(3))


def training_scenes(count: int, seed: int) -> list[Scene]:
    rng = random.Random(seed)
    out: list[Scene] = []
    while len(out) < count:
        scene = random_scene(rng)
        if not is_held_out(scene):
            out.append(scene)
    return out


def held_out_scenes(count: int, seed: int = 7) -> list[Scene]:
    """``count`` different scenes the model never saw, the same ones on every run."""
    rng = random.Random(seed)
    seen: dict[str, Scene] = {}
    while len(seen) < count:
        scene = random_scene(rng)
        if is_held_out(scene):
            seen.setdefault(scene.key(), scene)
    return list(seen.values())
