"""Seeded noise as AUTOMATIC1111 draws it, from any of its three ``randn_source`` settings.

- ``GPU`` (A1111's default): the numbers torch's CUDA generator gives, Philox4x32-10 counters turned
  into normals by Box-Muller. On a CUDA device Maple uses that generator itself; on any other device
  it computes the same numbers with its Philox emulation (below), so a picture made with A1111's
  defaults on an NVIDIA card reproduces on a CPU or a Mac too.
- ``CPU``: torch's CPU generator (A1111's "CPU" setting, and what Maple drew before).
- ``NV``: the Philox emulation on every device (A1111's "NV" setting).

``randn(seed, shape, source, device, dtype)`` is the first tensor a seed gives. ``NoiseStream`` is
the noise of one batch as A1111's samplers draw it: one generator per image; an image's first draw
is its seeded noise, later draws (ancestral samplers' step noise) continue that generator, or, when
``eta_noise_seed_delta`` is set, a fresh generator seeded with ``seed + delta``.

The emulation: element ``i`` of the ``k``-th tensor drawn from a seed is the first output pair of the
Philox4x32-10 block function for counter ``(k, 0, i, 0)`` and key ``(seed low, seed high)``, turned
into ``sqrt(-2 ln u) * sin(v)``, as CUDA's kernels draw tensors up to a few hundred thousand values.
It agrees with CUDA to about 1e-6 (CUDA's own float32 logarithm and sine round differently).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

SOURCES = ("GPU", "CPU", "NV")
DEFAULT_SOURCE = "GPU"

_M0, _M1 = 0xD2511F53, 0xCD9E8D57  # Philox4x32 multipliers
_W0, _W1 = 0x9E3779B9, 0xBB67AE85  # Weyl key increments
_LOW = np.uint64(0xFFFFFFFF)
_INV_2_32 = float(np.float32(2.3283064e-10))  # the float32 constants CUDA's Box-Muller uses
_INV_2_32_2PI = float(np.float32(2.3283064e-10) * np.float32(6.2831855))


def normalize_source(name: str | None) -> str:
    """``"gpu"`` -> ``"GPU"``; an empty name means A1111's default; anything else is refused."""
    text = (name or DEFAULT_SOURCE).strip().upper()
    if text not in SOURCES:
        raise ValueError(f"Unknown random number source {name!r}; known: {', '.join(SOURCES)}")
    return text


def philox4x32_10(counter: np.ndarray, key: np.ndarray) -> np.ndarray:
    """The Philox4x32-10 block function on columns: ``counter`` (4, n), ``key`` (2, n) uint32."""
    c0, c1, c2, c3 = (counter[i].astype(np.uint64) for i in range(4))
    k0, k1 = key[0].astype(np.uint64), key[1].astype(np.uint64)
    for round_no in range(10):
        if round_no:
            k0, k1 = (k0 + np.uint64(_W0)) & _LOW, (k1 + np.uint64(_W1)) & _LOW
        p0, p1 = c0 * np.uint64(_M0), c2 * np.uint64(_M1)
        c0, c1, c2, c3 = (p1 >> np.uint64(32)) ^ c1 ^ k0, p1 & _LOW, (p0 >> np.uint64(32)) ^ c3 ^ k1, p0 & _LOW
    return np.stack([c0, c1, c2, c3]).astype(np.uint32)


class Philox:
    """The emulated CUDA generator of one seed: each ``randn`` call is the next tensor it gives."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed) % 2**64
        self.offset = 0

    def randn(self, shape: Sequence[int]) -> np.ndarray:
        n = math.prod(int(s) for s in shape)
        index = np.arange(n, dtype=np.uint64)
        counter = np.zeros((4, n), dtype=np.uint32)
        counter[0] = self.offset & 0xFFFFFFFF
        counter[1] = self.offset >> 32
        counter[2] = (index & _LOW).astype(np.uint32)
        counter[3] = (index >> np.uint64(32)).astype(np.uint32)
        key = np.empty((2, n), dtype=np.uint32)
        key[0], key[1] = self.seed & 0xFFFFFFFF, self.seed >> 32
        self.offset += 1
        block = philox4x32_10(counter, key)
        return _box_muller(block[0], block[1]).reshape(tuple(int(s) for s in shape))


def _box_muller(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``sqrt(-2 ln u) sin(v)`` with u, v rounded to float32 as CUDA's fused multiply-add leaves them."""
    u = _fma32(x, _INV_2_32)
    v = _fma32(y, _INV_2_32_2PI)
    return (np.sqrt(-2.0 * np.log(u)) * np.sin(v)).astype(np.float32)


def _fma32(bits: np.ndarray, scale: float) -> np.ndarray:
    """float32(float32(bits) * scale + scale / 2), rounded once (exact in float64 before rounding)."""
    value = bits.astype(np.float32).astype(np.float64) * scale + scale / 2
    return value.astype(np.float32).astype(np.float64)


class NoiseGenerator:
    """One image's generator for one source; ``randn`` continues where the last call stopped."""

    def __init__(self, seed: int, source: str, device: Any) -> None:
        import torch

        self.seed = int(seed)
        self.source = normalize_source(source)
        self.device = torch.device(device)
        self._philox: Philox | None = None
        self._torch: torch.Generator | None = None
        if self.source == "CPU":
            self._torch = torch.Generator("cpu").manual_seed(self.seed)
        elif self.source == "GPU" and self.device.type == "cuda":
            self._torch = torch.Generator(self.device).manual_seed(self.seed)
        else:
            self._philox = Philox(self.seed)

    def randn(self, shape: Sequence[int]) -> torch.Tensor:
        import torch

        size = tuple(int(s) for s in shape)
        if self._philox is not None:
            return torch.from_numpy(self._philox.randn(size))
        assert self._torch is not None
        return torch.randn(size, generator=self._torch, device=self._torch.device)


