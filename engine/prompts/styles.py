"""Prompt styles in A1111's ``styles.csv`` format: found, applied and saved.

A styles file is CSV with a header: ``name,prompt,negative_prompt`` (files from before A1111 1.0
say ``name,text``), read as UTF-8 with or without a byte-order mark, spaces after commas ignored,
rows without a name or whose name starts with ``#`` skipped. Several files are read in order and a
later file's style replaces an earlier one of the same name, as A1111 reads its ``--styles-file``
list: each shared A1111 / 秋叶 root's ``styles.csv`` (and Forge's ``styles_integrated.csv``), then the
home's ``styles.csv``, the one Maple saves to (shared folders are only read).

Applying a style to a prompt: a style text containing ``{prompt}`` has it replaced by the prompt;
any other is joined after the prompt with ``", "`` (empty parts left out). Several styles apply in
the order given, each to the result of the one before; the negative prompt likewise.

Saving writes the whole file again next to itself and renames it over the old one, so a crash
leaves the old file or the new one, never half of one; the old file is kept as ``styles.csv.bak``.
Rows Maple does not use (comments, rows without a name, other columns) are written back with the
same values.
"""

from __future__ import annotations

import csv
import io
import logging
import shutil
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from installer.errors import MapleError, ModelNotFoundError

log = logging.getLogger(__name__)

STYLES_FILE = "styles.csv"
SHARED_FILES = (STYLES_FILE, "styles_integrated.csv")
FIELDS = ("name", "prompt", "negative_prompt")


class StyleFileError(MapleError):
    code = "styles-file"
    status = 500
    default_hint = "Fix or move the file; Maple did not change it."


@dataclass(frozen=True)
class PromptStyle:
    name: str
    prompt: str
    negative_prompt: str
    path: str = ""  # the file it came from

    def to_api(self) -> dict[str, str]:
        """A1111's ``/sdapi/v1/prompt-styles`` entry."""
        return {"name": self.name, "prompt": self.prompt, "negative_prompt": self.negative_prompt}


def merge(style_text: str, prompt: str) -> str:
    """One style's text applied to a prompt (``{prompt}`` placeholder, else joined with ``", "``)."""
    if "{prompt}" in style_text:
        return style_text.replace("{prompt}", prompt)
    return ", ".join(part for part in (prompt.strip(), style_text.strip()) if part)


def apply_styles(prompt: str, texts: Iterable[str]) -> str:
    for text in texts:
        prompt = merge(text, prompt)
    return prompt


def style_files(home_root: Path, shared_roots: Sequence[str | Path]) -> list[Path]:
    """The files styles are read from, in order: the shared roots' files, then the home's."""
    files = [Path(root).expanduser() / name for root in shared_roots for name in SHARED_FILES]
    return [*files, home_root / STYLES_FILE]


def read_styles(path: Path) -> list[PromptStyle]:
    """The styles in one file (none when it does not exist); unreadable rows are skipped."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("Styles in %s not read: %s", path, exc)
        return []
    found = []
    for row in csv.DictReader(io.StringIO(text, newline=""), skipinitialspace=True):
        name = (row.get("name") or "").strip()
        if not name or name.startswith("#"):
            continue
        prompt = row.get("prompt") if "prompt" in row else row.get("text")
        found.append(PromptStyle(name, prompt or "", row.get("negative_prompt") or "", str(path)))
    return found


class StyleBook:
    """The styles of every styles file, read again when a file changes (thread-safe)."""

    def __init__(self, files: Sequence[Path], save_to: Path) -> None:
        self.files = list(files)
        self.save_to = save_to
        self._lock = threading.Lock()
        self._stamps: tuple[tuple[int, int] | None, ...] | None = None
        self._styles: dict[str, PromptStyle] = {}

    def styles(self) -> list[PromptStyle]:
        with self._lock:
            stamps = tuple(_stamp(p) for p in self.files)
            if stamps != self._stamps:
                merged: dict[str, PromptStyle] = {}
                for path in self.files:
                    merged.update((s.name, s) for s in read_styles(path))
                self._styles, self._stamps = merged, stamps
            return list(self._styles.values())

    def find(self, names: Sequence[str], field: str = "styles") -> list[PromptStyle]:
        """The styles called ``names``, in that order; an unknown name is a 404 listing what exists."""
        known = {s.name: s for s in self.styles()}
        missing = [n for n in names if n not in known]
        if missing:
            listed = ", ".join(list(known)[:30]) or "none"
            raise ModelNotFoundError(f"{field}: no style named {missing[0]!r}. Styles: {listed}",
                                     f"Add it to {self.save_to} or save it from the page.", field=field)
        return [known[n] for n in names]

    def apply(self, prompt: str, negative: str, names: Sequence[str]) -> tuple[str, str]:
        """(prompt, negative prompt) with the styles ``names`` applied, as A1111 applies them."""
        chosen = self.find(names)
        return (apply_styles(prompt, (s.prompt for s in chosen)),
                apply_styles(negative, (s.negative_prompt for s in chosen)))

    def save(self, name: str, prompt: str, negative: str) -> PromptStyle:
        """Add the style to the home's styles file, or replace the one with this name there."""
        name = name.strip()
        if not name or name.startswith("#"):
            raise MapleError("name: a style needs a name that does not start with '#'", field="name", status=422)
        with self._lock:
            write_style(self.save_to, name, prompt, negative)
            self._stamps = None
        return PromptStyle(name, prompt, negative, str(self.save_to))


def write_style(path: Path, name: str, prompt: str, negative: str) -> None:
    """Rewrite ``path`` with the style ``name`` set; every other row stays as it was."""
    from installer.settings import write_atomic

    header, rows = _raw_rows(path)
    text_col = "prompt" if "prompt" in header or "text" not in header else "text"
    for column in ("name", text_col, "negative_prompt"):
        if column not in header:
            header.append(column)
    index = {column: i for i, column in enumerate(header)}
    new = [""] * len(header)
    new[index["name"]], new[index[text_col]], new[index["negative_prompt"]] = name, prompt, negative
    rows = [_padded(r, len(header)) for r in rows]
    at = next((i for i, r in enumerate(rows) if r[index["name"]].strip() == name), None)
    if at is None:
        rows.append(new)
    else:
        rows[at] = [new[i] if header[i] in ("name", text_col, "negative_prompt") else v for i, v in enumerate(rows[at])]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    if path.exists():
        shutil.copy2(path, path.with_name(path.name + ".bak"))
    write_atomic(path, "\ufeff" + out.getvalue())
    log.info("Saved the style %r in %s", name, path)


def _raw_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    """The header and rows of an existing file, exactly as they are; a new file gets A1111's header."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return list(FIELDS), []
    except (OSError, UnicodeDecodeError) as exc:
        raise StyleFileError(f"{path} cannot be read ({exc}), so the style was not saved") from exc
    table = [row for row in csv.reader(io.StringIO(text, newline=""), skipinitialspace=True) if row]
    if not table:
        return list(FIELDS), []
    header = [column.strip() for column in table[0]]
    if "name" not in header:
        raise StyleFileError(f"{path} has no 'name' column, so it is not a styles file; the style was not saved")
    return header, table[1:]


def _padded(row: list[str], length: int) -> list[str]:
    return row + [""] * (length - len(row)) if len(row) < length else row


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns
