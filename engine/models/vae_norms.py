"""One set of GroupNorm statistics for every tile of a tiled VAE pass, so tiles match in colour.

A VAE's GroupNorm layers normalise with the mean and variance of the picture they see; a tile sees
only its own part, so tiles decoded alone come out in slightly different tones and the seams
show. Here the VAE first runs over a small copy of the whole picture and each GroupNorm records
its statistics; during the tiled pass every GroupNorm uses those recorded figures instead of its
tile's own, so all tiles are normalised alike, as the whole picture would be.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

Stats = dict[int, tuple[Any, Any]]  # id(GroupNorm) -> (mean, variance), each (batch, groups)


def _group_view(module: Any, x: Any) -> Any:
    return x.float().reshape(x.shape[0], module.num_groups, -1)


def _norms(part: Any) -> list[Any]:
    import torch

    return [m for m in part.modules() if isinstance(m, torch.nn.GroupNorm)]


@contextmanager
def recording(part: Any, stats: Stats) -> Iterator[None]:
    """Within: each GroupNorm of ``part`` stores the statistics of what it normalises."""

    def hook(module: Any, args: Any, output: Any) -> None:
        grouped = _group_view(module, args[0])
        stats[id(module)] = (grouped.mean(-1), grouped.var(-1, unbiased=False))

    handles = [m.register_forward_hook(hook) for m in _norms(part)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


@contextmanager
def using(part: Any, stats: Stats) -> Iterator[None]:
    """Within: each GroupNorm of ``part`` normalises with the recorded statistics."""

    def hook(module: Any, args: Any, output: Any) -> Any:
        recorded = stats.get(id(module))
        if recorded is None:
            return output
        x = args[0]
        mean, var = (t[:, :, None] for t in recorded)
        normal = (_group_view(module, x) - mean) * (var + module.eps).rsqrt()
        normal = normal.reshape(x.shape).to(x.dtype)
        if module.affine:
            shape = (1, -1) + (1,) * (x.dim() - 2)
            normal = normal * module.weight.reshape(shape) + module.bias.reshape(shape)
        return normal

    handles = [m.register_forward_hook(hook) for m in _norms(part)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
