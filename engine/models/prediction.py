"""Which kind of output a model predicts, and its noise schedule when that is not the usual one.

SD2.x comes as v-prediction (768 models) and epsilon (512 "base" models) with the same tensors:
as A1111 does, run the UNet once on a fixed input: a v-model's output at the last timestep is far
below the input, an epsilon model's is not. SDXL v-prediction models (NoobAI-XL V-Pred ...) carry
marker tensors instead: ``v_pred``, and ``ztsnr`` for a zero-terminal-SNR schedule, which the
scheduler config then says (``prediction_type``, ``rescale_betas_zero_snr``), as A1111 reads them.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def predicts_v(unet: Any) -> bool:
    """A1111's test: mean(unet(x=0.5, t=999, context=0.5) - x) < -1 means v-prediction."""
    import torch

    param = next(unet.parameters())
    device, dtype = param.device, param.dtype
    width = int(unet.config.cross_attention_dim)
    with torch.no_grad():
        x = torch.full((1, unet.config.in_channels, 8, 8), 0.5, device=device, dtype=dtype)
        cond = torch.full((1, 2, width), 0.5, device=device, dtype=dtype)
        t = torch.tensor([999], device=device)
        out = unet(x, t, encoder_hidden_states=cond, return_dict=False)[0]
        return bool((out.float() - x.float()).mean().item() < -1)


def set_prediction_type(pipe: Any) -> str:
    """Choose epsilon or v_prediction for an SD2 pipeline; returns the choice."""
    kind = "v_prediction" if predicts_v(pipe.unet) else "epsilon"
    if pipe.scheduler.config.get("prediction_type") != kind:
        pipe.scheduler = pipe.scheduler.__class__.from_config(pipe.scheduler.config, prediction_type=kind)
    log.info("SD2 model predicts %s", kind)
    return kind


def apply_markers(pipe: Any, v_prediction: bool, zero_snr: bool) -> None:
    """Set the scheduler config from a checkpoint's ``v_pred`` / ``ztsnr`` markers."""
    changes: dict[str, Any] = {}
    if v_prediction:
        changes["prediction_type"] = "v_prediction"
    if zero_snr:
        changes["rescale_betas_zero_snr"] = True
    if changes:
        pipe.scheduler = pipe.scheduler.__class__.from_config({**pipe.scheduler.config, **changes})
        pipe.scheduler.register_to_config(**changes)  # kept even by classes without the option
        log.info("The checkpoint's markers ask for %s", ", ".join(f"{k}={v}" for k, v in changes.items()))
