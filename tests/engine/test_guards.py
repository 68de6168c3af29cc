"""Problems 1, 2, 4 and 5 of the hostile-request report, on a real engine over HTTP.

1 DNS rebinding (Host allow-list), 2 cross-site state-changing requests (Origin, Sec-Fetch-Site,
JSON only, CORS only for listed sites), 4 empty passwords, 5 wrong-password throttling.
"""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import threading
import time

import pytest

from installer.settings import Settings
from launcher.engine.command import probe_maple, request_shutdown
from tests.engine.hostile_helpers import Server, app_for, serve, server_fixture
from tests.engine.server_helpers import SMALL, engine_fixture

pytestmark = pytest.mark.timeout(600)

EVIL = "https://attacker.example"
engine = engine_fixture("guards")
server = server_fixture()


@pytest.fixture(autouse=True)
def no_shutdown(engine):
    engine.service.shutdown_requested.clear()
    yield
    engine.service.shutdown_requested.clear()


# --- 1: DNS rebinding ---------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/sdapi/v1/options"), ("GET", "/maple/v1/outputs"), ("POST", "/sdapi/v1/txt2img"),
    ("POST", "/maple/v1/shutdown"), ("GET", "/"),
])
def test_a_page_under_another_name_is_not_served(engine, server: Server, method: str, path: str) -> None:
    r = server.request(method, path, SMALL if method == "POST" else None,
                       host=f"attacker.example:{server.port}")
    assert r.status == 421, r.text
    assert r.json()["field"] == "Host" and "attacker.example" in r.json()["detail"]
    assert b"outdir" not in r.body and not engine.service.shutdown_requested.is_set()


@pytest.mark.parametrize("host", ["attacker.example", "127.0.0.1.attacker.example:{port}", "localhost:1",
                                  "127.0.0.1", "localhost.:{port}", "[::1]x", "127.0.0.2:{port}",
                                  "0.0.0.0:{port}", "::1:{port}", "127.0.0.1:{port}:1", "%31%32%37.0.0.1:{port}"])
def test_other_host_values_are_refused(server: Server, host: str) -> None:
    assert server.get("/sdapi/v1/options", host=host.format(port=server.port)).status in (400, 421)


