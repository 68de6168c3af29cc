"""Offline: sources that cannot be reached are left in a second or two, with an error that says what to do."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from installer.cli.models import main
from installer.downloads import RetryPolicy, download
from installer.downloads.errors import SourceUnreachableError
from installer.home import Home
from tests.installer.dl_helpers import leftovers, payload, spec_for
from tests.installer.fault_server import FaultServer

PATIENT = RetryPolicy()  # the default: six tries with growing back-off for servers that answer
NOWHERE = "http://models.maple-test.invalid/m.safetensors"


@pytest.fixture
def closed_port_url() -> str:
    with socket.socket() as s:  # bound, never listening, closed: the connection is refused
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/m.safetensors"


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def test_no_reachable_source_fails_fast_and_says_what_to_do(tmp_path: Path, closed_port_url: str) -> None:
    data = payload(10_000)
    began = time.monotonic()
    with pytest.raises(SourceUnreachableError) as caught:
        download(spec_for([NOWHERE, closed_port_url], tmp_path, data), policy=PATIENT)
    assert time.monotonic() - began < 4.0  # two sources, a second or two each at most
    err = caught.value
    assert err.code == "download-unreachable"
    assert "No download source could be reached" in err.message
    assert "src0: models.maple-test.invalid could not be found" in err.message
    assert "src1: " in err.message and "refused" in err.message
    assert "proxy" in err.hint and "China mirror" not in err.hint  # neither source serves Hugging Face's files
    assert leftovers(tmp_path) == []


def test_a_name_lookup_that_hangs_is_given_up_quickly(server: FaultServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = socket.getaddrinfo

    def hanging(host: Any, *args: Any, **kwargs: Any) -> Any:
        if str(host).endswith(".invalid"):  # an offline machine whose name server never answers
            time.sleep(15)
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", hanging)
    data = payload(20_000)
    good = server.add("/m", data)
    began = time.monotonic()
    assert download(spec_for([NOWHERE, good], tmp_path, data), policy=PATIENT).read_bytes() == data
    assert time.monotonic() - began < 4.0  # the next source was tried after about two seconds


def test_maple_models_pull_offline_reports_quickly(home: Home, tmp_path: Path, closed_port_url: str, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    data = payload(4096)
    entry = {"id": "offline-lora", "name": "offline-lora", "kind": "lora", "arch": "sd1", "file": "offline.safetensors",
             "size": len(data), "sha256": "ab" * 32, "verified": True, "license": "mit",
             "description": {"en": "A test model", "zh": "测试模型"},
             "sources": [{"name": "huggingface", "url": NOWHERE}, {"name": "civitai", "url": closed_port_url}]}
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps({"models": [entry]}), encoding="utf-8")
    monkeypatch.setenv("MAPLE_CATALOG", str(catalog))
    began = time.monotonic()
    assert main(["--home", str(home.root), "pull", "offline-lora"]) == 1
    assert time.monotonic() - began < 4.0
    err = capsys.readouterr().err
    assert "No download source could be reached" in err and "China mirror" in err
    assert list(home.models_dir("lora").iterdir()) == []


def test_pulling_a_link_offline_says_the_server_cannot_be_reached(home: Home, capsys: pytest.CaptureFixture[str]) -> None:
    began = time.monotonic()
    assert main(["--home", str(home.root), "pull", NOWHERE, "--kind", "lora"]) == 1
    assert time.monotonic() - began < 4.0
    err = capsys.readouterr().err
    assert "models.maple-test.invalid could not be found" in err and "proxy" in err
