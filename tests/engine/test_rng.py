"""Seeds that reproduce A1111's pictures: the GPU, CPU and NV noise sources and eta noise seed delta.

The Philox emulation is checked against the Philox4x32-10 known-answer vectors of the Random123
reference distribution (Salmon et al., 2011) and against numbers torch printed on CUDA devices,
not only against itself.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.generation.generate import generate
from engine.generation.infotext import parse
from engine.generation.rng import NoiseStream, Philox, normalize_source, philox4x32_10, randn
from engine.jobs import GenParams
from tests.engine.test_generate import Control
from tests.engine.tinypipe import shared_model

# Random123's kat_vectors for philox4x32 with 10 rounds: (counter, key, output)
PHILOX_KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]

# torch.manual_seed(0); torch.randn((8, 8), device="cuda") as printed (4 decimals) on an NVIDIA GPU
CUDA_SEED_0 = [
    [-0.9247, -0.4253, -2.6438, 0.1452, -0.1209, -0.5797, -0.6229, -0.3284],
    [-1.0745, -0.3631, -1.6711, 2.2655, 0.3117, -0.1842, 1.2866, 1.1820],
    [-0.1271, 1.2169, 1.4353, 1.0605, -0.4941, -1.4244, -0.7244, -1.2973],
    [0.0697, -0.0074, 1.8969, 0.6878, -0.0779, -0.8373, 1.3506, -0.2879],
    [-0.5965, -0.3283, -0.9086, -0.8059, -0.7407, -0.0504, 0.5435, 1.5150],
    [0.0141, 0.4532, 1.6349, 0.7124, -0.1806, 1.0252, -1.4622, -0.7554],
    [-0.1836, 0.3824, 0.3918, -0.0830, 0.8971, -1.1123, 0.1116, 0.4863],
    [-0.5499, -0.3231, -0.5469, 0.9049, 0.2837, 0.1210, 0.4730, -1.0823],
]
# torch.manual_seed(42); torch.randn(2, 5, device="cuda"), and the same seed's first 19 values
CUDA_SEED_42 = [0.1940, 2.1614, -0.1721, 0.8491, -1.9244, 0.6530, -0.6494, -0.8175, 0.5280, -1.2753,
                -1.6621, -0.3033, -0.0926, 0.1992, -1.1204, 1.8577, -0.7145, 0.6881, 0.7968]


@pytest.mark.parametrize(("counter", "key", "expected"), PHILOX_KAT)
def test_philox_block_function_gives_random123s_known_answers(counter, key, expected) -> None:
    out = philox4x32_10(np.array(counter, dtype=np.uint32).reshape(4, 1), np.array(key, dtype=np.uint32).reshape(2, 1))
    assert tuple(int(v) for v in out[:, 0]) == expected


def test_emulation_gives_the_numbers_cuda_gave() -> None:
    assert Philox(0).randn((8, 8)) == pytest.approx(np.array(CUDA_SEED_0), abs=6e-5)
    assert Philox(42).randn((19,)) == pytest.approx(np.array(CUDA_SEED_42), abs=6e-5)
    assert Philox(42).randn((2, 5)).ravel() == pytest.approx(np.array(CUDA_SEED_42[:10]), abs=6e-5)


def test_each_draw_moves_the_counter_on_by_one_block() -> None:
    """Element i of draw k is the first pair of Philox(counter=(k, 0, i, 0), key=seed): CUDA's layout."""
    generator = Philox(2**32 + 7)  # a seed above 32 bits fills both key words
    generator.randn((3,))
    second = generator.randn((3,))
    counter = np.zeros((4, 3), dtype=np.uint32)
    counter[0], counter[2] = 1, np.arange(3)
    key = np.array([[7] * 3, [1] * 3], dtype=np.uint32)
    block = philox4x32_10(counter, key).astype(np.float64)
    u = (block[0].astype(np.float32).astype(np.float64) * 2.3283064e-10 + 2.3283064e-10 / 2)
    v = (block[1].astype(np.float32).astype(np.float64) * 2.3283064e-10 * 6.2831855 + 2.3283064e-10 * 6.2831855 / 2)
    assert second == pytest.approx(np.sqrt(-2 * np.log(u)) * np.sin(v), abs=1e-5)
    assert not np.allclose(second, Philox(2**32 + 7).randn((3,)))


def test_the_three_sources() -> None:
    shape = (4, 8, 8)
    cpu = randn(5, shape, "CPU", "cpu", torch.float32)
    assert torch.equal(cpu, torch.randn(shape, generator=torch.Generator("cpu").manual_seed(5)))
    nv = randn(5, shape, "NV", "cpu", torch.float32)
    assert torch.equal(nv, torch.from_numpy(Philox(5).randn(shape)))
    assert torch.equal(randn(5, shape, "GPU", "cpu", torch.float32), nv)  # without CUDA: the emulation
    assert randn(5, shape, "gpu", "cpu", torch.float16).dtype == torch.float16
    assert normalize_source("") == "GPU" and normalize_source("nv") == "NV"
    with pytest.raises(ValueError, match="GPU, CPU, NV"):
        normalize_source("XPU")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_gpu_source_on_cuda_is_cudas_generator_and_the_emulation_agrees() -> None:
    shape = (4, 64, 64)
    gpu = randn(3, shape, "GPU", "cuda", torch.float32)
    assert torch.equal(gpu, torch.randn(shape, generator=torch.Generator("cuda").manual_seed(3), device="cuda"))
    assert gpu.cpu().numpy() == pytest.approx(Philox(3).randn(shape), abs=1e-5)


