"""Writing the bundle folder as a zip: sorted entries, one timestamp, the same bytes each time.

The timestamp is ``SOURCE_DATE_EPOCH`` when set, else the checkout's last commit time, else now.
The zip is written beside its final name and renamed when complete.
"""

from __future__ import annotations

import os
import subprocess
import time
import zipfile
from pathlib import Path

ARCHIVE_ATTR = 0x20  # FILE_ATTRIBUTE_ARCHIVE: a plain file, as Windows' own zips mark them


def build_time(checkout: Path) -> float:
    if os.environ.get("SOURCE_DATE_EPOCH", "").isdigit():
        return float(os.environ["SOURCE_DATE_EPOCH"])
    try:
        out = subprocess.run(["git", "-C", str(checkout), "log", "-1", "--format=%ct"],
                             capture_output=True, text=True, timeout=10)
        if out.returncode == 0 and out.stdout.strip().isdigit():
            return float(out.stdout.strip())
    except (OSError, subprocess.TimeoutExpired):
        pass
    return time.time()


def write_zip(folder: Path, target: Path, when: float, level: int = 6) -> Path:
    """Zip ``folder`` (as the archive's top folder) into ``target``."""
    stamp = time.gmtime(max(when, 315532800))[:6]  # zip dates start in 1980
    partial = target.with_name(target.name + ".part")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            name = f"{folder.name}/{path.relative_to(folder).as_posix()}"
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.create_system = 0
            info.external_attr = ARCHIVE_ATTR
            archive.writestr(info, path.read_bytes(), zipfile.ZIP_DEFLATED, level)
    os.replace(partial, target)
    return target
