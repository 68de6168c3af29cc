"""The home page's engine install: what will be installed and how big, then progress, cancel, resume.

Shown when the engine's packages are not there (a fresh bundle). The choice comes from the
machine check (:mod:`installer.engine_install.choice`); the plan (and so the size) is worked out
in a worker as soon as the check is in; the install itself is
:func:`installer.engine_install.install.install_engine` in a worker. Cancelling keeps every
byte downloaded, so "Install the engine" again resumes.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QWidget

from installer.engine_install import location, texts, tools
from installer.engine_install.builds import torch_index_for
from installer.engine_install.choice import Choice, choose
from installer.engine_install.facts import from_facts
from installer.engine_install.progress import InstallProgress, human_size, human_time
from installer.engine_install.requirements import ENGINE_REQUIREMENTS, default_constraints
from launcher import workers
from launcher.context import AppContext
from launcher.i18n import tr
from launcher.pages.common import button, card, muted, named, row


def engine_missing(where: location.Layout | None = None) -> bool:
    return not location.engine_available(where)


class EnginePanel(QWidget):
    installed = Signal(object)  # the manifest, once the new engine is in place

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.where = location.layout()
        self.requirements: tuple[str, ...] = ENGINE_REQUIREMENTS
        self.choice: Choice | None = None
        self.plan: Any = None
        self.task: workers.Task | None = None
        self.frame, layout = card("warning")
        outer = row(self.frame, stretch=False)
        outer.setContentsMargins(0, 0, 0, 0)
        self.setLayout(outer)
        self.title = named(QLabel(tr("The generation engine is not installed yet")), "cardTitle")
        self.what = muted(tr("Checking this machine..."))
        self.size_label = muted()
        self.slow = muted()
        self.slow.hide()
        self.bar = QProgressBar()
        self.bar.hide()
        self.status = muted()
        self.cancel_button = button(tr("Cancel"), "stop", self.cancel)
        self.cancel_button.hide()
        for widget in (self.title, self.what, self.size_label, self.slow, self.bar, self.status):
            layout.addWidget(widget)
        layout.addLayout(row(self.cancel_button))

    @property
    def busy(self) -> bool:
        return self.task is not None

    # -- what and how big ---------------------------------------------------------------------
    def show_report(self, report: Any) -> None:
        self.choice = choose(from_facts(report.facts))
        choice = self.choice
        self.what.setText(texts.text(choice.key, self.ctx.lang, choice.params))
        self.slow.setText(tr("Without a GPU Maple can use, generating runs on the CPU: expect minutes per image."))
        self.slow.setVisible(choice.slow)
        self.size_label.setText(tr("Working out the download size..."))
        request = self.request()
        workers.submit(lambda _p, cancel: _plan(request, cancel), on_done=self._planned,
                       on_error=self._plan_failed, name="engine-plan")

    def _planned(self, plan: Any) -> None:
        self.plan = plan
        text = tr("Installs PyTorch {torch} ({build}), diffusers and {n} other packages: {size} to download.")
        assert self.choice is not None
        self.size_label.setText(text.replace("{torch}", self.choice.torch_requirement.split("==")[1])
                          .replace("{build}", self.choice.build.label()).replace("{n}", str(max(len(plan.wheels) - 3, 0)))
                          .replace("{size}", human_size(plan.total_bytes)))

    def _plan_failed(self, exc: Exception) -> None:
        self.size_label.setText(_error_text(exc))

    def request(self) -> Any:
        assert self.choice is not None
        return build_request(self.ctx, self.choice, self.where, self.requirements)

    # -- installing ---------------------------------------------------------------------------
    def start(self) -> None:
        """The start button's click: install (or resume). The click is the user's agreement."""
        if self.busy or self.choice is None:
            return
        request = self.request()
        self.bar.setValue(0)
        self.bar.show()
        self.cancel_button.show()
        self.status.setText(tr("Starting the install..."))
        self.task = workers.submit(lambda progress, cancel: _install(request, progress, cancel),
                                   on_progress=self._progress, on_done=self._done, on_error=self._failed,
                                   name="engine-install")

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.status.setText(tr("Cancelling..."))

    def _progress(self, p: InstallProgress) -> None:
        if p.phase == "downloading" and p.total:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * p.done / p.total))
            self.status.setText(tr("Downloading {done} of {total} · {speed}/s · {eta} left")
                                .replace("{done}", human_size(p.done)).replace("{total}", human_size(p.total))
                                .replace("{speed}", human_size(p.speed_bps)).replace("{eta}", human_time(p.eta_s)))
        else:
            self.bar.setRange(0, 0 if p.phase in ("installing", "verifying", "planning") else 1000)
            self.status.setText(_phase_text(p.phase))

    def _done(self, result: Any) -> None:
        self.task = None
        self.bar.hide()
        self.cancel_button.hide()
        notes = " ".join(getattr(result, "notes", ()))
        self.status.setText((notes + " " if notes else "") + tr("The engine is installed and was checked on this machine."))
        self.installed.emit(result.manifest)

    def _failed(self, exc: Exception) -> None:
        self.task = None
        self.bar.hide()
        self.cancel_button.hide()
        self.status.setText(_error_text(exc))
        self.installed.emit(None)

    def shutdown(self) -> None:
        if self.task is not None:
            self.task.cancel()


def build_request(ctx: AppContext, choice: Choice, where: location.Layout,
                  requirements: tuple[str, ...] = ENGINE_REQUIREMENTS) -> Any:
    """The install as the settings (indexes, proxy) and the machine check (long paths) say."""
    from installer.engine_install.install import InstallRequest

    settings = ctx.settings
    lp = getattr(getattr(ctx.report, "facts", None), "long_paths", None)
    indexes = tools.Indexes(settings.package_index, torch_index_for(choice.build, settings.torch_index)
                            or settings.package_index, settings.proxy)
    return InstallRequest(choice, where, indexes, requirements, default_constraints(), tools.chosen_tool(),
                          consent=True, platform=sys.platform, long_paths=getattr(lp, "value", "enabled") != "disabled")


def _plan(request: Any, cancel: threading.Event) -> Any:
    from installer.engine_install.install import plan_for

    return plan_for(request, cancel)


def _install(request: Any, progress: Callable[[Any], None], cancel: threading.Event) -> Any:
    from installer.engine_install.install import install_engine

    return install_engine(request, progress, cancel)


def _phase_text(phase: str) -> str:
    return {
        "checking": tr("Checking the install folder..."),
        "planning": tr("Working out the packages..."),
        "installing": tr("Unpacking the packages..."),
        "verifying": tr("Checking the new engine on this machine..."),
        "done": tr("Done."),
    }.get(phase, phase)


def _error_text(exc: Exception) -> str:
    from installer.engine_install.errors import InstallCancelled

    if isinstance(exc, InstallCancelled):
        return tr("Cancelled. The files downloaded so far are kept: install again to continue where it stopped.")
    message, hint = getattr(exc, "message", str(exc)), getattr(exc, "hint", "")
    return f"{message} {hint}".strip()
