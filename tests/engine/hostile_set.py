"""The hostile-request set: what a foreign web page, a careless script or an attacker on the
network sends, each with the statuses the engine may answer (never a 5xx).

Groups: Host names (DNS rebinding), origins and content types, paths out of the outputs folder,
numeric limits, image files built to hurt, prompts, malformed JSON, sizes, methods, options.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from typing import Any

from tests.engine.hostile_helpers import (
    b64,
    eps_bytes,
    huge_header_png,
    image_bytes,
    one_bit_png,
    png_with_chunk,
    ztxt_bomb_png,
)
from tests.engine.server_helpers import SMALL

OK = frozenset({200})
REFUSED = frozenset({400, 403, 404, 405, 413, 415, 421, 422})
T2I, I2I, OPTS = "/sdapi/v1/txt2img", "/sdapi/v1/img2img", "/sdapi/v1/options"


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str
    body: Any = None
    headers: tuple[tuple[str, str], ...] = ()
    host: str | None = None  # "{port}" is filled in; None: the right Host
    expect: frozenset[int] = field(default=REFUSED)


def _hosts() -> list[Case]:
    names = ["attacker.example:{port}", "attacker.example", "127.0.0.1.nip.io:{port}", "localhost.:{port}",
             "127.1:{port}", "2130706433:{port}", "0x7f000001:{port}", "[::ffff:127.0.0.1]:{port}", "localhost:80",
             "127.0.0.1:{port}@attacker.example", "LOCALHOST.attacker.example:{port}", " :{port}"]
    out = [Case(f"host {n}", "GET", path, host=n) for n in names for path in (OPTS, "/maple/v1/outputs")]
    out += [Case(f"host {n} shutdown", "POST", "/maple/v1/shutdown", {}, host=n) for n in names[:4]]
    return out


def _origins() -> list[Case]:
    evil = (("Origin", "https://attacker.example"),)
    plain = (("Content-Type", "text/plain"),)
    out = []
    for path in ("/maple/v1/shutdown", "/sdapi/v1/interrupt", "/sdapi/v1/skip", OPTS, T2I, "/sdapi/v1/refresh-checkpoints"):
        out += [Case(f"{path} foreign origin text/plain", "POST", path, b"{}", evil + plain),
                Case(f"{path} foreign origin json", "POST", path, {}, evil),
                Case(f"{path} null origin", "POST", path, b"{}", (("Origin", "null"),) + plain),
                Case(f"{path} cross-site fetch", "POST", path, b"{}", (("Sec-Fetch-Site", "cross-site"),) + plain),
                Case(f"{path} form post", "POST", path, b"a=1", (("Content-Type", "application/x-www-form-urlencoded"),)),
                Case(f"{path} text/plain", "POST", path, b"{}", plain)]
    out.append(Case("other local port's page", "POST", "/sdapi/v1/interrupt", {}, (("Origin", "http://127.0.0.1:8188"),)))
    out.append(Case("same-site page", "POST", "/sdapi/v1/interrupt", {}, (("Sec-Fetch-Site", "same-site"),)))
    return out


def _paths() -> list[Case]:
    paths = ["/outputs/../settings.json", "/outputs/%2e%2e/settings.json", "/outputs/..%2fsettings.json",
             "/outputs/txt2img-images/%2e%2e/%2e%2e/settings.json", "/outputs//etc/passwd", "/outputs/%2fetc%2fpasswd",
             "/outputs/..\\settings.json", "/outputs/txt2img-images/../../logs/engine.log", "/outputs/%00.png",
             "/outputs/txt2img-images/x.txt", "/outputs/.hidden.png", "/web/../engine/cli.py",
             "/web/%2e%2e/%2e%2e/engine/cli.py", "/maple/v1/outputs?date=../../..", "/maple/v1/outputs?date=2024-01-01%00"]
    return [Case(f"path {p}", "GET", p) for p in paths]


def _numbers() -> list[Case]:
    changes: list[dict[str, Any]] = [
        {"width": 4096}, {"width": 63}, {"width": -64}, {"height": 10**9}, {"steps": 10**6}, {"steps": -1},
        {"batch_size": 1000}, {"n_iter": 10**5}, {"batch_size": 8, "n_iter": 100}, {"cfg_scale": 1e308},
        {"seed": 2**64}, {"seed": -2}, {"enable_hr": True, "hr_scale": 100}, {"enable_hr": True, "hr_resize_x": 2048},
        {"enable_hr": True, "hr_resize_y": 4096}, {"enable_hr": True, "hr_second_pass_steps": 10**4},
        {"denoising_strength": 5}, {"width": 1.5}, {"steps": "20; rm -rf /"}, {"width": True, "height": []},
    ]
    return [Case(f"number {c}", "POST", T2I, {**SMALL, **c}) for c in changes]


def _images() -> list[Case]:
    bits = b64(one_bit_png(4096))
    late_bomb = png_with_chunk(b"zTXt", b"p\x00\x00" + zlib.compress(b"a" * 50 * 2**20, 9), before_image=False)
    files = {"1-bit 4096 x12": [bits] * 12, "30000 px header": [b64(huge_header_png())],
             "zTXt bomb": [b64(ztxt_bomb_png())], "zTXt bomb after IDAT": [b64(late_bomb)], "EPS": [b64(eps_bytes())],
             "TIFF": [b64(image_bytes("TIFF"))], "truncated PNG": [b64(image_bytes("PNG")[:60])], "empty": [""],
             "not base64": ["%%%"], "data URL junk": ["data:image/png;base64,@@"], "no images": [], "a number": [5]}
    out = [Case(f"img2img {k}", "POST", I2I, {**SMALL, "init_images": v}) for k, v in files.items()]
    out += [Case("img2img 1-bit 4096 x3, batch 3", "POST", I2I, {**SMALL, "init_images": [bits] * 3, "batch_size": 3}),
            Case("img2img mask EPS", "POST", I2I, {**SMALL, "init_images": [b64(image_bytes("PNG"))], "mask": b64(eps_bytes())}),
            Case("img2img 4096 1-bit and its mask (within the limits)", "POST", I2I,
                 {**SMALL, "init_images": [bits], "mask": bits}, expect=OK)]
    for name in ("zTXt bomb", "zTXt bomb after IDAT", "EPS", "30000 px header"):
        out.append(Case(f"png-info {name}", "POST", "/sdapi/v1/png-info", {"image": files[name][0]}))
    return out


def _prompts() -> list[Case]:
    texts = {"nested 600": "(" * 600 + ")" * 600, "unclosed 5000": "[" * 5000, "alternating 300": "(]" * 300,
             "20001 chars": "x" * 20_001, "lora traversal": "<lora:../../../etc/passwd:1>",
             "lora absolute": "<lora:/etc/passwd:1>", "lora drive": "<lora:C:\\Windows\\win.ini:1>"}
    out = [Case(f"prompt {k}", "POST", T2I, {**SMALL, "prompt": v}) for k, v in texts.items()]
    out.append(Case("token-count nested", "POST", "/maple/v1/token-count", {"prompt": "(" * 5000}))
    out.append(Case("prompt odd unicode", "POST", T2I, {**SMALL, "prompt": "\x00\u202e\uffff\U0010ffff"}, expect=OK))
    for raw in ('"\\ud800"', '"\\udfff x"', '"a\\udbff"'):
        out.append(Case(f"prompt lone surrogate {raw}", "POST", T2I, json.dumps(SMALL)[:-1] + f', "prompt": {raw}}}',
                        (("Content-Type", "application/json"),)))
    return out


def _json() -> list[Case]:
    js = (("Content-Type", "application/json"),)
    bodies = {"not json": b"{not json", "deep arrays": b"[" * 100_000 + b"]" * 100_000,
              "deep unknown key": b'{"x": ' + b"[" * 5000 + b"]" * 5000 + b"}", "NaN": b'{"cfg_scale": NaN}',
              "huge number": b'{"steps": 1' + b"0" * 5000 + b"}", "list": b"[1, 2]", "string": b'"prompt"',
              "null": b"null", "bad utf-8": b'{"prompt": "\xff\xfe"}', "duplicate keys": b'{"steps": 1, "steps": 99999}',
              "unknown 100 KB": json.dumps({**SMALL, "junk": "x" * 100_000}).encode(),
              "override junk": json.dumps({**SMALL, "override_settings": {"sd_model_checkpoint": "/etc/passwd"}}).encode(),
              "override clip skip": json.dumps({**SMALL, "override_settings": {"CLIP_stop_at_last_layers": 99}}).encode()}
    return [Case(f"json {k}", "POST", T2I, v, js) for k, v in bodies.items()]


def _sizes() -> list[Case]:
    js = (("Content-Type", "application/json"),)
    return [Case("body 33 MB", "POST", T2I, b" " * (33 * 2**20), js),
            Case("content-length lies", "POST", T2I, b"{}", (*js, ("Content-Length", "99999999999"))),
            Case("content-length not a number", "POST", T2I, b"{}", (*js, ("Content-Length", "abc")))]


def _methods() -> list[Case]:
    return [Case("GET txt2img", "GET", T2I), Case("PUT options", "PUT", OPTS, {}), Case("DELETE outputs", "DELETE", "/maple/v1/outputs"),
            Case("TRACE", "TRACE", "/"), Case("PATCH shutdown", "PATCH", "/maple/v1/shutdown", {}),
            Case("GET shutdown", "GET", "/maple/v1/shutdown")]


def _options() -> list[Case]:
    bad = [{"sd_model_checkpoint": "/etc/passwd"}, {"sd_model_checkpoint": "../../x.safetensors"},
           {"sd_vae": "..\\..\\x.pt"}, {"sd_vae": "C:/x.pt"}, {"CLIP_stop_at_last_layers": 999},
           {"sd_model_checkpoint": "x" * 100_000}, {"sd_model_checkpoint": {"$gt": ""}}]
    return [Case(f"options {list(b)[0]} {str(list(b.values())[0])[:20]}", "POST", OPTS, b) for b in bad]


def cases() -> list[Case]:
    """The whole set (built when called: some files take a moment to make)."""
    return [*_hosts(), *_origins(), *_paths(), *_numbers(), *_images(), *_prompts(), *_json(), *_sizes(),
            *_methods(), *_options()]
