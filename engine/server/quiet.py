"""A quiet console: Maple's own lines plus real warnings and errors, nothing from the libraries' chatter.

transformers and diffusers log advice (torchvision fallbacks, "modules ... kept in float32") and
draw progress bars ("Loading pipeline components") while a model loads. The engine process turns
both off, whatever environment it inherited; real errors still reach the console and the log.
"""

from __future__ import annotations

import logging
import os

QUIET_ENV = {
    "HF_HUB_OFFLINE": "1",  # nothing is ever downloaded at run time
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "DIFFUSERS_VERBOSITY": "error",
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}

# Loggers whose INFO lines are not Maple's (uvicorn's "Started server process", "Shutting down"...).
NOISY_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "httpx", "PIL", "urllib3",
                 "installer.machine", "accelerate", "peft")


def quiet_environment() -> None:
    """Set before torch/transformers/diffusers are imported (in this process only)."""
    os.environ.update(QUIET_ENV)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def quiet_libraries() -> None:
    """After ``import transformers``/``diffusers`` begins: errors only, no progress bars."""
    import huggingface_hub.utils
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    for lib in (transformers_logging, diffusers_logging):
        lib.set_verbosity_error()
        lib.disable_progress_bar()
    huggingface_hub.utils.disable_progress_bars()
