"""Build the CLIP BPE tokenizer files Maple ships, byte-exact, from the open-clip-torch wheel.

Usage:
    pip download --no-deps open-clip-torch==3.3.0 -d /tmp/oc
    python scripts/build_tokenizer.py /tmp/oc/open_clip_torch-3.3.0-py3-none-any.whl
    python scripts/build_tokenizer.py --check      # verify the files in assets/ only

The wheel carries ``open_clip/bpe_simple_vocab_16e6.txt.gz`` (OpenAI's CLIP vocabulary, MIT).
From it: the merges are lines 1..48894 after the header line; the vocabulary is the 256
byte-to-unicode characters, the same with ``</w>``, each merge joined, then the two special
tokens. The files written equal the ones in the public CLIP-L repositories byte for byte; the
SDXL bigG ``vocab.json`` differs only in JSON separators and is checked here too (the engine
reads the same vocabulary from the one stored copy).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
import zipfile
from pathlib import Path

OUT_DIR = Path(__file__).resolve().parent.parent / "assets" / "configs" / "clip-bpe"
BPE_MEMBER = "open_clip/bpe_simple_vocab_16e6.txt.gz"
N_MERGES = 49152 - 256 - 2  # 48894
EXPECTED = {
    "merges.txt": (524_619, "9fd691f7c8039210e0fced15865466c65820d09b63988b0174bfe25de299051a"),
    "vocab.json": (961_143, "3f0c4f7d2086b61b38487075278ea9ed04edb53a03cbb045b86c27190fa8fb69"),
    "vocab-bigG.json": (862_328, "5047b556ce86ccaf6aa22b3ffccfc52d391ea4accdab9c2f2407da5b742d4363"),
}


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's reversible map from bytes to printable unicode characters."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    codes = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            codes.append(256 + extra)
            extra += 1
    return dict(zip(printable, [chr(c) for c in codes], strict=True))


def read_bpe(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        text = gzip.decompress(zf.read(BPE_MEMBER)).decode("utf-8")
    return text.split("\n")[1 : N_MERGES + 1]


def build(merges: list[str]) -> dict[str, bytes]:
    chars = list(bytes_to_unicode().values())
    tokens = chars + [c + "</w>" for c in chars]
    tokens += ["".join(m.split()) for m in merges]
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    vocab = {tok: i for i, tok in enumerate(tokens)}
    return {
        "merges.txt": ("#version: 0.2\n" + "\n".join(merges) + "\n").encode("utf-8"),
        "vocab.json": json.dumps(vocab, ensure_ascii=False).encode("utf-8"),
        "vocab-bigG.json": json.dumps(vocab, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
    }


def check(name: str, data: bytes) -> list[str]:
    size, sha = EXPECTED[name]
    got = hashlib.sha256(data).hexdigest()
    if len(data) != size or got != sha:
        return [f"{name}: {len(data)} bytes sha256 {got}, expected {size} bytes sha256 {sha}"]
    return []


def check_stored() -> list[str]:
    errors: list[str] = []
    for name in ("merges.txt", "vocab.json"):
        errors += check(name, (OUT_DIR / name).read_bytes())
    vocab = json.loads((OUT_DIR / "vocab.json").read_text(encoding="utf-8"))
    big = json.dumps(vocab, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return errors + check("vocab-bigG.json", big)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", nargs="?", type=Path, help="open_clip_torch-3.3.0 wheel")
    parser.add_argument("--check", action="store_true", help="only verify the stored files")
    args = parser.parse_args(argv)
    if not args.check:
        if args.wheel is None:
            parser.error("give the wheel's path, or --check")
        files = build(read_bpe(args.wheel))
        errors = [e for name, data in files.items() for e in check(name, data)]
        if errors:
            print("\n".join(errors), file=sys.stderr)
            return 1
        OUT_DIR.mkdir(parents=True, exist_ok=True)
        for name in ("merges.txt", "vocab.json"):
            (OUT_DIR / name).write_bytes(files[name])
    errors = check_stored()
    print("\n".join(errors) if errors else f"tokenizer files in {OUT_DIR} match the expected sha256")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
