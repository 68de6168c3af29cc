"""Build Maple's Windows bundle, ``dist/Maple-<version>-win64.zip``, on this Linux machine.

    .venv/bin/python scripts/build_bundle.py [--dist DIR] [--cache DIR] [--keep DIR]

Needs pip (registry access for the first build), osslsigncode and MinGW-w64
(``bash scripts/system-packages.sh`` installs them on Debian). Downloads are cached (default
``MAPLE_BUNDLE_CACHE``, else ``~/.cache/maple/bundle``), so a second build works offline.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Build dist/Maple-<version>-win64.zip")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="where the zip goes")
    parser.add_argument("--cache", type=Path, default=None,
                        help="downloads kept between builds (default: MAPLE_BUNDLE_CACHE or ~/.cache/maple/bundle)")
    parser.add_argument("--keep", type=Path, help="also leave the unpacked bundle folder here")
    parser.add_argument("--level", type=int, default=6, choices=range(0, 10), metavar="0-9",
                        help="zip compression level (default 6)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if sys.version_info < (3, 11):
        print("error: building the bundle needs Python 3.11 or newer (Maple's .venv)", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="[bundle] %(message)s")
    sys.path.insert(0, str(ROOT))
    from installer.errors import MapleError
    from scripts.bundle.build import Inputs, build, default_cache

    cache = args.cache.absolute() if args.cache else default_cache()
    inputs = Inputs(ROOT, args.dist.absolute(), cache, args.keep.absolute() if args.keep else None, args.level)
    try:
        result = build(inputs)
    except MapleError as exc:
        print(f"error: {exc.message}\n{exc.hint}", file=sys.stderr)
        return 1
    print(f"{result.zip_path}  {result.zip_size / 1e6:.1f} MB, {len(result.manifest.files)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
