"""``maple-models``: list, download, verify and remove models from a terminal.

    maple-models [--home DIR] list [--kind KIND] [--json] [--hash]
    maple-models catalog [--json]
    maple-models pull ID|URL [--source NAME] [--sha256 HEX] [--kind KIND]
    maple-models verify [NAME | --all]
    maple-models rm NAME
    maple-models add-folder DIR

Exit status: 0 done, 1 an error (printed with what to do), 2 a usage error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence

from installer.cli.models_commands import (
    Context,
    cmd_add_folder,
    cmd_catalog,
    cmd_list,
    cmd_rm,
    cmd_verify,
)
from installer.errors import MapleError

log = logging.getLogger(__name__)

KINDS = ("checkpoint", "vae", "lora", "taesd", "embedding", "upscaler", "controlnet")
SOURCES = ("huggingface", "hf-mirror", "civitai", "modelscope", "github", "url")


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home", default=argparse.SUPPRESS,
                        help="the data home (default: MAPLE_HOME, a portable folder, or the user data folder)")
    common.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log details")
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(prog="maple-models", parents=[common],
                                     description="Maple's model manager: list, download, verify and remove models.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("list", parents=[common], help="list the models Maple can use, and broken files")
    p.add_argument("--kind", choices=KINDS)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--hash", action="store_true", help="compute missing hashes first (with progress)")
    p = sub.add_parser("catalog", parents=[common], help="show the models Maple can download")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p = sub.add_parser("pull", parents=[common], help="download a catalog model or a model link")
    p.add_argument("target", metavar="ID|URL", help="a catalog id (see `catalog`) or a model link")
    p.add_argument("--source", choices=SOURCES, help="download only from this source")
    p.add_argument("--sha256", help="the expected sha256 (64 hex), if you know it")
    p.add_argument("--kind", choices=KINDS, help="the model kind, when the link does not tell")
    p = sub.add_parser("verify", parents=[common], help="re-hash models and compare with the catalog")
    p.add_argument("name", nargs="?", help="a model name, file name or short hash")
    p.add_argument("--all", action="store_true", help="verify every model")
    p = sub.add_parser("rm", parents=[common], help="send a model to the trash")
    p.add_argument("name", help="a model name, file name or short hash")
    p = sub.add_parser("add-folder", parents=[common], help="use the models of another folder in place")
    p.add_argument("folder", metavar="DIR", help="an A1111 / 秋叶 / ComfyUI folder, or a folder of model files")
    return parser


def _run(args: argparse.Namespace, ctx: Context) -> int:
    if args.command == "list":
        return cmd_list(ctx, args.kind, args.json, args.hash)
    if args.command == "catalog":
        return cmd_catalog(ctx, args.json)
    if args.command == "pull":
        from installer.cli.models_pull import cmd_pull

        return cmd_pull(ctx, args.target, args.source, args.sha256, args.kind)
    if args.command == "verify":
        return cmd_verify(ctx, args.name, args.all)
    if args.command == "rm":
        return cmd_rm(ctx, args.name)
    return cmd_add_folder(ctx, args.folder)


def report_error(exc: MapleError, as_json: bool = False) -> None:
    if as_json:
        print(json.dumps({"error": exc.code, "message": exc.message, "hint": exc.hint}, ensure_ascii=False))
        return
    print(f"maple-models: error: {exc.message}", file=sys.stderr)
    if exc.hint:
        print(f"  what to do: {exc.hint}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if args.command == "verify" and not (args.name or args.all):
        build_parser().error("verify needs a model NAME or --all")
    try:
        return _run(args, Context.open(getattr(args, "home", None)))
    except MapleError as exc:
        report_error(exc, getattr(args, "json", False))
        return 1
    except BrokenPipeError:  # e.g. `maple-models catalog | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("\nmaple-models: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
