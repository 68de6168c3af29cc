"""疑难解答: the machine check with fixes, known errors from the console, a diagnostic bundle."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QFrame, QLabel, QProgressBar, QVBoxLayout, QWidget

from installer.store.problems import problem_in, sentence
from launcher import check_view, workers
from launcher.context import AppContext
from launcher.engine import diagnosis as diagnose
from launcher.i18n import tr
from launcher.pages.common import Page, button, card, clear, muted, named, row


def fix_label(fix: str) -> str | None:
    return {
        "enable-long-paths": tr("Enable long paths"),
        "choose-port": tr("Use a free port"),
        "free-disk": tr("Open the data folder"),
        "choose-home": tr("Open Settings"),
        "install-cuda-torch": tr("Repair: install the right PyTorch"),
        "repair-torch": tr("Repair: install the right PyTorch"),
    }.get(fix)


class TroubleshootPage(Page):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(tr("Troubleshooting"), tr("What the check found, what the console says, and help to send to someone."), parent)
        self.ctx = ctx
        self.status = muted()
        self.progress = QProgressBar()
        self.progress.hide()
        self.body.addLayout(row(
            button(tr("Check again"), "refresh", ctx.run_check),
            button(tr("Verify all models"), "ok", self.verify_models),
            button(tr("Make a diagnostic bundle..."), "bundle", self.bundle_dialog),
        ))
        self.body.addWidget(self.progress)
        self.body.addWidget(self.status)
        self.findings = QVBoxLayout()
        self.errors = QVBoxLayout()
        self.body.addWidget(named(QLabel(tr("Machine check")), "cardTitle"))
        self.body.addLayout(self.findings)
        self.body.addWidget(named(QLabel(tr("Errors in the console")), "cardTitle"))
        self.body.addLayout(self.errors)
        self.body.addStretch(1)
        ctx.check_ready.connect(self.show_report)
        ctx.engine.crashed.connect(lambda _info: self.show_console_errors())
        if ctx.report is not None:
            self.show_report(ctx.report)
        self.show_console_errors()

    # -- the check --------------------------------------------------------------------------
    def show_report(self, report: Any) -> None:
        clear(self.findings)
        items = [r for r in check_view.rows(report, self.ctx.lang) if r.verdict != "ok"]
        for item in items:
            self.findings.addWidget(self._finding(item))
        if not items:
            self.findings.addWidget(muted(tr("Nothing to fix: every check passed.")))

    def _finding(self, item: check_view.Row) -> QFrame:
        frame, layout = card(item.verdict)
        layout.addWidget(named(QLabel(tr("{title}: {reason}").replace("{title}", item.title).replace("{reason}", item.reason)), "cardTitle"))
        if item.hint:
            layout.addWidget(muted(item.hint))
        label = fix_label(item.fix) if item.fix else None
        if label and item.fix:
            fix = item.fix
            layout.addLayout(row(button(label, "troubleshoot", lambda: self.apply_fix(fix))))
        return frame

    def apply_fix(self, fix: str) -> None:
        actions: dict[str, Callable[[], None]] = {
            "enable-long-paths": self._enable_long_paths,
            "choose-port": self._free_port,
            "free-disk": lambda: None if self.ctx.open_folder(self.ctx.home.root) else None,
            "choose-home": lambda: self.ctx.show_page.emit("settings"),
            "install-cuda-torch": self.repair_torch,
            "repair-torch": self.repair_torch,
        }
        if fix in actions:
            actions[fix]()

    def _enable_long_paths(self) -> None:
        from installer.machine.longpaths import enable_long_paths

        def done(result: Any) -> None:
            ok = getattr(result, "ok", False)
            self.status.setText(tr("Long paths are enabled.") if ok else tr("Long paths were not enabled: {detail}").replace("{detail}", str(getattr(result, "detail", "") or getattr(result.outcome, "value", ""))))
            self.ctx.run_check()

        workers.submit(lambda _p, _c: enable_long_paths(), on_done=done, on_error=self._failed)

    def repair_torch(self) -> None:
        """Reinstall the build the decision table picks, through the same atomic installer."""
        from installer.engine_install.choice import choose
        from installer.engine_install.facts import from_facts
        from installer.engine_install.location import layout
        from launcher.pages.engine_panel import _install, build_request

        if self.ctx.report is None:
            return
        request = build_request(self.ctx, choose(from_facts(self.ctx.report.facts)), layout())
        self.progress.setValue(0)
        self.progress.show()
        self.status.setText(tr("Installing the right PyTorch for this card..."))

        def done(_result: Any) -> None:
            self.progress.hide()
            self.status.setText(tr("PyTorch was reinstalled for this card; restart the engine to use it."))
            self.ctx.run_check()

        self.repair_task = workers.submit(lambda progress, cancel: _install(request, progress, cancel), on_done=done,
                                          on_error=self._failed, on_progress=self._install_progress, name="repair-torch")

    def _install_progress(self, p: Any) -> None:
        if getattr(p, "total", 0):
            self.progress.setValue(int(100 * p.done / p.total))

    def _free_port(self) -> None:
        from installer.machine.ports import next_free_port

        port = next_free_port(self.ctx.settings.port + 1)
        self.ctx.save(self.ctx.settings.model_copy(update={"port": port}))
        self.status.setText(tr("The engine will use port {port}.").replace("{port}", str(port)))
        self.ctx.run_check()

    # -- models -----------------------------------------------------------------------------
    def verify_models(self) -> None:
        home, shared = self.ctx.home, list(self.ctx.settings.shared_folders)

        def work(progress: Callable[[Any], None], cancel: threading.Event) -> Any:
            from installer.store.model_store import ModelStore

            store = ModelStore(home, shared)
            store.scan()
            return store.hash_missing(lambda d, t, _n: progress((d, t)), cancel)

        self.progress.setValue(0)
        self.progress.show()
        self.status.setText(tr("Verifying models..."))
        workers.submit(work, on_progress=self._progress, on_done=self._verified, on_error=self._failed)

    def _progress(self, value: tuple[int, int]) -> None:
        done, total = value
        self.progress.setValue(int(100 * done / total) if total else 0)

    def _verified(self, entries: list[Any]) -> None:
        self.progress.hide()
        bad = [e for e in entries if getattr(e.state, "value", "") in ("broken", "mismatch")]
        text = tr("{n} models checked; {bad} need attention (see the Models page).")
        self.status.setText(text.replace("{n}", str(len(entries))).replace("{bad}", str(len(bad))))

    def _failed(self, exc: Exception) -> None:
        self.progress.hide()
        self.status.setText(tr("Failed: {error}").replace("{error}", str(exc)))

    # -- the console ------------------------------------------------------------------------
    def show_console_errors(self) -> None:
        clear(self.errors)
        found = diagnose.diagnose(self.ctx.console)
        for item in found:
            frame, layout = card("warning")
            layout.addWidget(named(QLabel(tr(item.title) + (f" ({item.detail})" if item.detail else "")), "cardTitle"))
            layout.addWidget(QLabel(tr(item.advice)))
            problem = problem_in(item.line) if item.code == "unusable-model" else None
            if problem is not None:  # the file's sentence, in this window's language
                said = QLabel(sentence(problem, self.ctx.lang))
                said.setWordWrap(True)
                layout.addWidget(said)
            layout.addWidget(muted(item.line[:300]))
            self.errors.addWidget(frame)
        if not found:
            self.errors.addWidget(muted(tr("No known errors in the console.")))

    # -- the bundle -------------------------------------------------------------------------
    def bundle_dialog(self) -> None:
        default = str(Path.home() / diagnose.bundle_name())
        path, _ = QFileDialog.getSaveFileName(self, tr("Save the diagnostic bundle"), default, "Zip (*.zip)")
        if path:
            self.make_bundle(Path(path))

    def make_bundle(self, target: Path) -> workers.Task:
        ctx = self.ctx
        public = ctx.settings.public_dict()
        check = ctx.report.to_dict(ctx.lang) if ctx.report is not None else None
        lines = list(ctx.console)
        logs = ctx.home.logs_dir

        def work(_p: Any, _c: threading.Event) -> Path:
            return diagnose.write_bundle(target, settings_public=public, check=check,
                                         console_lines=lines, logs_dir=logs)

        done = lambda p: self.status.setText(tr("Diagnostic bundle saved: {path}").replace("{path}", str(p)))  # noqa: E731
        return workers.submit(work, on_done=done, on_error=self._failed, name="bundle")


