"""How much time ``maple-doctor --json`` adds to a bare Python start.

Both are run the same number of times, interleaved, in this one run; the medians are compared.
Aim: the check adds well under half a second.

    .venv/bin/python tests/bench/bench_doctor.py [repetitions]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DOCTOR = Path(sys.executable).with_name("maple-doctor.exe" if os.name == "nt" else "maple-doctor")


def wall(argv: list[str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(argv, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 1):
        raise SystemExit(f"{argv[0]} failed: {result.stderr}")
    return elapsed


def main() -> None:
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    with tempfile.TemporaryDirectory() as home:
        doctor = [str(DOCTOR), "--json", "--home", home]
        bare = [sys.executable, "-c", "pass"]
        json.loads(subprocess.run(doctor, capture_output=True, text=True).stdout)  # warm the file cache
        wall(bare)
        bare_times, doctor_times = [], []
        for _ in range(reps):
            bare_times.append(wall(bare))
            doctor_times.append(wall(doctor))
    b, d = statistics.median(bare_times), statistics.median(doctor_times)
    print(f"repetitions: {reps} each, interleaved")
    print(f"python -c pass        median {b:.3f} s  (min {min(bare_times):.3f}, max {max(bare_times):.3f})")
    print(f"maple-doctor --json   median {d:.3f} s  (min {min(doctor_times):.3f}, max {max(doctor_times):.3f})")
    print(f"ratio {d / b:.1f}x, added {d - b:.3f} s (aim: well under 0.5 s)")


if __name__ == "__main__":
    main()
