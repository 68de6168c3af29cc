"""The runtime's start-up steps: libraries imported while the machine check runs, a checkpoint to
load (the demo model when the home has none), and the first model that loads.

Each step is a function of what it needs (the configuration, the registry, the timer), so the
runtime's ``startup`` reads as the sequence it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from engine.cli import EngineConfig

if TYPE_CHECKING:
    from engine.models.registry import ModelRegistry
    from engine.server.timing import StartupTimer
    from installer.home import Home

log = logging.getLogger(__name__)


def import_libraries(config: EngineConfig, timer: StartupTimer) -> EngineConfig:
    """Import torch and diffusers' pipelines (timed) while the machine check fills in ``auto`` values."""
    from concurrent.futures import ThreadPoolExecutor

    from engine.cli import with_machine_defaults

    with ThreadPoolExecutor(1, thread_name_prefix="maple-check") as pool:
        checked = pool.submit(with_machine_defaults, config)  # runs while torch imports
        with timer.phase("import torch"):
            import torch  # noqa: F401
        with timer.phase("import diffusers"):
            from engine.server.quiet import quiet_libraries

            quiet_libraries()  # before the pipelines import: transformers warns while they load
            from diffusers import StableDiffusionPipeline  # noqa: F401  (the pipelines, once)
        return checked.result()


def install_own_model(home: Home) -> Path:
    """Maple's own model in the home: the built-in shapes model, or the noise demo when it was not shipped."""
    from engine.models.builtin import ensure_builtin_model
    from engine.models.demo import ensure_demo_model

    return ensure_builtin_model(home) or ensure_demo_model(home)


def own_model_notice(path: Path) -> str:
    from engine.models.builtin import EXAMPLE_PROMPT, is_builtin_name

    if is_builtin_name(path.name):
        return (f"Maple's built-in model, a small model that draws coloured shapes (try \"{EXAMPLE_PROMPT}\" "
                "at 128x128)")
    return "Maple's demo model, which draws noise"


def ensure_some_checkpoint(home: Home, registry: ModelRegistry, timer: StartupTimer) -> None:
    """Put Maple's own model in the home when the home and the shared folders hold no checkpoint."""
    from engine.models.demo import home_has_checkpoint

    if home_has_checkpoint(home) or any(not e.is_demo for e in registry.checkpoints()):
        return
    with timer.phase("write built-in model"):
        path = install_own_model(home)
        registry.refresh()
    log.info("No checkpoint found: starting with %s.", own_model_notice(path))
    log.info("Put a checkpoint in %s (or run: maple-models pull sd15), then pick it on the page.",
             home.models_dir("checkpoint"))


def candidates(wanted: str, registry: ModelRegistry) -> list[str]:
    """The checkpoints to try in order: the one asked for, then the user's, then Maple's own (the
    built-in shapes model before the noise demo)."""
    entries = registry.checkpoints()
    own = sorted((e for e in entries if e.is_demo), key=lambda e: e.arch == "demo")
    names = [e.name for e in entries if not e.is_demo] + [e.name for e in own]
    return [wanted, *names] if wanted else names


def load_first(names: Sequence[str], select: Callable[[str], None], fallback: Callable[[], None]) -> None:
    """``select`` the first of ``names`` that loads; ``fallback`` when none does. Start-up never
    fails on one bad model."""
    for i, name in enumerate(names):
        try:
            select(name)
            return
        except Exception as exc:  # the start must not fail on one bad model: try the next
            more = ". Loading another model instead." if i + 1 < len(names) else ""
            log.error("Could not load %s: %s%s", name, exc, more)
    fallback()


def load_demo(home: Home, registry: ModelRegistry, select: Callable[[str], None]) -> None:
    """Last resort: no checkpoint in the folders loads, so start with Maple's own model."""
    path = install_own_model(home)
    log.warning("No checkpoint could be loaded: starting with %s.", own_model_notice(path))
    registry.refresh()
    select(path.name)
