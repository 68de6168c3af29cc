"""OpenPose: the skeleton drawing, people put together from planted heat maps, the networks in their
released layout with random weights, and the extension's routes (detect's poses, render_openpose_json)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from engine.generation import annotator_openpose as op
from engine.generation import annotators, pose_drawing
from engine.generation import preprocessors as pre
from tests.engine.server_helpers import Engine, decode_png, png_b64, populated_engine

# one person (x, y) in the 18 keypoints' order, standing in a 160x200 box
PERSON = ((80, 30), (80, 55), (60, 55), (55, 85), (52, 112), (100, 55), (105, 85), (108, 112), (68, 115),
          (66, 150), (65, 185), (92, 115), (94, 150), (95, 185), (75, 25), (85, 25), (70, 28), (90, 28))


def write_net(path: Path, net: Any, seed: int) -> Path:
    """Random weights of ``net`` under the released file's layer names (half precision to keep the file small)."""
    torch.manual_seed(seed)
    for p in net.parameters():
        p.data.normal_(0, 0.02)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({k: v.half() for k, v in op.file_state(net).items()}, str(path))
    return path


def flat(points: Sequence[tuple[float, float] | None]) -> list[float]:
    return [v for p in points for v in ((p[0], p[1], 1.0) if p else (0.0, 0.0, 0.0))]


def test_drawing_a_pose_json_puts_limbs_and_joints_at_known_pixels() -> None:
    body: list[tuple[float, float] | None] = [None] * 18
    body[1], body[2], body[3] = (100, 60), (60, 60), (60, 100)  # neck, right shoulder, right elbow
    pose = pose_drawing.pose_from_json({"people": [{"pose_keypoints_2d": flat(body)}],
                                        "canvas_width": 200, "canvas_height": 160})
    canvas = pose_drawing.draw_pose(pose)
    assert canvas.shape == (160, 200, 3) and canvas.dtype == np.uint8
    assert tuple(canvas[60, 80]) == (153, 0, 0)  # neck to right shoulder: red at 60 %
    assert tuple(canvas[80, 60]) == (153, 102, 0)  # shoulder to elbow: orange at 60 %
    assert tuple(canvas[63, 80]) == (153, 0, 0) and tuple(canvas[66, 80]) == (0, 0, 0)  # four pixels thick
    assert tuple(canvas[60, 100]) == (255, 85, 0)  # the neck's disc, in full colour
    assert tuple(canvas[60, 104]) == (255, 85, 0) and tuple(canvas[63, 103]) == (0, 0, 0)  # radius 4, round
    assert tuple(canvas[60, 60]) == (255, 170, 0) and tuple(canvas[100, 60]) == (255, 255, 0)
    assert tuple(canvas[60, 105]) == (0, 0, 0) and canvas[110:, 100:].max() == 0
    # the same pose as fractions of the canvas draws the same picture; confidence below 1 is "not found"
    fractions = [None if p is None else (p[0] / 200, p[1] / 160) for p in body]
    raw = flat(fractions)
    raw[0:3] = [0.5, 0.5, 0.9]
    again = pose_drawing.draw_pose(pose_drawing.pose_from_json(
        {"people": [{"pose_keypoints_2d": raw}], "canvas_width": 200, "canvas_height": 160}))
    assert np.array_equal(again, canvas)


def test_hands_and_face_are_drawn_in_their_colours() -> None:
    hand: list[tuple[float, float] | None] = [None] * 21
    hand[0], hand[1] = (20, 20), (40, 20)
    pose = pose_drawing.pose_from_json({"people": [{
        "pose_keypoints_2d": [], "hand_left_keypoints_2d": flat(hand),
        "face_keypoints_2d": [60.0, 60.0, 1.0]}], "canvas_width": 80, "canvas_height": 80})
    canvas = pose_drawing.draw_pose(pose)
    assert tuple(canvas[20, 30]) == (255, 0, 0)  # the first bone: hue 0
    assert tuple(canvas[20, 20]) == (0, 0, 255) and tuple(canvas[20, 40]) == (0, 0, 255)  # blue joints
    assert tuple(canvas[60, 60]) == (255, 255, 255) and tuple(canvas[60, 64]) == (0, 0, 0)  # face: radius 3
    assert not pose_drawing.draw_pose(pose, hands=False, face=False).any()


