"""一键启动: the machine at a glance, one big start/stop button and the engine's state."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QMessageBox, QPlainTextEdit, QWidget

from launcher import check_view, theme
from launcher.context import AppContext
from launcher.engine.command import PortPlan, local_url
from launcher.engine.process import CrashInfo, EngineState
from launcher.i18n import tr
from launcher.pages.common import Page, button, card, clear, muted, named, restyle, row

CARD_IDS = ("gpu", "torch", "ram", "disk", "long_paths", "long-paths", "port")
ICONS = {"ok": "ok", "warning": "warning", "blocker": "blocker"}


def state_text(state: EngineState) -> str:
    return {
        EngineState.STOPPED: tr("Stopped"),
        EngineState.STARTING: tr("Starting..."),
        EngineState.RUNNING: tr("Running"),  # the address is the link beside it
        EngineState.STOPPING: tr("Stopping..."),
        EngineState.CRASHED: tr("Crashed"),
        EngineState.EXTERNAL: tr("Using a running engine"),
    }[state]


class HomePage(Page):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(tr("One-click start"), tr("Check the machine, then start the engine and open its page."), parent)
        self.ctx = ctx
        self._build_controls()
        self._build_engine_panel()
        self._build_crash_panel()
        self.cards = QGridLayout()
        self.cards.setSpacing(10)
        self.check_label = muted(tr("Checking this machine..."))
        self.body.addWidget(self.check_label)
        self.body.addLayout(self.cards)
        self.body.addStretch(1)
        engine = ctx.engine
        engine.state_changed.connect(self._state_changed)
        engine.crashed.connect(self._crashed)
        engine.port_busy.connect(self._port_busy)
        engine.notice.connect(self._notice)
        ctx.check_ready.connect(self.show_report)
        ctx.check_failed.connect(lambda msg: self.check_label.setText(tr("The machine check failed: {error}").replace("{error}", msg)))
        if ctx.report is not None:
            self.show_report(ctx.report)
        self._state_changed(engine.state)

    def _build_controls(self) -> None:
        self.start_button = button(tr("Start"), "play", self.toggle, name="primary")
        self.start_button.setMinimumWidth(220)
        self.state_label = named(QLabel(), "state")
        self.url_label = named(QLabel(), "url")
        self.url_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.url_label.setOpenExternalLinks(True)
        self.notice = muted()
        self.notice.hide()
        self.open_page = button(tr("Open the page"), "browser", self._open_page)
        self.body.addLayout(row(self.start_button, self.state_label, self.url_label))
        self.body.addWidget(self.notice)
        self.body.addLayout(row(
            self.open_page,
            button(tr("Outputs folder"), "folder", lambda: self.ctx.open_folder(self.ctx.home.outputs_dir)),
            button(tr("Models folder"), "folder", lambda: self.ctx.open_folder(self.ctx.home.models_dir("checkpoint"))),
        ))

    def _build_engine_panel(self) -> None:
        """On a bundle without the engine's packages the start button installs them first."""
        from launcher.pages.engine_panel import EnginePanel, engine_missing

        self.engine_panel = EnginePanel(self.ctx)
        self.engine_panel.setVisible(engine_missing(self.engine_panel.where))
        self.engine_panel.installed.connect(self._engine_installed)
        self.ctx.check_ready.connect(self._check_for_engine)
        self.body.addWidget(self.engine_panel)
        if self.ctx.report is not None:
            self._check_for_engine(self.ctx.report)

    def _check_for_engine(self, report: Any) -> None:
        if self.needs_engine:
            self.engine_panel.show_report(report)

    @property
    def needs_engine(self) -> bool:
        return not self.engine_panel.isHidden()

    def _engine_installed(self, manifest: object) -> None:
        if manifest is not None:
            self.engine_panel.hide()
        self._state_changed(self.ctx.engine.state)

    def _build_crash_panel(self) -> None:
        self.crash_panel, layout = card("blocker")
        self.crash_title = named(QLabel(), "cardTitle")
        self.crash_diagnosis = muted()
        self.crash_lines = named(QPlainTextEdit(), "console", read_only=True)
        self.crash_lines.setMaximumHeight(130)
        self.restart_button = button(tr("Restart the engine"), "refresh", self._restart)
        layout.addWidget(self.crash_title)
        layout.addWidget(self.crash_diagnosis)
        layout.addWidget(self.crash_lines)
        layout.addLayout(row(self.restart_button, button(tr("Open the console"), "console", lambda: self.ctx.show_page.emit("console"))))
        self.crash_panel.hide()
        self.body.addWidget(self.crash_panel)

    # -- the engine -----------------------------------------------------------------------------
    def toggle(self) -> None:
        if self.needs_engine:
            self.engine_panel.start()
            self._state_changed(self.ctx.engine.state)
            return
        state = self.ctx.engine.state
        if state in (EngineState.RUNNING, EngineState.STARTING, EngineState.EXTERNAL):
            self.ctx.engine.stop()
        elif state in (EngineState.STOPPED, EngineState.CRASHED):
            self.crash_panel.hide()
            self._notice("")
            self.ctx.start_engine()

    def _notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.setVisible(bool(text))

    def _restart(self) -> None:
        self.crash_panel.hide()
        self.ctx.engine.restart()

    def _open_page(self) -> None:
        if self.ctx.engine.url:
            self.ctx.open_url(self.ctx.engine.url)

    def _state_changed(self, state: EngineState) -> None:
        url = self.ctx.engine.url
        self.state_label.setText(state_text(state))
        self.state_label.setProperty("state", state.value)
        restyle(self.state_label)
        busy = state in (EngineState.RUNNING, EngineState.STARTING, EngineState.EXTERNAL)
        self.start_button.setText(tr("Stop") if busy else tr("Start"))
        colors = theme.current()
        self.start_button.setIcon(theme.icon("stop" if busy else "play", colors.on_status if busy else colors.accent_text))
        self.start_button.setProperty("running", busy)
        self.start_button.setEnabled(state is not EngineState.STOPPING)
        if self.needs_engine:
            self.start_button.setText(tr("Installing the engine...") if self.engine_panel.busy else tr("Install the engine"))
            self.start_button.setEnabled(not self.engine_panel.busy)
        restyle(self.start_button)
        live = state in (EngineState.RUNNING, EngineState.EXTERNAL)
        self.url_label.setText(f'<a href="{url}">{url}</a>' if live and url else "")
        self.open_page.setEnabled(live)

    def _crashed(self, info: CrashInfo) -> None:
        if info.startup_failed:
            self.crash_title.setText(tr("The engine could not start."))
        else:
            self.crash_title.setText(tr("The engine stopped unexpectedly (exit code {code}).").replace("{code}", str(info.exit_code)))
        advice = [f"<b>{tr(d.title)}</b> {d.detail} — {tr(d.advice)}" for d in info.diagnoses]
        if info.restarting:
            advice.append(tr("Restarting it, as the settings ask..."))
        self.crash_diagnosis.setText("<br>".join(advice) or tr("No known cause was recognised; the last lines of its console are below."))
        self.crash_lines.setPlainText("\n".join(info.last_lines[-15:]))
        self.crash_panel.show()

    def _port_busy(self, plan: PortPlan) -> None:
        if self.ask_use_existing(plan):
            self.ctx.engine.use_existing(plan.port)
        else:
            self.ctx.engine.start_elsewhere(plan.wanted)

    def ask_use_existing(self, plan: PortPlan) -> bool:
        answer = QMessageBox.question(
            self, tr("A Maple engine is already running"),
            tr("A Maple engine is already running at {url}. Use it instead of starting another?").replace("{url}", local_url(plan.port)),
        )
        return answer == QMessageBox.StandardButton.Yes

    # -- the machine check ------------------------------------------------------------------
    def show_report(self, report: Any) -> None:
        clear(self.cards)
        shown = [r for r in check_view.rows(report, self.ctx.lang) if r.id in CARD_IDS or r.verdict != "ok"]
        for i, item in enumerate(shown):
            self.cards.addWidget(self._card(item), i // 3, i % 3)
        worst = check_view.worst(report)
        self.check_label.setText({
            "ok": tr("This machine is ready."),
            "warning": tr("This machine can run Maple; see the warnings below."),
            "blocker": tr("Something must be fixed first; see below and the Troubleshooting page."),
        }.get(worst, ""))

    def _card(self, item: check_view.Row) -> QWidget:
        frame, layout = card(item.verdict)
        title = named(QLabel(item.title), "cardTitle")
        icon = QLabel()
        colors = theme.current()
        color = {"ok": colors.ok, "warning": colors.warning, "blocker": colors.error}.get(item.verdict, colors.muted)
        icon.setPixmap(theme.icon(ICONS.get(item.verdict, "info"), color).pixmap(18, 18))
        layout.addLayout(row(icon, title))
        layout.addWidget(muted(item.reason))
        if item.hint and item.verdict != "ok":
            hint = QLabel(item.hint)
            hint.setWordWrap(True)
            layout.addWidget(hint)
        layout.addStretch(1)
        return frame
