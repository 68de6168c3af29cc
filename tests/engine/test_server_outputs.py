"""Saved images: A1111's folders and numbering, infotext in the PNG, listing and safe serving."""

from __future__ import annotations

import datetime as dt

from PIL import Image

from engine.server import outputs


def _img(color: str = "red") -> Image.Image:
    return Image.new("RGB", (16, 16), color)


def test_images_are_numbered_per_day_with_the_infotext(tmp_path) -> None:
    root = tmp_path / "outputs"
    paths = outputs.save_images(root, "txt2img", [_img(), _img("blue")], [7, 8], ["cat\nSteps: 2", "dog\nSteps: 2"])
    today = dt.date.today().isoformat()
    assert [p.relative_to(root).as_posix() for p in paths] == [
        f"txt2img-images/{today}/00000-7.png", f"txt2img-images/{today}/00001-8.png"]
    with Image.open(paths[1]) as im:
        assert im.info["parameters"] == "dog\nSteps: 2"
        assert im.getpixel((0, 0)) == (0, 0, 255)
    (paths[0].parent / "00041-99.png").write_bytes(paths[0].read_bytes())  # a user's file keeps its number
    more = outputs.save_images(root, "txt2img", [_img()], [5], ["x"])
    assert more[0].name == "00042-5.png"
    img2img = outputs.save_images(root, "img2img", [_img()], [5], ["y"])
    assert img2img[0].parent == root / "img2img-images" / today and img2img[0].name == "00000-5.png"


def test_listing_by_date(tmp_path) -> None:
    root = tmp_path / "outputs"
    outputs.save_images(root, "txt2img", [_img()], [1], ["a prompt"])
    outputs.save_images(root, "img2img", [_img()], [2], ["b prompt"])
    (root / "txt2img-images" / "2024-01-02").mkdir(parents=True)
    (root / "txt2img-images" / "notes").mkdir()
    today = dt.date.today().isoformat()
    assert outputs.list_dates(root) == [today, "2024-01-02"]
    found = outputs.list_images(root, today)
    assert {(i.mode, i.infotext) for i in found} == {("txt2img", "a prompt"), ("img2img", "b prompt")}
    assert all(i.url.startswith(f"/outputs/{i.mode}-images/{today}/") for i in found)


def test_resolve_output_stays_inside(tmp_path) -> None:
    root = tmp_path / "outputs"
    (p,) = outputs.save_images(root, "txt2img", [_img()], [1], [""])
    (tmp_path / "secret.txt").write_text("no")
    assert outputs.resolve_output(root, p.relative_to(root).as_posix()) == p.resolve()
    assert outputs.resolve_output(root, "../secret.txt") is None
    assert outputs.resolve_output(root, "txt2img-images/../../secret.txt") is None
    assert outputs.resolve_output(root, "txt2img-images") is None  # folders are not files