def test_a_malformed_pose_json_names_the_field() -> None:
    from engine.errors import BadRequestError

    with pytest.raises(BadRequestError) as caught:
        pose_drawing.pose_from_json({"people": [{"pose_keypoints_2d": [1, 2]}], "canvas_width": 8,
                                     "canvas_height": 8})
    assert caught.value.field == "pose.people[0].pose_keypoints_2d"
    with pytest.raises(BadRequestError, match="whole number of pixels"):
        pose_drawing.pose_from_json({"people": [], "canvas_width": 0, "canvas_height": 8})


def planted_maps(people: list[tuple[tuple[int, int] | None, ...]], height: int, width: int) -> tuple[
        np.ndarray, np.ndarray]:
    """Heat maps with a blob on each keypoint and affinity fields along each limb, as a trained net gives."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    heat = np.zeros((height, width, 19))
    paf = np.zeros((height, width, 38))
    for person in people:
        for part, point in enumerate(person):
            if point is not None:
                heat[:, :, part] = np.maximum(heat[:, :, part],
                                              np.exp(-((xs - point[0]) ** 2 + (ys - point[1]) ** 2) / 8.0))
        for (a, b), (cx, cy) in zip(op.PAF_LIMBS, op.PAF_CHANNELS, strict=True):
            pa, pb = person[a], person[b]
            if pa is None or pb is None:
                continue
            d = np.array(pb, float) - np.array(pa, float)
            length = float(np.hypot(*d))
            ux, uy = d / length
            t = ((xs - pa[0]) * ux + (ys - pa[1]) * uy)
            off = np.abs((xs - pa[0]) * uy - (ys - pa[1]) * ux)
            near = (t >= -1) & (t <= length + 1) & (off <= 2)
            paf[near, cx], paf[near, cy] = ux, uy
    return heat, paf


def test_peak_assembly_finds_the_people_planted_in_heat_maps() -> None:
    second = tuple((x + 160, y) for x, y in PERSON)
    one_armed = tuple(None if i in (6, 7) else (x + 320, y) for i, (x, y) in enumerate(PERSON))
    heat, paf = planted_maps([PERSON, second, one_armed], 200, 480)
    found = sorted(op.detect_bodies(heat, paf), key=lambda body: body[1][0] if body[1] else 0)
    assert len(found) == 3
    assert found[0] == tuple((float(x), float(y)) for x, y in PERSON)
    assert found[1] == tuple((float(x), float(y)) for x, y in second)
    assert found[2][6] is None and found[2][7] is None and found[2][5] == (420.0, 55.0)
    assert not op.detect_bodies(np.zeros((50, 50, 19)), np.zeros((50, 50, 38)))


def test_hand_boxes_and_joints_from_heat_maps() -> None:
    body = tuple((float(x), float(y)) for x, y in PERSON)
    boxes = op.hand_boxes(body, 160, 200)
    assert [b[3] for b in boxes] == [True, False]
    x, y, side, _ = boxes[1]
    forearm, upper = math.hypot(3, 27), math.hypot(5, 30)
    assert side == int(1.5 * max(forearm, 0.9 * upper))
    assert x <= 52 <= x + side and y <= 112 <= y + side  # the right wrist lies in its box
    heat = np.zeros((op.HAND_MAP, op.HAND_MAP, 22))
    ys, xs = np.mgrid[0:op.HAND_MAP, 0:op.HAND_MAP]
    for j in range(20):  # joint 20 left dark
        heat[:, :, j] = np.exp(-((xs - (10 + 5 * j)) ** 2 + (ys - 64) ** 2) / 8.0)
    heat[:, :, 0] += 0.5 * np.exp(-((xs - 100) ** 2 + (ys - 20) ** 2) / 8.0)  # a weaker second region
    joints = op.hand_points(heat, 64, 64)
    assert joints[0] == (5.0, 32.0) and joints[19] == (52.0, 32.0) and joints[20] is None


def test_face_box_and_points() -> None:
    body = tuple((float(x), float(y)) for x, y in PERSON)
    assert op.face_box(body, 160, 200) == (65, 15, 30)  # 3x the eye distance (and 1.5x the ears') around the nose
    assert op.face_box((None, *body[1:]), 160, 200) is None
    assert op.face_box((body[0], *[None] * 17), 160, 200) is None

    def planted(x: torch.Tensor) -> torch.Tensor:
        assert tuple(x.shape) == (1, 3, op.FACE_INPUT, op.FACE_INPUT)
        maps = torch.zeros(1, 71, 48, 48)
        maps[0, 0, 10, 20] = 1.0
        return maps

    points = op.face_points(planted, np.zeros((95, 95, 3), np.uint8))
    assert len(points) == 70 and points[0] == (40.0, 20.0) and all(p is None for p in points[1:])


def centre_blob(maps: int) -> Any:
    """A stand-in network whose first map has one bright spot in the middle of whatever it is shown."""
    def net(x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[2] // 8, x.shape[3] // 8
        ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
        out = torch.zeros(1, maps, h, w)
        out[0, 0] = torch.exp(-((xs - (w - 1) / 2) ** 2 + (ys - (h - 1) / 2) ** 2) / 2.0)
        return out
    return net


def test_hands_and_faces_are_placed_in_their_boxes_on_the_picture() -> None:
    body = tuple((float(x), float(y)) for x, y in PERSON)
    picture = np.zeros((200, 160, 3), np.uint8)
    left, right = op.detect_hands(centre_blob(22), picture, body)
    assert left is not None and right is not None
    for hand, (x, y, side, _) in zip((left, right), op.hand_boxes(body, 160, 200), strict=True):
        assert hand[0] is not None and all(p is None for p in hand[1:])
        assert abs(hand[0][0] - (x + side / 2)) <= 2 and abs(hand[0][1] - (y + side / 2)) <= 2
    face = op.detect_face(centre_blob(71), picture, body)
    assert face is not None and face[0] is not None and abs(face[0][0] - 80) <= 1 and abs(face[0][1] - 30) <= 1


@pytest.fixture(scope="module")
def weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("openpose") / "annotators" / "openpose"
    write_net(folder / op.BODY_FILE, op.body_network(), 0)
    write_net(folder / op.HAND_FILE, op.hand_network(), 1)
    write_net(folder / op.FACE_FILE, op.face_network(), 2)
    return folder


def test_the_networks_run_with_weights_of_the_released_layout(weights: Path) -> None:
    body = op.body_net(weights / op.BODY_FILE)
    assert len(op.file_state(body)) == 184 and "Mconv7_stage6_L2.bias" in op.file_state(body)
    # a tall, narrow picture: the network always sees it 184 pixels high, so a narrow one runs quickest
    picture = (np.random.default_rng(0).random((48, 12, 3)) * 255).astype(np.uint8)
    heat, paf = op.body_maps(body, picture)
    assert heat.shape == (48, 12, 19) and paf.shape == (48, 12, 38) and np.isfinite(heat).all()
    assert np.array_equal(heat, op.body_maps(body, picture)[0])
    hand = op.hand_net(weights / op.HAND_FILE)
    assert hand(torch.zeros(1, 3, 32, 32)).shape == (1, 22, 4, 4)
    assert op.face_net(weights / op.FACE_FILE)(torch.zeros(1, 3, 32, 32)).shape == (1, 71, 4, 4)
    folders = (str(weights.parent),)
    drawn, pose = pre.detect_pose(pre.find_module("openpose_full"), picture, 64, folders)
    assert drawn.shape == (256, 64, 3) and drawn.min() >= 0.0 and drawn.max() <= 1.0
    assert pose["canvas_width"] == 64 and pose["canvas_height"] == 256 and isinstance(pose["people"], list)
    assert pre.detect(pre.find_module("openpose"), picture, 64, -1, -1, weight_folders=folders).shape == (256, 64, 3)


def test_missing_or_foreign_weight_files_are_refused_clearly(tmp_path: Path) -> None:
    folders = annotators.weight_folders(tmp_path / "home", [])
    picture = np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(annotators.AnnotatorMissingError) as caught:
        pre.detect(pre.find_module("openpose"), picture, 64, -1, -1, weight_folders=folders)
    assert op.BODY_FILE in caught.value.message
    assert str(tmp_path / "home" / annotators.HOME_DIR / "openpose" / op.BODY_FILE) in caught.value.hint
    body = tmp_path / "home" / annotators.HOME_DIR / "openpose" / op.BODY_FILE
    body.parent.mkdir(parents=True)
    torch.save({"conv1_1.weight": torch.zeros(64, 3, 3, 3)}, str(body))
    with pytest.raises(annotators.AnnotatorMissingError, match="hand_pose_model.pth"):
        pre.detect(pre.find_module("openpose_full"), picture, 64, -1, -1, weight_folders=folders)
    with pytest.raises(annotators.AnnotatorMissingError, match="facenet.pth"):
        pre.detect(pre.find_module("openpose_face"), picture, 64, -1, -1, weight_folders=folders)
    with pytest.raises(annotators.AnnotatorMissingError,
                       match="cannot be used as the OpenPose body network: .* missing, the first conv1_1.bias"):
        pre.detect(pre.find_module("openpose"), picture, 64, -1, -1, weight_folders=folders)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory, weights: Path) -> Iterator[Engine]:
    with populated_engine(tmp_path_factory, "openpose-api") as eng:
        target = eng.home.root / annotators.HOME_DIR / "openpose"
        target.mkdir(parents=True, exist_ok=True)
        for name in (op.BODY_FILE, op.HAND_FILE, op.FACE_FILE):
            (target / name).write_bytes((weights / name).read_bytes())
        yield eng


def test_render_openpose_json_over_http(engine: Engine) -> None:
    pose = {"people": [{"pose_keypoints_2d": flat([None, (100, 60), (60, 60)] + [None] * 15)}],
            "canvas_width": 200, "canvas_height": 160}
    r = engine.client.post("/controlnet/render_openpose_json", json=[pose, pose])
    assert r.status_code == 200, r.text
    assert r.json()["info"] == "Success"
    drawn = [np.asarray(decode_png(d)) for d in r.json()["images"]]
    assert len(drawn) == 2 and drawn[0].shape == (160, 200, 3) and tuple(drawn[0][60, 80]) == (153, 0, 0)
    assert engine.client.post("/controlnet/render_openpose_json", json=[]).json() == {"info": "No pose data detected."}
    r = engine.client.post("/controlnet/render_openpose_json", json=[{"foo": 10, "bar": 100}])
    assert r.status_code == 422 and "images" not in r.json() and "bar" in r.text
    r = engine.client.post("/controlnet/render_openpose_json", json=[{**pose, "animals": [[1, 2, 1]]}])
    assert r.status_code == 422 and "animal" in r.json()["detail"]


def test_detect_answers_the_pose_json_and_lists_show_the_modules(engine: Engine) -> None:
    r = engine.client.post("/controlnet/detect", json={"controlnet_module": "openpose_full",
                                                       "controlnet_input_images": [png_b64(size=(16, 64))],
                                                       "controlnet_processor_res": 64})
    assert r.status_code == 200, r.text
    body = r.json()
    assert decode_png(body["images"][0]).size == (64, 256)
    assert body["poses"] == [{"people": [], "animals": [], "canvas_height": 256, "canvas_width": 64}]
    r = engine.client.post("/controlnet/detect", json={"controlnet_module": "canny",
                                                       "controlnet_input_images": [png_b64(size=(64, 64))]})
    assert "poses" not in r.json()
    modules = engine.client.get("/controlnet/module_list").json()
    assert {"openpose", "openpose_full", "openpose_hand"} <= set(modules["module_list"])
    assert [s["name"] for s in modules["module_detail"]["openpose_full"]["sliders"]] == ["Preprocessor Resolution"]
    types = engine.client.get("/controlnet/control_types").json()["control_types"]["OpenPose"]
    assert types["default_option"] == "openpose_full"
    assert types["module_list"] == ["none", "openpose_full", "openpose", "openpose_hand", "openpose_face",
                                    "openpose_faceonly"]
