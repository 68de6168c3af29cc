"""Terminal tables for ``maple-models list`` and ``catalog``: header row, aligned columns, legend.

Only the human-readable output lives here; ``--json`` output is built in models_commands.
"""

from __future__ import annotations

from collections.abc import Sequence

from installer.contract import BUILTIN_MODEL_FILENAME
from installer.display import UNKNOWN_MARK, arch_name, human_size, kind_name, short_hash
from installer.store.catalog import CatalogEntry
from installer.store.entry import HOME_LOCATION, ModelEntry, State
from installer.store.problems import sentence

DEMO_TAG = "[demo]"
BUILTIN_TAG = "[built-in]"

STATE_LEGEND: dict[State, str] = {
    State.VERIFIED: "its sha256 matches Maple's catalog: the exact file expected",
    State.UNKNOWN: "not in Maple's catalog, so there is no hash to check it against (usually fine)",
    State.MISMATCH: "named like a catalog file but holds other bytes (damaged or another model): see below",
    State.BROKEN: "not a usable model file: reason and what to do below",
    State.UNHASHED: "not hashed yet: `maple-models list --hash` computes it once",
}

CATALOG_FIGURES_NOTE = ("Size ? = not known for certain; hash \"from source\" = the download is checked against "
                        "the sha256 its source publishes; \"not confirmed\" = Maple's figures, not yet double-checked.")


def table(header: Sequence[str], rows: Sequence[Sequence[str]], right: frozenset[int] = frozenset()) -> list[str]:
    """Lines of a table: columns as wide as their widest cell, two spaces apart; ``right``: right-aligned columns."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = []
    for cells in (header, *rows):
        padded = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))]
        lines.append("  ".join(padded).rstrip())
    return lines


def _model_row(e: ModelEntry) -> list[str]:
    name = f"{e.name} {DEMO_TAG}" if e.arch == "demo" else f"{e.name} {BUILTIN_TAG}" if _builtin(e) else e.name
    where = "home" if e.location == HOME_LOCATION else f"shared: {e.location}"
    arch = "-" if e.state is State.BROKEN else arch_name(e.arch)
    return [kind_name(e.kind), name, arch, human_size(e.size), short_hash(e) or "-", e.state.value, where]


def _builtin(e: ModelEntry) -> bool:
    return e.kind == "checkpoint" and e.path.name == BUILTIN_MODEL_FILENAME


def model_lines(entries: Sequence[ModelEntry], lang: str = "en") -> list[str]:
    """The ``list`` table, then the legend of what it shows, then mismatch and broken details
    (a broken file's plain sentence in ``lang``, the reader's detail after it)."""
    header = ("KIND", "NAME", "ARCH", "SIZE", "HASH", "STATE", "WHERE")
    lines = table(header, [_model_row(e) for e in entries], right=frozenset({3}))
    lines += legend_lines(entries)
    mismatched = [e for e in entries if e.state is State.MISMATCH]
    if mismatched:
        lines.append(f"\nNot what their name says ({len(mismatched)}):")
        for e in mismatched:
            lines += [f"  {e.path}", f"    {e.reason}", "    what to do: delete it and download it again"]
    broken = [e for e in entries if e.problem is not None]
    if broken:
        lines.append(f"\nFiles that cannot be used ({len(broken)}):")
        for e in broken:
            assert e.problem is not None
            lines += [f"  {e.path}", f"    {sentence(e.problem, lang)}", f"    detail: {e.reason}",
                      f"    to remove it: maple-models rm {e.name}"]
    return lines


def legend_lines(entries: Sequence[ModelEntry]) -> list[str]:
    """One line per state that appears (in a fixed order), "?" when a kind or architecture is not
    known, and the demo tag when the demo model is listed."""
    shown = {e.state for e in entries}
    lines = [f"  {state.value:<9} {text}" for state, text in STATE_LEGEND.items() if state in shown]
    if any(e.state is not State.BROKEN and UNKNOWN_MARK in (kind_name(e.kind), arch_name(e.arch)) for e in entries):
        lines.append(f"  {UNKNOWN_MARK:<9} in KIND or ARCH: the file's header does not say (it is listed all the same)")
    if any(e.arch == "demo" for e in entries):
        lines.append(f"  {DEMO_TAG:<9} Maple's demo model: draws noise, to try Maple without a download")
    if any(_builtin(e) for e in entries):
        lines.append(f"  {BUILTIN_TAG:<9} Maple's built-in model: draws coloured shapes (\"a red circle on a blue background\"), no download needed")
    return ["\nLegend:", *lines] if lines else []


def _figures(e: CatalogEntry) -> str:
    if e.verified:
        return "verified"
    return "from source" if e.sha256 is None else "not confirmed"


def catalog_lines(entries: Sequence[CatalogEntry], installed: set[str], lang: str) -> list[str]:
    """The ``catalog`` table (description and sources under each row), then what unknown figures mean."""
    header = ("ID", "KIND", "ARCH", "SIZE", "HASH", "INSTALLED", "NAME")
    rows = [[e.id, e.kind, arch_name(e.arch), human_size(e.size), _figures(e),
             "yes" if e.id in installed else "", e.name] for e in entries]
    lines = table(header, rows, right=frozenset({3}))
    out = lines[:1]
    indent = " " * (max(len(e.id) for e in entries) + 2) if entries else ""
    for e, line in zip(entries, lines[1:], strict=True):
        sources = ", ".join(s.name for s in e.sources)
        out += [line, f"{indent}{e.description.get(lang)}  [{sources}; licence: {e.license}]"]
    return [*out, "", CATALOG_FIGURES_NOTE]
