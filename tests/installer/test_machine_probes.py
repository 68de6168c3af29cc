"""The probes on this real machine, the torch build read from metadata, and the port helpers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from importlib import metadata

import psutil
import pytest

from installer.machine import ports
from installer.machine.gpu import probe_nvml
from installer.machine.probes import _linux_cpu_model, cpu_model, probe_torch, torch_build
from installer.machine.report import check
from installer.machine.verdicts import Verdict
from tests.conftest import free_port

EXPECTED_IDS = ["gpu", "torch", "ram", "disk", "cpu", "python", "long-paths", "home-path-length",
                "home-path-ascii", "port"]


@pytest.mark.parametrize(
    ("version", "version_py", "expected"),
    [
        ("2.4.1+cu121", "", ("cuda", "12.1")),
        ("2.7.0+cu128", "", ("cuda", "12.8")),
        ("2.13.0+cpu", "", ("cpu", None)),
        ("2.3.1+rocm6.0", "", ("rocm", None)),
        ("2.5.1", "cuda: Optional[str] = '12.4'\nhip: Optional[str] = None\n", ("cuda", "12.4")),
        ("2.5.1", "cuda = '11.8'\n", ("cuda", "11.8")),
        ("2.5.1", "cuda: Optional[str] = None\nhip: Optional[str] = None\n", ("cpu", None)),
        ("2.5.1", "cuda: Optional[str] = None\nhip: Optional[str] = '6.2.4'\n", ("rocm", None)),
        ("2.5.1", "", ("unknown", None)),
    ],
)
def test_torch_build_from_version_label_or_version_file(version, version_py, expected):
    assert torch_build(version, version_py) == expected


def test_installed_torch_is_read_without_importing_it():
    code = "import sys, json; from installer.machine.probes import probe_torch; " \
           "i = probe_torch(); print(json.dumps([i.version, i.build, 'torch' in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    version, build, imported = json.loads(out)
    assert version == metadata.version("torch")
    assert build in ("cpu", "cuda", "rocm")
    assert imported is False


def test_absent_package_reads_as_not_installed():
    info = probe_torch("maple-no-such-package")
    assert (info.version, info.build) == (None, None)


def test_nvml_on_this_machine_answers_without_raising():
    info = probe_nvml()
    assert info.status in ("ok", "no-gpu", "no-driver", "error")
    if info.status == "ok":
        assert info.gpus and all(g.vram_total > 0 for g in info.gpus)
    else:
        assert info.gpus == () and info.error


def test_cpu_model_is_read():
    assert cpu_model().strip()
    text = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD Ryzen 9 7950X 16-Core Processor\n"
    assert _linux_cpu_model(text) == "AMD Ryzen 9 7950X 16-Core Processor"
    assert _linux_cpu_model("Processor\t: AArch64 Processor rev 4\nHardware\t: Qualcomm\n") == "Qualcomm"


def test_real_check_on_this_machine(home):
    started = time.perf_counter()
    report = check(home, port=free_port())
    elapsed = time.perf_counter() - started
    assert [f.id for f in report.findings] == EXPECTED_IDS
    data = json.loads(json.dumps(report.to_dict("zh")))
    assert data["machine"]["memory"]["total"] == psutil.virtual_memory().total
    assert data["machine"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert data["blockers"] == len(report.blockers)
    if report.facts.nvml.status != "ok":
        assert report.recommendation.device in ("cpu", "mps")
    assert report.finding("port").verdict is Verdict.OK
    assert os.path.samefile(report.facts.disk.path, home.root)
    assert elapsed < 2.0


@pytest.fixture
def listener():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    yield int(sock.getsockname()[1])
    sock.close()


def test_port_held_by_this_process_is_in_use_and_owned_by_it(listener):
    assert ports.port_in_use(listener)
    owner = ports.port_owner(listener)
    assert owner == f"{psutil.Process().name()} (pid {os.getpid()})"
    assert ports.next_free_port(listener) > listener


def test_free_port_is_free_and_has_no_owner():
    port = free_port()
    assert not ports.port_in_use(port)
    assert ports.port_owner(port) is None
    assert ports.next_free_port(port) == port


def test_port_bound_on_all_addresses_blocks_localhost():
    with socket.socket() as sock:
        sock.bind(("0.0.0.0", 0))
        sock.listen()
        assert ports.port_in_use(sock.getsockname()[1])


def test_check_reports_a_busy_port_with_owner_and_next_port(home, listener):
    report = check(home, port=listener)
    finding = report.finding("port")
    assert (finding.verdict, finding.fix) == (Verdict.WARNING, "choose-port")
    _, reason, hint = finding.text("en")
    assert f"pid {os.getpid()}" in reason
    next_free = report.facts.port.next_free
    assert next_free is not None and next_free > listener and not ports.port_in_use(next_free)
    assert hint.endswith(f"Maple will use port {next_free}.")


def test_no_free_port_in_range_is_a_maple_error(listener):
    with pytest.raises(ports.NoFreePortError) as info:
        ports.next_free_port(listener, tries=1)
    assert info.value.code == "no-free-port" and info.value.hint
