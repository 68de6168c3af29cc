"""The command line of the engine installer (see ``__main__``). Runs with the launcher's packages only."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from installer.engine_install import facts, texts, tools
from installer.engine_install.builds import BUILDS_X86, CPU, torch_index_for
from installer.engine_install.choice import (
    DEFAULT_BUILD,
    Choice,
    EngineMachine,
    Gpu,
    Outcome,
    choose,
)
from installer.engine_install.errors import EngineInstallError
from installer.engine_install.location import layout
from installer.engine_install.progress import InstallProgress, human_size, human_time
from installer.engine_install.requirements import ENGINE_REQUIREMENTS, default_constraints

if TYPE_CHECKING:
    from installer.engine_install.install import InstallRequest

log = logging.getLogger(__name__)

VARIANTS = ("auto", "default", "cpu", *(b.variant for b in BUILDS_X86))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m installer.engine_install",
                                description="Install the engine's packages (PyTorch for this machine, diffusers, ...).")
    p.add_argument("--print-index", action="store_true", help="print the PyTorch index for this machine and exit ('' = the default index)")
    p.add_argument("--dry-run", action="store_true", help="show the choice and the plan (with sizes); download nothing")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--index-url", default=None, help="the package index (a mirror); default: settings, else pip's")
    p.add_argument("--torch-index-url", default=None, help="the PyTorch index; {variant} is replaced by cu130, cpu, ...")
    p.add_argument("--proxy", default=None, help="an HTTP(S) proxy; default: settings")
    p.add_argument("--target", default=None, help="the engine-packages folder (default: beside the program)")
    p.add_argument("--home", default=None, help="read the indexes and proxy from this data home's settings")
    p.add_argument("--variant", choices=VARIANTS, default="auto", help="install this build instead of the machine's choice")
    p.add_argument("--yes", action="store_true", help="agree to a build that leaves a GPU unused (CPU on an AMD machine, ...)")
    p.add_argument("--tool", choices=tools.TOOLS, default=None, help="unpack with pip (default) or uv")
    p.add_argument("--constraints", default=None, help="a constraints file (default: constraints.txt beside the program)")
    p.add_argument("--engine-requirement", action="append", default=None, help="replace the engine's requirement list")
    p.add_argument("--machine-json", default=None, help="decide for the machine described in this JSON file")
    p.add_argument("--lang", choices=("en", "zh"), default="en")
    return p


def machine_from_json(path: str) -> EngineMachine:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    gpus = tuple(Gpu(g["name"], g["vendor"], tuple(g["capability"]) if g.get("capability") else None)
                 for g in data.get("gpus", []))
    return EngineMachine(data.get("platform", sys.platform), data.get("arch", "x86_64"), gpus,
                         data.get("driver"), data.get("driver_cuda"))


def decide(args: argparse.Namespace) -> Choice:
    machine = machine_from_json(args.machine_json) if args.machine_json else facts.probe()
    choice = choose(machine)
    if args.variant == "auto":
        return choice
    build = {"default": DEFAULT_BUILD, "cpu": CPU}.get(args.variant) or next(b for b in BUILDS_X86 if b.variant == args.variant)
    outcome = Outcome.GPU if build.is_cuda else Outcome.CPU
    return Choice(outcome, build, "forced", {**choice.params, "build": build.label()})


def settings_view(args: argparse.Namespace) -> tuple[str, str, str]:
    """(package index, PyTorch index setting, proxy): flags first, then the home's settings."""
    package, torch_index, proxy = "", "", ""
    if args.home:
        from installer.home import resolve_home
        from installer.settings import load_settings

        settings = load_settings(resolve_home(args.home).settings_file).settings
        package, torch_index, proxy = settings.package_index, settings.torch_index, settings.proxy
    pick = lambda flag, value: value if flag is None else flag  # noqa: E731
    return pick(args.index_url, package), pick(args.torch_index_url, torch_index), pick(args.proxy, proxy)


