"""Prompt styles: A1111's styles.csv read as A1111 reads it, applied as it applies them, saved without
ever losing the file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.prompts.styles import (
    StyleBook,
    StyleFileError,
    apply_styles,
    merge,
    read_styles,
    style_files,
)
from engine.server import api_models as m
from engine.server.prepare import prepare
from installer.errors import ModelNotFoundError

A1111_FILE = '\ufeffname,prompt,negative_prompt\n"anime", "masterpiece, {prompt}, best quality", "lowres, bad hands"\n' \
             '# a comment row,ignored,\n,no name,\nsharp,sharp focus,\n'


def test_reading_an_a1111_file_with_a_bom_comments_and_spaces(tmp_path: Path) -> None:
    path = tmp_path / "styles.csv"
    path.write_text(A1111_FILE, encoding="utf-8")
    styles = read_styles(path)
    assert [(s.name, s.prompt, s.negative_prompt) for s in styles] == [
        ("anime", "masterpiece, {prompt}, best quality", "lowres, bad hands"), ("sharp", "sharp focus", "")]
    old = tmp_path / "old.csv"
    old.write_text("name,text\nvintage,old photo\n", encoding="utf-8")  # A1111's first format
    assert [(s.name, s.prompt, s.negative_prompt) for s in read_styles(old)] == [("vintage", "old photo", "")]
    assert read_styles(tmp_path / "missing.csv") == []


def test_applying_styles_as_a1111_does() -> None:
    assert merge("masterpiece, {prompt}, best quality", "a cat") == "masterpiece, a cat, best quality"
    assert merge("sharp focus", "a cat") == "a cat, sharp focus"
    assert merge("sharp focus", "  ") == "sharp focus"
    assert merge("", "a cat") == "a cat"
    assert merge("{prompt} {prompt}", "x") == "x x"
    # several styles: each applies to the result of the one before
    assert apply_styles("a cat", ["sharp focus", "masterpiece, {prompt}"]) == "masterpiece, a cat, sharp focus"


def test_several_files_later_names_win_and_the_home_comes_last(tmp_path: Path) -> None:
    aki, home = tmp_path / "aki", tmp_path / "home"
    aki.mkdir(), home.mkdir()
    (aki / "styles.csv").write_text("name,prompt,negative_prompt\nanime,from aki,\nshared,only aki,\n")
    (aki / "styles_integrated.csv").write_text("name,prompt,negative_prompt\nforge,from forge,\n")
    (home / "styles.csv").write_text("name,prompt,negative_prompt\nanime,from home,\n")
    files = style_files(home, [str(aki)])
    book = StyleBook(files, home / "styles.csv")
    assert {s.name: s.prompt for s in book.styles()} == {"anime": "from home", "shared": "only aki", "forge": "from forge"}
    assert book.apply("a cat", "", ["shared", "anime"]) == ("a cat, only aki, from home", "")
    with pytest.raises(ModelNotFoundError, match="styles: no style named 'nope'. Styles: anime, shared, forge") as err:
        book.find(["nope"])
    assert err.value.field == "styles" and err.value.status == 404
    (aki / "styles.csv").write_text("name,prompt,negative_prompt\nshared,changed,\n")
    assert {s.name: s.prompt for s in book.styles()}["shared"] == "changed"  # a changed file is read again


def test_saving_keeps_every_other_row_and_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "styles.csv"
    path.write_text(A1111_FILE, encoding="utf-8")
    book = StyleBook([path], path)
    book.save("new one", "a, {prompt}", "ugly")
    book.save("sharp", "very sharp", "blurry")  # replaces the row with that name
    text = path.read_text(encoding="utf-8-sig")
    assert text.splitlines() == [
        "name,prompt,negative_prompt", 'anime,"masterpiece, {prompt}, best quality","lowres, bad hands"',
        "# a comment row,ignored,", ",no name,", "sharp,very sharp,blurry", 'new one,"a, {prompt}",ugly']
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, as A1111 writes it
    backup = (tmp_path / "styles.csv.bak").read_text(encoding="utf-8-sig")  # the file before the last save
    assert "sharp,sharp focus," in backup and "new one" in backup
    assert [s.name for s in book.styles()] == ["anime", "sharp", "new one"]
    assert book.find(["new one"])[0].negative_prompt == "ugly"


def test_a_new_file_gets_a1111s_header_and_old_format_files_keep_theirs(tmp_path: Path) -> None:
    fresh = tmp_path / "a" / "styles.csv"
    StyleBook([fresh], fresh).save("mine", "{prompt}, x", "")
    assert fresh.read_text(encoding="utf-8-sig") == 'name,prompt,negative_prompt\nmine,"{prompt}, x",\n'
    old = tmp_path / "old.csv"
    old.write_text("name,text\nvintage,old photo\n")
    StyleBook([old], old).save("new", "p", "n")
    assert old.read_text(encoding="utf-8-sig").splitlines() == ["name,text,negative_prompt", "vintage,old photo,", "new,p,n"]


def test_a_failed_save_leaves_the_file_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "styles.csv"
    path.write_text(A1111_FILE, encoding="utf-8")
    before = path.read_bytes()

    def broken_disk(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_disk)
    with pytest.raises(OSError):
        StyleBook([path], path).save("new", "x", "")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["styles.csv", "styles.csv.bak"]  # no half-written file
    monkeypatch.undo()
    path.write_text("title,text\nx,y\n")
    with pytest.raises(StyleFileError, match="no 'name' column"):
        StyleBook([path], path).save("new", "x", "")
    assert path.read_text() == "title,text\nx,y\n"
    with pytest.raises(Exception, match="name"):
        StyleBook([path], path).save("# comment", "x", "")


def test_prepare_applies_the_requests_styles_before_loras_are_read(tmp_path: Path) -> None:
    path = tmp_path / "styles.csv"
    path.write_text('name,prompt,negative_prompt\nlora style,"{prompt}, <lora:detail:0.5>",lowres\n')
    book = StyleBook([path], path)
    seen = []

    def resolve(ref, field):
        seen.append((ref.name, ref.weight, field))
        return ref

    req = m.Txt2ImgRequest(prompt="a cat", negative_prompt="blurry", styles=["lora style"])
    job = prepare("txt2img", req, resolve, 1, book)
    assert job.params.prompt == "a cat, " and seen == [("detail", 0.5, "prompt")]
    assert job.params.negative_prompt == "blurry, lowres"
    assert job.params.styles == ("lora style",)
    assert job.params.extra["original_prompt"] == "a cat, <lora:detail:0.5>"  # the infotext's first line
    with pytest.raises(ModelNotFoundError, match="styles: no style named 'other'"):
        prepare("txt2img", m.Txt2ImgRequest(styles=["other"]), resolve, 1, book)