def randn(seed: int, shape: Sequence[int], source: str, device: Any, dtype: Any) -> torch.Tensor:
    """The first noise tensor of ``seed`` from ``source`` ("GPU", "CPU" or "NV"), on ``device``."""
    return NoiseGenerator(seed, source, device).randn(shape).to(device=device, dtype=dtype)


FirstHook = Callable[[int, "torch.Tensor"], "torch.Tensor"]  # (image index, seeded draw) -> noise


class NoiseStream:
    """The noise of one batch of images, drawn as A1111 draws it.

    ``first(shape)`` is the starting noise (batch, channels, h, w): image ``i``'s first draw from its
    seed, passed through ``first_hook`` when one is given (variation seeds use it), computed once.
    ``draw(i, shape)`` is image ``i``'s next draw: its first one if it had none yet, then the same
    generator onwards, or the generator of ``seed + eta_noise_seed_delta`` when the delta is set.
    ``markers`` are stand-in generators Maple hands to diffusers' schedulers; ``serving()`` answers
    their ``torch.randn`` calls from this stream (see ``engine.generation.scheduler_hooks``).
    """

    def __init__(self, seeds: Sequence[int], source: str = DEFAULT_SOURCE, device: Any = "cpu",
                 dtype: Any = None, eta_noise_seed_delta: int = 0, first_hook: FirstHook | None = None) -> None:
        import torch

        self.seeds = [int(s) for s in seeds]
        self.source = normalize_source(source)
        self.device = torch.device(device)
        self.dtype = dtype or torch.float32
        self.delta = int(eta_noise_seed_delta or 0)
        self.first_hook = first_hook
        self._generators = [NoiseGenerator(s, self.source, self.device) for s in self.seeds]
        self._firsts: dict[int, torch.Tensor] = {}
        self.markers = [torch.Generator("cpu") for _ in self.seeds]

    def first(self, shape: Sequence[int]) -> torch.Tensor:
        """The batch's starting noise; ``shape`` is (batch, c, h, w) or one image's (c, h, w)."""
        import torch

        per_image = _per_image(shape)
        return torch.stack([self._first_of(i, per_image) for i in range(len(self.seeds))])

    def draw(self, index: int, shape: Sequence[int]) -> torch.Tensor:
        """Image ``index``'s next draw, as a tensor of ``shape`` on the stream's device."""
        size = tuple(int(s) for s in shape)
        if index not in self._firsts:
            return self._first_of(index, _per_image(size)).reshape(size)
        return self._generators[index].randn(size).to(self.device, self.dtype)

    def step_noise(self, shape: Sequence[int]) -> torch.Tensor:
        """One draw for every image, stacked (``shape`` as for ``first``)."""
        import torch

        per_image = _per_image(shape)
        return torch.stack([self.draw(i, per_image) for i in range(len(self.seeds))])

    def _first_of(self, index: int, shape: tuple[int, ...]) -> torch.Tensor:
        if index not in self._firsts:
            noise = self._generators[index].randn(shape).to(self.device, self.dtype)
            if self.first_hook is not None:
                noise = self.first_hook(index, noise).to(self.device, self.dtype)
            self._firsts[index] = noise
            if self.delta:
                self._generators[index] = NoiseGenerator(self.seeds[index] + self.delta, self.source, self.device)
        return self._firsts[index].reshape(shape)

    def serving(self) -> Any:
        """A context in which ``torch.randn(..., generator=m)`` for any of ``markers`` draws from here."""
        return _Serving(self)


def _per_image(shape: Sequence[int]) -> tuple[int, ...]:
    size = tuple(int(s) for s in shape)
    return size[1:] if len(size) == 4 else size


def _shape_of(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[int, ...]:
    if "size" in kwargs:
        return tuple(int(s) for s in kwargs["size"])
    if len(args) == 1 and isinstance(args[0], list | tuple):
        return tuple(int(s) for s in args[0])
    return tuple(int(s) for s in args)


def _serving_class() -> type:
    from torch.overrides import TorchFunctionMode

    class Serving(TorchFunctionMode):
        def __init__(self, stream: NoiseStream) -> None:
            super().__init__()
            self.stream = stream
            self.index = {id(m): i for i, m in enumerate(stream.markers)}

        def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (),
                               kwargs: dict[str, Any] | None = None) -> Any:
            import torch

            kwargs = kwargs or {}
            generator = kwargs.get("generator")
            if func is torch.randn and generator is not None and id(generator) in self.index:
                noise = self.stream.draw(self.index[id(generator)], _shape_of(args, kwargs))
                return noise.to(device=kwargs.get("device") or noise.device,
                                dtype=kwargs.get("dtype") or noise.dtype)
            return func(*args, **kwargs)

    return Serving


_SERVING: list[type] = []


def _Serving(stream: NoiseStream) -> Any:  # noqa: N802 - a class built on first use (torch stays unimported)
    if not _SERVING:
        _SERVING.append(_serving_class())
    return _SERVING[0](stream)
