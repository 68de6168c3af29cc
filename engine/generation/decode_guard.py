"""Interrupt and skip reach into the VAE decode: at a large size it takes longer than a step.

While a decode runs, each block of the VAE's decoder first asks the job's control whether the
user has interrupted or skipped since the decode began; if so the decode stops there
(``DecodeStopped``). A decode that starts after an interrupt (the partial image A1111 returns)
runs to its end.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.jobs import JobControl

BLOCKS = ("ResnetBlock2D", "Attention", "UpDecoderBlock2D", "UNetMidBlock2D")


class DecodeStopped(Exception):
    """The user interrupted or skipped while the VAE was decoding."""


def _stopping(control: JobControl) -> bool:
    return control.should_interrupt() or control.should_skip()


@contextmanager
def stoppable(vae: Any, control: JobControl | None) -> Iterator[None]:
    """Within this block, ``vae``'s decoder stops at its next block once ``control`` says so."""
    decoder = getattr(vae, "decoder", None)
    if control is None or decoder is None or _stopping(control):
        yield
        return

    def check(module: Any, args: Any) -> None:
        if _stopping(control):
            raise DecodeStopped

    handles = [m.register_forward_pre_hook(check) for m in decoder.modules() if type(m).__name__ in BLOCKS]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
