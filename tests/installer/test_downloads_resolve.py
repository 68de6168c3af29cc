"""Adding a model by link: Hugging Face headers, the Civitai API, and plain links with Content-Disposition."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from installer.downloads import UnsupportedUrlError, download, resolve_url
from installer.downloads import http as dl_http
from installer.settings import Settings
from tests.installer.dl_helpers import FAST, payload, sha
from tests.installer.fault_server import Faults, FaultServer


def test_hugging_face_link_takes_size_and_hash_from_headers(server: FaultServer, home, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(dl_http, "HF_HOSTS", {"127.0.0.1"})
    data = payload(30_000)
    cdn = server.add("/cdn/xyz", data)
    server.add_redirect("/org/vae-model/resolve/main/sub/my-vae.safetensors", cdn,
                        {"X-Linked-Etag": f'"{sha(data)}"', "X-Linked-Size": str(len(data)), "X-Repo-Commit": "abc"})
    spec = resolve_url(server.url("/org/vae-model/blob/main/sub/my-vae.safetensors"), home, Settings(hf_token="t0k"))
    assert (spec.filename, spec.size, spec.sha256, spec.kind) == ("my-vae.safetensors", len(data), sha(data), "vae")
    assert spec.dest_dir == home.root / "models/VAE"
    assert spec.sources[0] == ("huggingface", server.url("/org/vae-model/resolve/main/sub/my-vae.safetensors"))
    assert server.log[0][0] == "HEAD" and server.log[0][2]["Authorization"] == "Bearer t0k"
    assert download(spec, policy=FAST).read_bytes() == data


def _civitai_version(server: FaultServer, data: bytes, model_type: str = "LORA") -> dict[str, object]:
    return {
        "id": 123, "modelId": 55, "name": "v1", "baseModel": "SDXL 1.0",
        "model": {"name": "Detail", "type": model_type},
        "downloadUrl": server.url("/api/download/models/123"),
        "files": [
            {"name": "extra.zip", "type": "Training Data", "sizeKB": 1, "hashes": {}},
            {"name": "detail/../Detail Tweaker XL.safetensors", "type": "Model", "primary": True, "sizeKB": len(data) / 1024,
             "downloadUrl": server.url("/api/download/models/123"), "hashes": {"SHA256": sha(data).upper(), "AutoV2": "X"}},
        ],
    }


@pytest.mark.parametrize("path", ["/models/55/detail-tweaker?modelVersionId=123", "/api/download/models/123", "/models/55"])
def test_civitai_links_resolve_through_the_api(server: FaultServer, home, monkeypatch: pytest.MonkeyPatch, path: str) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(dl_http, "CIVITAI_HOSTS", {"127.0.0.1"})
    data = payload(20_000)
    version = _civitai_version(server, data)
    server.add("/api/v1/model-versions/123", json.dumps(version).encode(), Faults(content_type="application/json"))
    server.add("/api/v1/models/55", json.dumps({"id": 55, "type": "LORA", "modelVersions": [version]}).encode(), Faults(content_type="application/json"))
    server.add("/api/download/models/123", data, Faults(headers={"Content-Disposition": 'attachment; filename="x.safetensors"'}))
    spec = resolve_url(server.url(path), home, Settings(civitai_token="civ"))
    assert (spec.filename, spec.sha256, spec.kind, spec.base_model) == ("Detail Tweaker XL.safetensors", sha(data), "lora", "sdxl")
    assert spec.dest_dir == home.root / "models/Lora"
    assert download(spec, settings=Settings(civitai_token="civ"), policy=FAST).read_bytes() == data
    assert server.requests_for("/api/download/models/123")[-1]["Authorization"] == "Bearer civ"


def test_civitai_kinds_maple_does_not_manage_are_refused(server: FaultServer, home, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(dl_http, "CIVITAI_HOSTS", {"127.0.0.1"})
    server.add("/api/v1/model-versions/9", json.dumps(_civitai_version(server, b"x", "TextualInversion")).encode())
    with pytest.raises(UnsupportedUrlError, match="TextualInversion"):
        resolve_url(server.url("/api/download/models/9"), home)


def test_plain_link_takes_its_name_from_content_disposition(server: FaultServer, home) -> None:  # type: ignore[no-untyped-def]
    data = payload(10_000)
    disposition = "attachment; filename=\"fallback.safetensors\"; filename*=UTF-8''..%2F%E6%A8%A1%E5%9E%8B%20lora.safetensors"
    url = server.add("/dl", data, Faults(headers={"Content-Disposition": disposition}))
    spec = resolve_url(url, home)
    assert spec.filename == "模型 lora.safetensors" and spec.kind == "lora" and spec.size == len(data)
    assert spec.sha256 is None
    path = download(spec, policy=FAST)
    assert path.parent == home.root / "models/Lora" and path.read_bytes() == data


def test_plain_link_name_from_the_path_and_a_given_hash(server: FaultServer, home) -> None:  # type: ignore[no-untyped-def]
    data = payload(10_000)
    url = server.add("/files/some%20model.ckpt", data)
    spec = resolve_url(url + "?download=true", home, kind="checkpoint", sha256=sha(data).upper())
    assert (spec.filename, spec.sha256) == ("some model.ckpt", sha(data))


@pytest.mark.parametrize("url", ["ftp://x/y.safetensors", "file:///etc/passwd", "not a url"])
def test_unsupported_links(url: str, home) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnsupportedUrlError):
        resolve_url(url, home)


def test_bad_sha256_argument(server: FaultServer, home) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnsupportedUrlError, match="64 hex"):
        resolve_url(server.add("/x.safetensors", b"x"), home, sha256="abc")


def test_hf_link_without_resolve_is_refused(home, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnsupportedUrlError, match="resolve"):
        resolve_url("https://huggingface.co/org/repo", home)