def test_stream_first_noise_then_the_same_generator_onwards() -> None:
    stream = NoiseStream([10, 11], "CPU")
    first = stream.first((2, 4, 3, 3))
    later = stream.step_noise((2, 4, 3, 3))
    for i, seed in enumerate((10, 11)):
        generator = torch.Generator("cpu").manual_seed(seed)
        assert torch.equal(first[i], torch.randn((4, 3, 3), generator=generator))
        assert torch.equal(later[i], torch.randn((4, 3, 3), generator=generator))
    assert torch.equal(stream.first((2, 4, 3, 3)), first)  # the first noise is drawn once


def test_eta_noise_seed_delta_reseeds_what_comes_after_the_first_noise() -> None:
    stream = NoiseStream([10], "NV", eta_noise_seed_delta=31337)
    first = stream.first((1, 4, 3, 3))
    later = stream.step_noise((1, 4, 3, 3))
    assert torch.equal(first[0], torch.from_numpy(Philox(10).randn((4, 3, 3))))
    assert torch.equal(later[0], torch.from_numpy(Philox(10 + 31337).randn((4, 3, 3))))


def test_first_hook_shapes_the_first_noise_only() -> None:
    stream = NoiseStream([1], "CPU", first_hook=lambda index, noise: noise * 0 + index + 7)
    assert torch.equal(stream.first((1, 2, 2, 2)), torch.full((1, 2, 2, 2), 7.0))
    assert not torch.equal(stream.step_noise((1, 2, 2, 2)), torch.full((1, 2, 2, 2), 7.0))


def test_serving_answers_only_the_streams_stand_ins() -> None:
    stream = NoiseStream([4, 5], "NV")
    other = torch.Generator("cpu").manual_seed(4)
    with stream.serving():
        drawn = torch.randn((1, 2, 2), generator=stream.markers[1], dtype=torch.float16)
        untouched = torch.randn((2,), generator=other)
    assert drawn.dtype == torch.float16
    assert torch.equal(drawn.float(), torch.from_numpy(Philox(5).randn((1, 2, 2))).half().float())
    assert torch.equal(untouched, torch.randn((2,), generator=torch.Generator("cpu").manual_seed(4)))


def run(**changes):
    base = {"prompt": "a cat", "seed": 42, "steps": 3, "width": 32, "height": 32, "sampler_name": "Euler"}
    return generate(shared_model(), GenParams(**{**base, **changes}), Control())


def pixels(result) -> np.ndarray:
    return np.asarray(result.images[0]).astype(np.int16)


def test_a_job_starts_from_the_chosen_sources_noise() -> None:
    """A1111's default (GPU) and NV reproduce each other off CUDA; CPU is another picture."""
    gpu, nv, cpu = run(), run(randn_source="NV"), run(randn_source="CPU")
    assert np.array_equal(pixels(gpu), pixels(nv))
    assert not np.array_equal(pixels(gpu), pixels(cpu))
    assert "RNG" not in gpu.infotexts[0] and "RNG: NV" in nv.infotexts[0] and "RNG: CPU" in cpu.infotexts[0]
    assert parse(gpu.infotexts[0])["RNG"] == "GPU"


def test_the_start_noise_is_the_seeds_emulated_cuda_noise() -> None:
    model = shared_model()
    seen: list[torch.Tensor] = []
    unet = model.pipe.unet
    hook = unet.register_forward_pre_hook(lambda module, args: seen.append(args[0].detach().clone()))
    try:
        run(steps=1, cfg_scale=1.0)
    finally:
        hook.remove()
    expected = torch.from_numpy(Philox(42).randn(tuple(seen[0].shape[1:])))
    sigma = torch.tensor(14.6146)  # Euler scales its input by 1 / sqrt(sigma^2 + 1): undo it
    assert seen[0][0].float() * torch.sqrt(sigma**2 + 1) / sigma == pytest.approx(expected, abs=2e-3)


def test_eta_noise_seed_delta_changes_ancestral_samplers_only() -> None:
    euler_a = run(sampler_name="Euler a"), run(sampler_name="Euler a", eta_noise_seed_delta=31337)
    euler = run(), run(eta_noise_seed_delta=31337)
    assert not np.array_equal(pixels(euler_a[0]), pixels(euler_a[1]))
    assert np.array_equal(pixels(euler[0]), pixels(euler[1]))
    assert "ENSD: 31337" in euler_a[1].infotexts[0] and "ENSD" not in euler[1].infotexts[0]


@pytest.mark.parametrize("source", ["GPU", "CPU", "NV"])
def test_every_source_runs_img2img_and_ancestral_batches(source: str) -> None:
    from PIL import Image

    init = (Image.new("RGB", (32, 32), (120, 80, 40)),)
    first = generate(shared_model(), GenParams(mode="img2img", init_images=init, seed=3, steps=4, width=32,
                                               height=32, batch_size=2, sampler_name="Euler a",
                                               randn_source=source), Control())
    alone = generate(shared_model(), GenParams(mode="img2img", init_images=init, seed=4, steps=4, width=32,
                                               height=32, sampler_name="Euler a", randn_source=source), Control())
    diff = np.abs(np.asarray(first.images[1]).astype(int) - np.asarray(alone.images[0]).astype(int))
    assert diff.max() <= 2  # image 2 of a batch is the picture of seed + 1 alone
