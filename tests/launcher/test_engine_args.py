"""The engine's command line from settings and the machine check."""

from __future__ import annotations

from pathlib import Path

from installer.settings import Settings
from launcher.engine.command import engine_args, redact


def test_check_advice_used_unless_a_setting_overrides_it() -> None:
    check = ["--device", "cuda", "--precision", "fp16", "--vram-mode", "medium"]
    args = engine_args(Settings(vram_mode="low"), Path("/h"), 7861, check, parent_pid=42)
    assert args == ["--device", "cuda", "--precision", "fp16", "--vram-mode", "low",
                    "--home", "/h", "--port", "7861", "--parent-pid", "42"]


def test_listen_auth_model_and_pickle_flags() -> None:
    s = Settings(listen=True, api_auth="me:secret", model="a.safetensors", allow_pickle=True, device="cpu")
    args = engine_args(s, Path("/h"), 7860)
    assert args[:2] == ["--device", "cpu"]
    for flag in ("--listen", "--allow-pickle"):
        assert flag in args
    assert args[args.index("--api-auth") + 1] == "me:secret"
    assert args[args.index("--model") + 1] == "a.safetensors"
    assert redact(args)[args.index("--api-auth") + 1] == "me:***"
