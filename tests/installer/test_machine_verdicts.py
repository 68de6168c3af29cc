"""Verdict boundaries: exactly at each threshold, and just under it."""

from __future__ import annotations

import pytest

from installer.machine.report import check
from installer.machine.verdict_types import vram_mode
from installer.machine.verdicts import Verdict
from tests.installer.fake_machine import GIB, MIB, FakeNvml, FakePsutil, probes

SLACK = 256 * MIB  # NVML reports a little under the label: a "24 GB" card gives 24564 MiB


def gpu_verdict(home, vram: int) -> Verdict:
    return check(home, probes=probes(FakeNvml([("Card", vram)]))).finding("gpu").verdict


@pytest.mark.parametrize(
    ("vram", "expected"),
    [
        (6 * GIB, Verdict.OK),
        (6 * GIB - SLACK, Verdict.OK),
        (6 * GIB - SLACK - 1, Verdict.WARNING),
        (5 * GIB, Verdict.WARNING),
        (2 * GIB, Verdict.WARNING),
    ],
)
def test_6gb_of_vram_to_generate_on_the_gpu(home, vram, expected):
    assert gpu_verdict(home, vram) is expected


@pytest.mark.parametrize(
    ("vram", "modes"),
    [
        (24564 * MIB, ("high", "high")),
        (12 * GIB, ("high", "high")),
        (12 * GIB - SLACK, ("high", "high")),
        (12 * GIB - SLACK - 1, ("high", "medium")),
        (8 * GIB, ("high", "medium")),
        (8 * GIB - SLACK - 1, ("medium", "medium")),
        (6 * GIB, ("medium", "medium")),
        (4 * GIB, ("medium", "medium")),
        (4 * GIB - SLACK - 1, ("low", "low")),
        (2 * GIB, ("low", "low")),
    ],
)
def test_vram_modes_follow_the_akki_presets(home, vram, modes):
    assert vram_mode(vram) == modes
    rec = check(home, probes=probes(FakeNvml([("Card", vram)]))).recommendation
    assert (rec.vram_mode_for("sd1"), rec.vram_mode_for("sdxl")) == modes


@pytest.mark.parametrize(
    ("ram", "expected"),
    [
        (64 * GIB, Verdict.OK),
        (16 * GIB, Verdict.OK),
        (15 * GIB, Verdict.OK),  # a 16 GB PC shows 15.x GB
        (15 * GIB - 1, Verdict.WARNING),
        (8 * GIB, Verdict.WARNING),
        (4 * GIB, Verdict.WARNING),
        (4 * GIB - 1, Verdict.BLOCKER),
    ],
)
def test_16gb_of_ram(home, ram, expected):
    report = check(home, probes=probes(ps=FakePsutil(ram_total=ram, ram_available=ram // 2)))
    assert report.finding("ram").verdict is expected


@pytest.mark.parametrize(
    ("free", "expected"),
    [
        (20 * GIB, Verdict.OK),
        (20 * GIB - 1, Verdict.WARNING),
        (5 * GIB, Verdict.WARNING),
        (5 * GIB - 1, Verdict.BLOCKER),
        (0, Verdict.BLOCKER),
    ],
)
def test_20gb_of_free_disk(home, free, expected):
    finding = check(home, probes=probes(ps=FakePsutil(disk_free=free))).finding("disk")
    assert finding.verdict is expected
    assert (finding.fix == "free-disk") is (expected is not Verdict.OK)


def test_home_path_length_boundary(tmp_path):
    base = str(tmp_path) + "/"
    at_limit = base + "a" * (80 - len(base))
    assert len(at_limit) == 80
    assert check(at_limit, probes=probes()).finding("home-path-length").verdict is Verdict.OK
    assert check(at_limit + "b", probes=probes()).finding("home-path-length").verdict is Verdict.WARNING
