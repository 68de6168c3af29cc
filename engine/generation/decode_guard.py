"""Interrupt and skip reach into the VAE decode: at a large size it takes longer than a step.

While a decode runs, each block of the VAE's decoder first asks the job's control whether the
user has interrupted or skipped since the decode began; if so the decode stops there
(``DecodeStopped``). A decode that starts after an interrupt (the partial image A1111 returns)
runs to its end. The hooks are put on a VAE once and do nothing outside a guarded decode.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.jobs import JobControl

BLOCKS = ("ResnetBlock2D",)  # the decoder's unit of work: a dozen or so per decode


class DecodeStopped(Exception):
    """The user interrupted or skipped while the VAE was decoding."""


def _stopping(control: JobControl) -> bool:
    return control.should_interrupt() or control.should_skip()


class _Guard:
    """Hooked once before each block of one VAE's decoder; asks ``control`` while one is set."""

    def __init__(self) -> None:
        self.control: JobControl | None = None

    def __call__(self, module: Any, args: Any) -> None:
        control = self.control
        if control is not None and _stopping(control):
            raise DecodeStopped


_GUARDS: weakref.WeakKeyDictionary[Any, _Guard] = weakref.WeakKeyDictionary()


def _guard(vae: Any, decoder: Any) -> _Guard:
    guard = _GUARDS.get(vae)
    if guard is None:
        guard = _GUARDS[vae] = _Guard()
        for module in decoder.modules():
            if type(module).__name__ in BLOCKS:
                module.register_forward_pre_hook(guard)
    return guard


@contextmanager
def stoppable(vae: Any, control: JobControl | None) -> Iterator[None]:
    """Within this block, ``vae``'s decoder stops at its next block once ``control`` says so."""
    decoder = getattr(vae, "decoder", None)
    if control is None or decoder is None or _stopping(control):
        yield
        return
    guard = _guard(vae, decoder)
    guard.control = control
    try:
        yield
    finally:
        guard.control = None
