"""The plain image analysis that measures the built-in model reads the script's own drawings exactly."""

from __future__ import annotations

import random

from scripts.shapes.draw import draw_scene
from scripts.shapes.vocab import Scene, held_out_scenes
from tests.engine.shape_analysis import look


def test_the_analysis_reads_every_drawn_scene() -> None:
    scenes = held_out_scenes(200)
    wrong = []
    for i, scene in enumerate(scenes):
        seen = look(draw_scene(scene, random.Random(i)))
        found = seen and (seen.colour, seen.shape, seen.background, seen.row, seen.col)
        if found != (scene.colour, scene.shape, scene.background, scene.row, scene.col):
            wrong.append((scene.prompt(), found))
    assert not wrong, wrong


def test_an_outlined_shape_reads_as_hollow_and_a_plain_one_does_not() -> None:
    """Squares and circles (a triangle's outline leaves little empty at its box's middle)."""
    for shape in ("square", "circle"):
        for size in ("large", "", "small"):
            scene = Scene("green", shape, "gray", size, 1, 1)
            plain, outlined = (look(draw_scene(scene, random.Random(1), outlined=o)) for o in (False, True))
            assert plain is not None and outlined is not None
            assert not plain.hollow and outlined.hollow, (shape, size)
            assert outlined.colour == "green" and outlined.background == "gray"
