"""What to do when no download source could be reached, said for who is reading it.

The launcher's user changes the proxy and the download source in the settings page; a user of
``maple-models`` gets the flag and the environment variable instead. The China mirror is suggested
only when it was not among the sources just tried, and only for a file Hugging Face serves.
"""

from __future__ import annotations

from collections.abc import Sequence


def _mirror_helps(tried: Sequence[str]) -> bool:
    return "huggingface" in tried and "hf-mirror" not in tried


def unreachable_hint(tried: Sequence[str], command: str | None = None) -> str:
    """The hint for an unreachable download; ``command``: the CLI command that was run (None: the launcher)."""
    if command is None:
        text = "Maple could not reach the download server. Check the network connection and the proxy in the settings"
        if _mirror_helps(tried):
            text += "; in mainland China, choose the China mirror (hf-mirror) as the download source in the settings"
        return text + "."
    text = 'Check the network connection (behind a proxy: set HTTPS_PROXY, or "proxy" in settings.json)'
    if _mirror_helps(tried):
        text += f"; in mainland China, try the China mirror: {command} --source hf-mirror"
    return text + "."
