"""``maple-doctor`` as users and scripts run it: the installed command, its table, JSON and exit status."""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from installer import running_engine
from installer.cli.doctor import main, width
from installer.home import Home
from installer.machine.i18n import detect_language, normalize
from tests.conftest import serving
from tests.installer.fake_machine import GIB, FakeNvml, FakePsutil, probes

DOCTOR = Path(sys.executable).with_name("maple-doctor.exe" if os.name == "nt" else "maple-doctor")


def run_doctor(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in ("LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE", "MAPLE_LANG")}
    full_env.update(env or {})
    return subprocess.run([str(DOCTOR), *args], capture_output=True, text=True, encoding="utf-8", env=full_env, timeout=60)


def test_the_installed_command_prints_json_and_its_exit_status_follows_blockers(tmp_path):
    home = tmp_path / "new-home"
    result = run_doctor("--json", "--home", str(home))
    data = json.loads(result.stdout)
    assert result.returncode == (1 if data["blockers"] else 0), result.stderr
    assert data["home"] == str(home)
    assert data["ok"] is (data["blockers"] == 0)
    assert [f["id"] for f in data["findings"]][:3] == ["gpu", "torch", "ram"]
    assert {f["verdict"] for f in data["findings"]} <= {"ok", "warning", "blocker"}
    assert data["recommendation"]["engine_args"][:1] == ["--device"]
    assert not home.exists()  # checking does not create the data home


def test_maple_home_is_the_default_home(tmp_path):
    result = run_doctor("--json", env={"MAPLE_HOME": str(tmp_path / "from-env")})
    assert json.loads(result.stdout)["home"] == str(tmp_path / "from-env")


def test_table_in_english_and_chinese(tmp_path):
    english = run_doctor("--home", str(tmp_path), "--lang", "en").stdout
    assert "Maple machine check" in english and "Recommended engine settings: --device" in english
    assert "Free disk" in english
    chinese = run_doctor("--home", str(tmp_path), "--lang", "zh").stdout
    assert "Maple 电脑检测" in chinese and "磁盘空间" in chinese and "推荐的引擎设置" in chinese


def test_language_follows_the_locale_then_the_settings(tmp_path):
    assert "显卡" in run_doctor("--home", str(tmp_path), env={"LANG": "zh_CN.UTF-8"}).stdout
    assert "GPU" in run_doctor("--home", str(tmp_path), env={"LANG": "en_US.UTF-8"}).stdout
    (tmp_path / "settings.json").write_text('{"version": 1, "language": "zh"}', encoding="utf-8")
    assert "显卡" in run_doctor("--home", str(tmp_path), env={"LANG": "en_US.UTF-8"}).stdout
    assert "GPU " in run_doctor("--home", str(tmp_path), "--lang", "en").stdout


