"""LyCORIS LoHa and LoKr files, applied like LoRAs: by weight, several at once, undone exactly.

A LoHa module stores two low-rank pairs whose products are multiplied element by element
(``(w1a @ w1b) * (w2a @ w2b)``); a LoKr module stores two factors whose Kronecker product is the
change (each factor whole or as a low-rank pair). Both scale by ``alpha / rank`` as LoRAs do, times
the prompt's weight. PEFT adapters cannot hold these, so the change is added to the layer's weight
in place, as A1111 does, after the original weight is kept on the CPU; asking for another set of
files puts the originals back first. Module names are kohya's (``lora_unet_...``, ``lora_te_...``,
UNet blocks in diffusers or in LDM naming).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.models.errors import LoraError
from engine.models.lora_keys import KOHYA_UNET, LDM_MARKERS, _remap_module, ldm_to_diffusers_map

log = logging.getLogger(__name__)

MARKERS = (".hada_w1_a", ".lokr_w1")
PREFIXES = {"lora_unet_": "unet", "lora_te_": "text_encoder", "lora_te1_": "text_encoder",
            "lora_te2_": "text_encoder_2"}


def is_lycoris(state: Mapping[str, Any]) -> bool:
    """True for LoHa / LoKr files (their modules have ``hada_*`` or ``lokr_*`` tensors)."""
    return any(marker in key for key in state for marker in MARKERS)


def module_groups(state: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{kohya module name: {tensor name: tensor}}`` for every module of a file."""
    groups: dict[str, dict[str, Any]] = {}
    for key, value in state.items():
        module, _, tensor = key.partition(".")
        groups.setdefault(module, {})[tensor] = value
    return groups


def delta(tensors: Mapping[str, Any], shape: Sequence[int]) -> Any:
    """The change one module makes to a weight of ``shape``, before the prompt's weight."""
    if "hada_w1_a" in tensors:
        change, rank = _loha(tensors), tensors["hada_w1_b"].shape[0]
    elif "lokr_w1" in tensors or "lokr_w1_a" in tensors:
        change, rank = _lokr(tensors)
    else:
        raise LoraError(f"a LyCORIS module with tensors {sorted(tensors)} is neither LoHa nor LoKr")
    alpha = tensors.get("alpha")
    scale = float(alpha) / rank if alpha is not None and rank else 1.0
    return change.reshape(tuple(shape)) * scale


def _loha(t: Mapping[str, Any]) -> Any:
    first = t["hada_w1_a"].float() @ t["hada_w1_b"].float().flatten(1)
    second = t["hada_w2_a"].float() @ t["hada_w2_b"].float().flatten(1)
    return first * second


def _factor(t: Mapping[str, Any], name: str) -> tuple[Any, int | None]:
    if name in t:
        return t[name].float(), None
    a, b = t[f"{name}_a"].float(), t[f"{name}_b"].float()
    return a @ b.flatten(1), int(b.shape[0])


def _lokr(t: Mapping[str, Any]) -> tuple[Any, int | None]:
    import torch

    w1, rank1 = _factor(t, "lokr_w1")
    w2, rank2 = _factor(t, "lokr_w2")
    rank = rank1 or rank2
    if w2.dim() > 2 or w1.dim() > 2:  # conv: Kronecker product over the channel axes, kernel kept
        w2 = w2 if w2.dim() == 4 else w2.reshape(*w2.shape, 1, 1)
        return torch.kron(w1.reshape(*w1.shape, 1, 1), w2), rank
    return torch.kron(w1, w2), rank


@dataclass
class Patcher:
    """The LyCORIS changes in force on one model, and the original weights they replaced."""

    applied: tuple[tuple[str, float], ...] = ()
    originals: dict[str, Any] = field(default_factory=dict)  # "component.module.path" -> CPU weight

    def apply(self, pipe: Any, files: Sequence[tuple[str, Mapping[str, Any], float]]) -> None:
        """Make exactly ``files`` ((id, state, weight), ...) the changes in force."""
        wanted = tuple((name, weight) for name, _, weight in files if weight != 0)
        if wanted == self.applied:
            return
        self.restore(pipe)
        for name, state, weight in files:
            if weight != 0:
                self._add(pipe, name, state, weight)
        self.applied = wanted

    def restore(self, pipe: Any) -> None:
        """Put every changed weight back as it was."""
        import torch

        modules = _all_modules(pipe)
        with torch.no_grad():
            for path, original in self.originals.items():
                weight = modules[path].weight
                weight.copy_(original.to(weight.device, weight.dtype))
        self.originals.clear()
        self.applied = ()

    def _add(self, pipe: Any, name: str, state: Mapping[str, Any], weight: float) -> None:
        import torch

        targets = _targets(pipe)
        unmatched = []
        with torch.no_grad():
            for module_name, tensors in module_groups(state).items():
                found = targets.get(module_name)
                if found is None:
                    unmatched.append(module_name)
                    continue
                path, module = found
                if path not in self.originals:
                    self.originals[path] = module.weight.detach().to("cpu", copy=True)
                change = delta(tensors, module.weight.shape) * weight
                module.weight.add_(change.to(module.weight.device, module.weight.dtype))
        if unmatched:
            log.warning("LyCORIS %s: %d of its modules fit no layer of this model (%s ...)", name,
                        len(unmatched), unmatched[0])
        if len(unmatched) == len(module_groups(state)):
            raise LoraError(f"LoRA {name} does not fit this model: none of its LyCORIS modules matches a layer")


def _all_modules(pipe: Any) -> dict[str, Any]:
    out = {}
    for component in ("unet", "text_encoder", "text_encoder_2"):
        model = getattr(pipe, component, None)
        if model is not None:
            out.update({f"{component}.{path}": module for path, module in model.named_modules()})
    return out


def _targets(pipe: Any) -> dict[str, tuple[str, Any]]:
    """kohya module name -> (component.path, module) for every layer with a weight."""
    table = ldm_to_diffusers_map(pipe.unet.config)
    out: dict[str, tuple[str, Any]] = {}
    for prefix, component in PREFIXES.items():
        model = getattr(pipe, component, None)
        if model is None:
            continue
        for path, module in model.named_modules():
            if not hasattr(module, "weight") or module.weight is None:
                continue
            flat = path.replace(".", "_")
            for name in _kohya_names(prefix, flat):
                out.setdefault(name, (f"{component}.{path}", module))
    return _LdmAware(out, table)


def _kohya_names(prefix: str, flat: str) -> list[str]:
    names = [prefix + flat]
    if prefix != "lora_unet_" and not flat.startswith("text_model_"):
        names.append(prefix + "text_model_" + flat)  # newer transformers drop the text_model level
    return names


class _LdmAware(dict[str, tuple[str, Any]]):
    """Layers by kohya name that also answer the LDM block names some files use for the UNet."""

    def __init__(self, base: dict[str, tuple[str, Any]], table: list[tuple[str, str]]) -> None:
        super().__init__(base)
        self.table = table

    def get(self, key: str, default: Any = None) -> Any:
        if key in self:
            return self[key]
        rest = key[len(KOHYA_UNET):] if key.startswith(KOHYA_UNET) else ""
        if rest.startswith(LDM_MARKERS):
            return super().get(KOHYA_UNET + _remap_module(rest, self.table), default)
        return default
