"""Loading checkpoints: every architecture's tiny model, offline, with clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.models.demo import ensure_demo_model
from engine.models.errors import UnsupportedModelError
from engine.models.loader import load_checkpoint, unload
from installer.errors import BrokenModelError, ModelNotFoundError
from tests.engine.tinymodels import refuse_sockets, write_tiny_checkpoint, write_tiny_lora


def _generate(model, size: int = 64, steps: int = 2):
    import torch

    model.pipe.set_progress_bar_config(disable=True)
    return model.pipe("a photo of a cat", num_inference_steps=steps, height=size, width=size,
                      generator=torch.Generator().manual_seed(3), output_type="np").images[0]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every socket operation fails while the test runs; records attempts."""
    return refuse_sockets(monkeypatch)


def test_demo_loads_offline_and_generates(home, no_network) -> None:
    model = load_checkpoint(ensure_demo_model(home))
    assert model.arch == "demo" and model.is_demo
    assert type(model.pipe).__name__ == "StableDiffusionPipeline"
    assert str(model.dtype) == "torch.float32" and model.device.type == "cpu"
    assert len(model.model_hash) == 10 and model.title.startswith("maple-demo-noise.safetensors [")
    ids = model.pipe.tokenizer("a photo of a cat").input_ids
    assert ids == [49406, 320, 1125, 539, 320, 2368, 49407]
    image = _generate(model)
    assert image.shape == (64, 64, 3)
    assert no_network == []


@pytest.mark.parametrize(
    ("variant", "pipeline", "in_channels"),
    [
        ("sd1", "StableDiffusionPipeline", 4),
        ("sd1-inpaint", "StableDiffusionInpaintPipeline", 9),
        ("sd2", "StableDiffusionPipeline", 4),
        ("sdxl", "StableDiffusionXLPipeline", 4),
    ],
)
def test_each_architecture_loads_offline(tmp_path: Path, no_network, variant, pipeline, in_channels) -> None:
    path = write_tiny_checkpoint(tmp_path / f"tiny-{variant}.safetensors", variant)
    model = load_checkpoint(path)
    assert model.arch == variant
    assert type(model.pipe).__name__ == pipeline
    assert model.pipe.unet.config.in_channels == in_channels
    if variant != "sd1-inpaint":
        assert _generate(model).shape == (64, 64, 3)
    assert no_network == []


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError) as err:
        load_checkpoint(tmp_path / "nope.safetensors")
    assert err.value.code == "model-not-found" and err.value.hint


def test_truncated_file_is_broken(tmp_path: Path) -> None:
    path = write_tiny_checkpoint(tmp_path / "cut.safetensors")
    path.write_bytes(path.read_bytes()[:-5000])
    with pytest.raises(BrokenModelError, match="truncated") as err:
        load_checkpoint(path)
    assert err.value.code == "model-broken"


def test_lora_is_not_a_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedModelError, match="LoRA"):
        load_checkpoint(write_tiny_lora(tmp_path / "style.safetensors"))


def test_unload_frees_the_weights(home) -> None:
    import weakref

    model = load_checkpoint(ensure_demo_model(home))
    unet = weakref.ref(model.pipe.unet)
    unload(model)
    assert model.pipe is None
    assert unet() is None or all(p.is_meta for p in unet().parameters())


def test_sd2_prediction_type_follows_the_unet(tmp_path: Path) -> None:
    import torch

    from engine.models.prediction import set_prediction_type

    model = load_checkpoint(write_tiny_checkpoint(tmp_path / "sd2.safetensors", "sd2"))
    assert model.pipe.scheduler.config.prediction_type == "epsilon"
    with torch.no_grad():
        model.pipe.unet.conv_out.bias.fill_(-5.0)  # output far below the input: how v-models answer
    assert set_prediction_type(model.pipe) == "v_prediction"
    assert model.pipe.scheduler.config.prediction_type == "v_prediction"


class RecordingPipe:
    """Records which placement a pipeline got (the CUDA calls themselves need a GPU)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def to(self, device) -> None:
        self.calls.append(("to", str(device)))

    def enable_model_cpu_offload(self, device) -> None:
        self.calls.append(("model_offload", str(device)))

    def enable_sequential_cpu_offload(self, device) -> None:
        self.calls.append(("sequential_offload", str(device)))


@pytest.mark.parametrize(
    ("device", "mode", "call", "in_effect"),
    [
        ("cuda", "high", ("to", "cuda"), "high"),
        ("cuda", "auto", ("to", "cuda"), "high"),
        ("cuda", "medium", ("model_offload", "cuda"), "medium"),
        ("cuda", "low", ("sequential_offload", "cuda"), "low"),
        ("cpu", "low", None, "high"),  # already on the CPU: nothing to move
    ],
)
def test_vram_modes_choose_the_offload(device, mode, call, in_effect) -> None:
    import torch

    from engine.models.device import resolve_dtype
    from engine.models.placement import place

    pipe = RecordingPipe()
    assert place(pipe, torch.device(device), mode) == in_effect
    assert pipe.calls == ([call] if call else [])
    assert resolve_dtype(None, torch.device(device)) == (torch.float16 if device == "cuda" else torch.float32)
    assert resolve_dtype("bf16", torch.device(device)) == torch.bfloat16


OFFLINE_SCRIPT = """
import socket, sys
attempts = []
def refuse(*a, **k):
    attempts.append(repr(a[:2]))
    raise OSError("network refused")
socket.socket.connect = refuse
socket.getaddrinfo = refuse
socket.create_connection = refuse
from pathlib import Path
from engine.models.loader import load_checkpoint
for path in sys.argv[1:]:
    model = load_checkpoint(Path(path))
    assert model.pipe.tokenizer("a cat").input_ids == [49406, 320, 2368, 49407]
print("attempts:", attempts)
"""


def test_loading_needs_no_offline_switches(tmp_path: Path) -> None:
    """Without HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE, loading still makes no connection attempt."""
    import os
    import subprocess
    import sys

    files = [write_tiny_checkpoint(tmp_path / f"{v}.safetensors", v) for v in ("sd1", "sdxl")]
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    root = Path(__file__).resolve().parents[2]
    env["PYTHONPATH"] = str(root)
    out = subprocess.run([sys.executable, "-c", OFFLINE_SCRIPT, *map(str, files)], env=env, cwd=root,
                         capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "attempts: []" in out.stdout