def request_for(args: argparse.Namespace, choice: Choice) -> InstallRequest:
    from installer.engine_install.install import InstallRequest

    package, torch_setting, proxy = settings_view(args)
    indexes = tools.Indexes(package, torch_index_for(choice.build, torch_setting) or package, proxy)
    constraints = Path(args.constraints) if args.constraints else default_constraints()
    requirements = tuple(args.engine_requirement) if args.engine_requirement else ENGINE_REQUIREMENTS
    return InstallRequest(choice, layout(args.target), indexes, requirements, constraints,
                          args.tool or tools.chosen_tool(), consent=args.yes)


class Printer:
    """Progress on stderr, one line about every half second."""

    def __init__(self) -> None:
        self.last = 0.0
        self.phase = ""

    def __call__(self, p: InstallProgress) -> None:
        import time

        now = time.monotonic()
        if p.phase == self.phase and now - self.last < 0.5:
            return
        self.last, self.phase = now, p.phase
        if p.phase == "downloading" and p.total:
            line = (f"downloading {human_size(p.done)} of {human_size(p.total)}, {human_size(p.speed_bps)}/s, "
                    f"{human_time(p.eta_s)} left  {p.detail}")
        else:
            line = p.phase + (f": {p.detail}" if p.detail else "")
        print(f"[maple] {line}", file=sys.stderr, flush=True)


def _choice_dict(choice: Choice, request: InstallRequest, lang: str) -> dict[str, Any]:
    return {"outcome": choice.outcome.value, "variant": choice.build.variant, "build": choice.build.label(),
            "reason": choice.key, "text": texts.text(choice.key, lang, choice.params), "slow": choice.slow,
            "needs_consent": choice.needs_consent, "torch": choice.torch_requirement,
            "torchvision": choice.torchvision_requirement, "torch_index": request.indexes.torch,
            "package_index": request.indexes.package, "target": str(request.where.root)}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    choice = decide(args)
    if args.print_index:
        return _print_index(args, choice)
    from installer.engine_install.install import install_engine, plan_for

    request = request_for(args, choice)
    out: dict[str, Any] = {"choice": _choice_dict(choice, request, args.lang)}
    if not args.json:
        print(texts.text(choice.key, args.lang, choice.params))
    try:
        if args.dry_run:
            plan = plan_for(request)
            out["plan"] = {"bytes": plan.total_bytes, "wheels": [asdict(w) for w in plan.wheels]}
            _say(args, f"{len(plan.wheels)} packages, {human_size(plan.total_bytes)} to download.")
        elif choice.needs_consent and not args.yes:
            out["error"] = {"code": "needs-consent", "message": "pass --yes to install this build"}
            _emit(args, out)
            return 3
        else:
            result = install_engine(request, Printer(), threading.Event())
            out["installed"], out["notes"] = result.manifest, list(result.notes)
            for note in result.notes:
                _say(args, note)
            _say(args, f"Installed torch {result.manifest['torch']} in {request.where.live}.")
    except EngineInstallError as exc:
        out["error"] = {"code": exc.code, "message": exc.message, "hint": exc.hint}
        _emit(args, out)
        if not args.json:
            print(f"error: {exc.message}\n  {exc.hint}", file=sys.stderr)
        return 1
    _emit(args, out)
    return 0


def _print_index(args: argparse.Namespace, choice: Choice) -> int:
    _package, torch_setting, _proxy = settings_view(args)
    if choice.outcome is Outcome.GPU:
        print(torch_index_for(choice.build, torch_setting))
        return 0
    if choice.outcome is Outcome.BLOCKED:
        print(f"[maple] {texts.text(choice.key, args.lang, choice.params)}", file=sys.stderr)
    print("")  # the default index: what the set-up installs today on a machine without a usable NVIDIA card
    return 0


def _say(args: argparse.Namespace, text: str) -> None:
    if not args.json:
        print(text)


def _emit(args: argparse.Namespace, out: dict[str, Any]) -> None:
    if args.json:
        print(json.dumps(out, indent=2, ensure_ascii=False, default=str))
