"""The engine's flags: defaults from settings.json, refusals, and the machine check's advice."""

from __future__ import annotations

import json

import pytest

from engine import cli


def parse(home, *flags: str, probe: bool = False) -> cli.EngineConfig:
    return cli.parse(["--home", str(home.root), *flags], env={}, probe_machine=probe)


def test_defaults_are_local_and_automatic(home) -> None:
    config = parse(home)
    assert (config.host, config.port, config.api_auth) == ("127.0.0.1", 7860, "")
    assert (config.device, config.precision, config.vram_mode) == ("auto", "auto", "auto")
    assert config.parent_pid is None and not config.allow_pickle and not config.listening


def test_flags_override_settings(home) -> None:
    home.settings_file.write_text(json.dumps({"version": 1, "port": 9000, "device": "cpu", "model": "a.safetensors"}))
    config = parse(home)
    assert (config.port, config.device, config.model) == (9000, "cpu", "a.safetensors")
    config = parse(home, "--port", "9100", "--device", "cuda", "--precision", "fp16", "--vram-mode", "low",
                   "--model", "b.safetensors", "--allow-pickle", "--parent-pid", "42")
    assert (config.port, config.device, config.precision, config.vram_mode) == (9100, "cuda", "fp16", "low")
    assert (config.model, config.allow_pickle, config.parent_pid) == ("b.safetensors", True, 42)


def test_listen_without_auth_is_refused(home) -> None:
    with pytest.raises(cli.UsageError, match="--api-auth"):
        parse(home, "--listen")
    with pytest.raises(cli.UsageError, match="--api-auth"):
        parse(home, "--host", "0.0.0.0")


def test_listen_with_auth_binds_all_interfaces(home) -> None:
    config = parse(home, "--listen", "--api-auth", "ann:secret")
    assert config.host == "0.0.0.0" and config.listening
    assert config.auth_pair == ("ann", "secret")


def test_bad_auth_and_port_are_refused(home) -> None:
    with pytest.raises(cli.UsageError, match="user:password"):
        parse(home, "--api-auth", "nopassword")
    with pytest.raises(cli.UsageError, match="between 1 and 65535"):
        parse(home, "--port", "70000")


def test_bad_choice_exits_with_usage(home, capsys) -> None:
    with pytest.raises(SystemExit):
        parse(home, "--device", "tpu")
    assert "invalid choice" in capsys.readouterr().err


def test_machine_check_fills_auto_values_only(home) -> None:
    config = parse(home, "--precision", "fp16", probe=True)
    rec = cli.machine_defaults(home)
    assert config.precision == "fp16"
    assert config.device == rec.get("device", "auto") and config.device in cli.DEVICES
    assert config.vram_mode == rec.get("vram_mode", "auto")


def test_with_machine_defaults_fills_only_auto_values(home) -> None:
    config = cli.with_machine_defaults(parse(home, "--precision", "bf16"))
    rec = cli.machine_defaults(home)
    assert config.precision == "bf16"
    assert (config.device, config.vram_mode) == (rec.get("device", "auto"), rec.get("vram_mode", "auto"))
    explicit = parse(home, "--device", "cpu", "--precision", "fp32", "--vram-mode", "low")
    assert cli.with_machine_defaults(explicit) is explicit
