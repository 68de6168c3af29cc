"""Civitai links: model pages and version links resolved through its public API to a file and hash."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from installer.downloads.errors import SourceFailedError, UnsupportedUrlError
from installer.downloads.http import RetryPolicy, auth_headers, make_session
from installer.downloads.network import NetworkSettings
from installer.downloads.reach import ask

KINDS = {"checkpoint": "checkpoint", "lora": "lora", "locon": "lora", "lycoris": "lora", "dora": "lora", "vae": "vae"}
_ARCH = (("sdxl", "sdxl"), ("pony", "sdxl"), ("illustrious", "sdxl"), ("noobai", "sdxl"), ("sd 1", "sd1"), ("sd 2", "sd2"))


def arch_of(base_model: str) -> str:
    """Civitai's baseModel ("SD 1.5", "SDXL 1.0", "Pony") as Maple's architecture id."""
    low = base_model.lower()
    return next((arch for key, arch in _ARCH if low.startswith(key)), low)


def version_api(url: str) -> str:
    """The API URL describing the version behind a model page or a download / version link."""
    parts = urlsplit(url)
    base = f"{parts.scheme}://{parts.netloc}/api/v1"
    path = parts.path.rstrip("/")
    if m := re.match(r"^/api/(?:download/models|v1/model-versions)/(\d+)$", path):
        return f"{base}/model-versions/{m.group(1)}"
    if m := re.match(r"^/models/(\d+)(?:/[^/]*)?$", path):
        version = parse_qs(parts.query).get("modelVersionId", [""])[0]
        return f"{base}/model-versions/{version}" if version.isdigit() else f"{base}/models/{m.group(1)}"
    raise UnsupportedUrlError(f"{url} is not a Civitai model or version link")


def _get_json(url: str, net: NetworkSettings, policy: RetryPolicy) -> dict[str, Any]:
    with make_session(net) as session:
        resp = ask(session, "GET", url, net, headers=auth_headers(url, net), timeout=policy.timeout)
    if resp.status_code != 200:
        raise SourceFailedError(f"Civitai's API answered HTTP {resp.status_code} for {url}")
    try:
        data = resp.json()
    except ValueError as exc:
        raise SourceFailedError(f"Civitai's API sent something that is not JSON for {url}") from exc
    if not isinstance(data, dict):
        raise SourceFailedError(f"Civitai's API sent an unexpected reply for {url}")
    return data


def _pick_file(version: dict[str, Any]) -> dict[str, Any]:
    files = [f for f in version.get("files") or [] if isinstance(f, dict)]
    chosen = next((f for f in files if f.get("primary")), None) or next((f for f in files if f.get("type") == "Model"), None)
    if chosen is None:
        raise SourceFailedError(f"Civitai version {version.get('id')} lists no model file")
    return chosen


def resolve_civitai(url: str, net: NetworkSettings, policy: RetryPolicy | None = None) -> dict[str, Any]:
    """Name, download URL, sha256, approximate size, kind and base model of the link's primary file."""
    policy = policy or RetryPolicy()
    data = _get_json(version_api(url), net, policy)
    model_type = str((data.get("model") or {}).get("type") or data.get("type") or "")
    if "modelVersions" in data:
        versions = data.get("modelVersions") or []
        if not versions:
            raise SourceFailedError(f"Civitai model {data.get('id')} has no versions")
        data = versions[0]
    kind = KINDS.get(model_type.lower())
    if kind is None:
        raise UnsupportedUrlError(f"{url} is a Civitai {model_type or 'unknown'} model; Maple manages checkpoints, VAEs and LoRAs")
    chosen = _pick_file(data)
    sha = str((chosen.get("hashes") or {}).get("SHA256") or "").lower() or None
    return {
        "name": str(chosen.get("name") or ""),
        "url": str(chosen.get("downloadUrl") or data.get("downloadUrl") or ""),
        "sha256": sha,
        "approx_size": int(float(chosen.get("sizeKB") or 0) * 1024),
        "kind": kind,
        "base_model": arch_of(str(data.get("baseModel") or "")),
        "version_id": data.get("id"),
    }