def test_a_busy_port_is_reported_with_its_owner(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        data = json.loads(run_doctor("--json", "--home", str(tmp_path), "--port", str(port)).stdout)
    finding = next(f for f in data["findings"] if f["id"] == "port")
    assert finding["verdict"] == "warning" and finding["fix"] == "choose-port"
    assert f"(pid {os.getpid()})" in finding["reason"]


def test_a_blocker_gives_exit_status_1_and_shows_the_fix(home, capsys):
    full_disk = probes(FakeNvml([("NVIDIA GeForce RTX 3060", 12 * GIB)]), FakePsutil(disk_free=GIB // 2))
    assert main(["--home", str(home.root), "--lang", "en"], probes=full_disk) == 1
    out = capsys.readouterr().out
    disk_line = next(line for line in out.splitlines() if "Free disk" in line)
    assert disk_line.startswith("✗ BLOCKER") and "0.5 GB free" in disk_line
    assert "Fix: Free some space" in out
    assert "1 problem(s) must be fixed" in out


def test_json_of_a_blocked_machine(home, capsys):
    machine = probes(FakeNvml([("NVIDIA GeForce RTX 3060", 12 * GIB)]), FakePsutil(disk_free=0), torch=None)
    assert main(["--json", "--home", str(home.root), "--lang", "zh"], probes=machine) == 1
    data = json.loads(capsys.readouterr().out)
    blockers = {f["id"]: f for f in data["findings"] if f["verdict"] == "blocker"}
    assert set(blockers) == {"disk", "torch"} and data["blockers"] == 2
    assert blockers["disk"]["fix"] == "free-disk" and blockers["torch"]["fix"] == "install-torch"
    assert "PyTorch" in blockers["torch"]["reason"] and data["lang"] == "zh"
    assert data["recommendation"]["engine_args"] == ["--device", "cuda", "--precision", "fp16", "--vram-mode", "high"]


def test_a_good_machine_exits_0(home, capsys):
    machine = probes(FakeNvml([("NVIDIA GeForce RTX 4090", 24 * GIB)]))
    assert main(["--home", str(home.root), "--lang", "en"], probes=machine) == 0
    assert "Ready: nothing blocks Maple" in capsys.readouterr().out


def test_chinese_table_columns_line_up(home, capsys):
    main(["--home", str(home.root), "--lang", "zh"], probes=probes(FakeNvml([("NVIDIA GeForce RTX 4090", 24 * GIB)])))
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith(("✓", "!", "✗"))]
    starts = {width(row[: row.rindex(re.split(" {2,}", row)[-1])]) for row in rows}
    assert len(rows) == 10 and len(starts) == 1


def test_bad_language_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--lang", "fr"])
    assert info.value.code == 2


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"LANG": "zh_CN.UTF-8"}, "zh"),
        ({"LANG": "zh_TW.UTF-8"}, "zh"),
        ({"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"MAPLE_LANG": "zh", "LANG": "en_US.UTF-8"}, "zh"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_language_from_the_environment(env, expected):
    assert detect_language(env, platform="linux") == expected


def test_windows_locale_names_are_understood():
    assert normalize("Chinese (Simplified)_China") == "zh"
    assert normalize("zh-Hans") == "zh" and normalize("English_United States") == "en"



class InfoServer(ThreadingHTTPServer):
    """An engine's ``/maple/v1/info`` for ``home`` behind ``--api-auth`` (401 without the password)."""

    def __init__(self, home: Path, auth: str) -> None:
        super().__init__(("127.0.0.1", 0), InfoHandler)
        self.home, self.expected = str(home), "Basic " + base64.b64encode(auth.encode()).decode()
        self.sent: list[str | None] = []  # the Authorization header of each request


class InfoHandler(BaseHTTPRequestHandler):
    server: InfoServer

    def do_GET(self) -> None:
        sent = self.headers.get("Authorization")
        self.server.sent.append(sent)
        if sent != self.server.expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="Maple"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = json.dumps({"version": "1", "device": "cpu", "home": self.server.home}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _port_finding(home_root: Path, port: int, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    main(["--home", str(home_root), "--port", str(port), "--json", "--lang", "en"])
    return next(f for f in json.loads(capsys.readouterr().out)["findings"] if f["id"] == "port")


def test_an_engine_with_a_password_is_asked_with_the_saved_credentials(home: Home, capsys: pytest.CaptureFixture[str]) -> None:
    with serving(InfoServer(home.root, "ann:s3cret")) as engine:
        port = engine.server_address[1]
        running_engine.write_record(home.root, running_engine.RunningEngine(
            os.getpid(), port, f"http://127.0.0.1:{port}", str(home.root)))
        unknown = _port_finding(home.root, port, capsys)  # no password saved: the engine says 401
        home.settings_file.write_text(json.dumps({"version": 1, "api_auth": "ann:s3cret"}), encoding="utf-8")
        known = _port_finding(home.root, port, capsys)
    assert unknown["verdict"] == "warning" and "Maple's own engine" not in unknown["reason"], unknown
    assert known["verdict"] == "ok" and "Maple's own engine for this data folder" in known["reason"], known
    assert engine.sent[-1] == engine.expected
