"""``/sdapi/v1/memory`` in A1111's shape: RAM from psutil, CUDA from torch when it is in use."""

from __future__ import annotations

import sys
from typing import Any


def ram() -> dict[str, int]:
    import psutil

    vm = psutil.virtual_memory()
    return {"free": int(vm.available), "used": int(vm.total - vm.available), "total": int(vm.total)}


def cuda() -> dict[str, Any]:
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return {"error": "unavailable"}
    free, total = torch.cuda.mem_get_info()
    stats = torch.cuda.memory_stats()

    def trio(key: str) -> dict[str, int]:
        return {
            "current": int(stats.get(f"{key}.all.current", 0)),
            "peak": int(stats.get(f"{key}.all.peak", 0)),
        }

    return {
        "system": {"free": int(free), "used": int(total - free), "total": int(total)},
        "active": trio("active_bytes"),
        "allocated": trio("allocated_bytes"),
        "reserved": trio("reserved_bytes"),
        "inactive": trio("inactive_split_bytes"),
        "events": {"retries": int(stats.get("num_alloc_retries", 0)), "oom": int(stats.get("num_ooms", 0))},
    }


def memory() -> dict[str, Any]:
    return {"ram": ram(), "cuda": cuda()}