def test_no_host_header_is_refused(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /sdapi/v1/options HTTP/1.0\r\n\r\n")
        head = sock.recv(200)
    assert head.split(b" ")[1] in (b"400", b"421"), head


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LocalHost:{port}", "[::1]:{port}"])
def test_this_machine_is_served(server: Server, host: str) -> None:
    assert server.get("/sdapi/v1/options", host=host.format(port=server.port)).status == 200


def test_the_launcher_and_the_page_keep_working(engine, server: Server) -> None:
    assert probe_maple(server.port) is not None
    assert server.get("/").status == 200
    page = server.post("/sdapi/v1/txt2img", SMALL, headers={"Origin": server.base, "Sec-Fetch-Site": "same-origin"})
    assert page.status == 200, page.text
    assert request_shutdown(server.port) and engine.service.shutdown_requested.is_set()


def test_listening_serves_this_machines_names_or_the_listed_ones(engine) -> None:
    listening = app_for(engine, host="0.0.0.0", api_auth="ann:pw")
    with serve(listening) as srv:
        auth = {"Authorization": "Basic YW5uOnB3"}
        name = socket.gethostname().lower()
        assert srv.get("/sdapi/v1/options", headers=auth, host=f"{name}:{srv.port}").status == 200
        assert srv.get("/sdapi/v1/options", headers=auth, host=f"attacker.example:{srv.port}").status == 421
    listed = app_for(engine, host="0.0.0.0", api_auth="ann:pw", allowed_hosts=("sd.example",))
    with serve(listed) as srv:
        assert srv.get("/sdapi/v1/options", headers=auth, host="sd.example").status == 200  # behind a proxy
        assert srv.get("/sdapi/v1/options", headers=auth, host=f"{name}:{srv.port}").status == 421
        assert srv.get("/sdapi/v1/options", headers=auth).status == 200  # 127.0.0.1 stays


# --- 2: cross-site requests ---------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/maple/v1/shutdown", "/sdapi/v1/interrupt", "/sdapi/v1/skip"])
@pytest.mark.parametrize("headers", [
    {"Origin": EVIL, "Content-Type": "text/plain"},
    {"Origin": EVIL},
    {"Origin": "null", "Content-Type": "text/plain"},
    {"Origin": "http://127.0.0.1:1", "Content-Type": "application/x-www-form-urlencoded"},
    {"Sec-Fetch-Site": "cross-site", "Content-Type": "text/plain"},
    {"Sec-Fetch-Site": "same-site"},
    {"Content-Type": "text/plain"},
    {"Content-Type": "multipart/form-data; boundary=x"},
])
def test_foreign_pages_cannot_change_anything(engine, server: Server, path: str, headers: dict[str, str]) -> None:
    r = server.request("POST", path, b"{}" if "Content-Type" in headers else None, headers=headers)
    assert r.status in (403, 415), (r.status, r.text)
    assert r.json()["field"] in ("Origin", "Sec-Fetch-Site", "Content-Type")
    assert not engine.service.shutdown_requested.is_set()


def test_programs_and_the_own_page_still_can(server: Server) -> None:
    assert server.request("POST", "/sdapi/v1/interrupt").status == 200  # webuiapi: no body, no Content-Type
    assert server.post("/sdapi/v1/skip", {}).status == 200
    own = {"Origin": server.base, "Sec-Fetch-Site": "same-origin"}
    assert server.post("/sdapi/v1/interrupt", {}, headers=own).status == 200


def test_no_cors_unless_listed(engine, server: Server) -> None:
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"}
    r = server.request("OPTIONS", "/sdapi/v1/txt2img", headers=preflight)
    assert "access-control-allow-origin" not in r.headers
    r = server.get("/sdapi/v1/options", headers={"Origin": "https://app.example"})
    assert "access-control-allow-origin" not in r.headers
    with serve(app_for(engine, cors_allow_origins=("https://app.example",))) as srv:
        r = srv.request("OPTIONS", "/sdapi/v1/txt2img", headers=preflight)
        assert r.status == 200 and r.headers["access-control-allow-origin"] == "https://app.example"
        r = srv.post("/sdapi/v1/interrupt", {}, headers={"Origin": "https://app.example", "Sec-Fetch-Site": "cross-site"})
        assert r.status == 200 and r.headers["access-control-allow-origin"] == "https://app.example"
        other = {**preflight, "Origin": EVIL}
        assert "access-control-allow-origin" not in srv.request("OPTIONS", "/sdapi/v1/txt2img", headers=other).headers
        assert srv.post("/sdapi/v1/interrupt", {}, headers={"Origin": EVIL}).status == 403
        plain = srv.request("POST", "/sdapi/v1/interrupt", b"{}", headers={"Origin": "https://app.example",
                                                                              "Content-Type": "text/plain"})
        assert plain.status == 415


def test_cors_origins_are_checked_like_a1111s_flag(home) -> None:
    from engine import cli

    config = cli.parse(["--home", str(home.root), "--cors-allow-origins", "https://a.example, http://B.example:8080/"],
                       env={}, probe_machine=False)
    assert config.cors_allow_origins == ("https://a.example", "http://b.example:8080")
    for bad in ("*", "ftp://x", "https://a.example/path", "nothing"):
        with pytest.raises(cli.UsageError, match="--cors-allow-origins"):
            cli.parse(["--home", str(home.root), "--cors-allow-origins", bad], env={}, probe_machine=False)
    assert Settings(cors_allow_origins=["https://A.example:443"]).cors_allow_origins == ["https://a.example"]


# --- 4: empty passwords -------------------------------------------------------------------------
@pytest.mark.parametrize("flags", [["--api-auth", "ann:"], ["--listen", "--api-auth", "ann:"],
                                   ["--api-auth", "ann:  "]])
def test_the_engine_refuses_to_start_with_an_empty_password(tmp_path, flags: list[str]) -> None:
    run = subprocess.run([sys.executable, "-m", "engine", "--home", str(tmp_path / "h"), "--device", "cpu", *flags],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "password is empty" in run.stderr


def test_settings_refuse_an_empty_password() -> None:
    for value in ("ann:", "ann: ", ":pw", "nocolon"):
        with pytest.raises(ValueError, match="api_auth"):
            Settings(api_auth=value)
    assert Settings(api_auth="ann:pw").api_auth == "ann:pw"


def test_an_empty_password_never_logs_in(engine) -> None:
    with serve(app_for(engine, api_auth="ann:pw")) as srv:
        assert srv.get("/sdapi/v1/options", headers={"Authorization": "Basic YW5uOg=="}).status == 401  # "ann:"
        assert srv.get("/sdapi/v1/options", headers={"Authorization": "Basic YW5uOnB3"}).status == 200


# --- 5: wrong passwords -------------------------------------------------------------------------
def test_wrong_logins_are_slowed_then_refused_with_429(engine, caplog) -> None:
    wrong, right = {"Authorization": "Basic YW5uOnd4"}, {"Authorization": "Basic YW5uOnB3"}
    with serve(app_for(engine, api_auth="ann:pw")) as srv, caplog.at_level(logging.WARNING):
        assert srv.get("/maple/v1/ready").status == 401  # no credentials yet: not a failed login
        took = []
        for _ in range(9):
            started = time.monotonic()
            assert srv.get("/maple/v1/ready", headers=wrong).status == 401
            took.append(time.monotonic() - started)
        assert max(took[:3]) < 0.4 and min(took[3:]) >= 0.45, took
        assert srv.get("/maple/v1/ready", headers=wrong).status == 401  # the tenth locks
        locked = srv.get("/maple/v1/ready", headers=right)
        assert locked.status == 429 and int(locked.headers["retry-after"]) > 60
        assert locked.json()["field"] == "Authorization"
        assert sum("wrong logins from" in r.getMessage() for r in caplog.records) == 1


def test_parallel_guesses_lock_just_as_fast(engine) -> None:
    with serve(app_for(engine, api_auth="ann:pw")) as srv:
        statuses: list[int] = []

        def guess(n: int) -> None:
            statuses.append(srv.get("/maple/v1/ready", headers={"Authorization": f"Basic {n:08d}"}).status)

        threads = [threading.Thread(target=guess, args=(n,)) for n in range(60)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        rate = statuses.count(401) / (time.monotonic() - started)
    assert statuses.count(401) <= 10 and statuses.count(429) >= 50, statuses
    print(f"\nguesses answered 401 (tried) in the burst: {statuses.count(401)} of 60 ({rate:.1f}/s); "
          f"the rest 429 for 300 s")


def test_the_page_still_generates_with_auth(engine) -> None:
    with serve(app_for(engine, api_auth="ann:pw")) as srv:
        r = srv.post("/sdapi/v1/txt2img", SMALL, headers={"Authorization": "Basic YW5uOnB3", "Origin": srv.base})
        assert r.status == 200, r.text
