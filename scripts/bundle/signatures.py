"""Authenticode checks of the embeddable Python's binaries with ``osslsigncode verify``.

osslsigncode recomputes each file's Authenticode digest and prints it beside the one the
signature holds, then names the signer. The chain of Python's signatures ends in a Microsoft root
that Debian's CA bundle lacks, so the command's exit status is "failed" even for good files: the
check here rests on the two digests being equal and on the signer's organisation. Python's own
files must be signed by the Python Software Foundation; the Visual C++ runtime DLLs that
python.org ships beside them are signed by Microsoft.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from scripts.bundle.errors import BuildError
from scripts.bundle.tools import require

PSF = "Python Software Foundation"
MICROSOFT = "Microsoft Corporation"
# The only files of the embeddable Python not signed by the PSF: Microsoft's C++ runtime.
MICROSOFT_SIGNED = frozenset({"vcruntime140.dll", "vcruntime140_1.dll"})
PE_SUFFIXES = (".exe", ".dll", ".pyd")

_CURRENT = re.compile(r"^Current message digest\s*:\s*([0-9A-Fa-f]+)", re.M)
_CALCULATED = re.compile(r"^Calculated message digest\s*:\s*([0-9A-Fa-f]+)", re.M)
_SIGNER = re.compile(r"Signer's certificate:.*?Subject:[ \t]*([^\n]+)", re.S)
_ORG = re.compile(r"/O=([^/]+)")


@dataclass(frozen=True)
class Signature:
    """What osslsigncode found in one file."""

    name: str
    digest: str  # the Authenticode digest the signature holds ("" when unsigned)
    digest_matches: bool
    signer: str  # the signer's organisation ("" when unsigned)

    def problem(self) -> str | None:
        """Why this file may not go into the bundle, or None."""
        if not self.digest:
            return f"{self.name} is not signed"
        if not self.digest_matches:
            return f"{self.name} was changed after signing (Authenticode digest mismatch)"
        wanted = MICROSOFT if self.name.lower() in MICROSOFT_SIGNED else PSF
        if self.signer != wanted:
            return f"{self.name} is signed by {self.signer or 'nobody known'}, not {wanted}"
        return None


def parse(name: str, output: str) -> Signature:
    """Read osslsigncode's report on the primary signature of ``name``."""
    current = _CURRENT.search(output)
    calculated = _CALCULATED.search(output)
    signer = _SIGNER.search(output)
    org = _ORG.search(signer.group(1)) if signer else None
    digest = current.group(1).upper() if current else ""
    matches = bool(current and calculated and digest == calculated.group(1).upper())
    return Signature(name, digest, matches, org.group(1).strip() if org else "")


def verify(path: Path) -> Signature:
    tool = require("osslsigncode")
    done = subprocess.run([tool, "verify", "-in", str(path)], capture_output=True, text=True, errors="replace")
    return parse(path.name, done.stdout + done.stderr)


def verify_all(paths: Iterable[Path]) -> dict[str, Signature]:
    """Check every PE file; a BuildError lists each one that may not go in."""
    pe_files = sorted(p for p in paths if p.suffix.lower() in PE_SUFFIXES)
    with ThreadPoolExecutor(max_workers=4) as pool:
        found = list(pool.map(verify, pe_files))
    problems = [p for p in (s.problem() for s in found) if p]
    if problems:
        raise BuildError("The embeddable Python failed its signature check:\n" + "\n".join(problems),
                         "Only Python Software Foundation-signed binaries go into the bundle.")
    return {s.name: s for s in found}
