"""The downloads panel: one row per file with a progress bar, speed, ETA and pause/resume/cancel."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from installer.display import human_size
from launcher import theme
from launcher.downloads_bridge import DownloadsBridge
from launcher.i18n import tr
from launcher.pages.common import button, muted


def human_eta(seconds: float | None) -> str:
    if seconds is None:
        return "--"
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def state_text(state: str) -> str:
    return {
        "queued": tr("Queued"), "connecting": tr("Connecting"), "downloading": tr("Downloading"),
        "retrying": tr("Retrying"), "paused": tr("Paused"), "verifying": tr("Verifying"),
        "done": tr("Done, verified"), "failed": tr("Failed"), "cancelled": tr("Cancelled"),
    }.get(state, state)


class DownloadRow(QWidget):
    def __init__(self, bridge: DownloadsBridge, job_id: str, name: str) -> None:
        super().__init__()
        self.job_id = job_id
        self.state = "queued"
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        self.name = QLabel(name)
        self.name.setMinimumWidth(200)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.info = muted(state_text("queued"))
        self.info.setWordWrap(False)  # one line, as wide as its text: the bar takes the width left
        self.info.setMinimumWidth(260)
        self.info.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        self.pause_button: QPushButton = button(tr("Pause"), "pause", self._toggle_pause)
        self.cancel_button: QPushButton = button(tr("Cancel"), "stop", lambda: bridge.cancel(job_id))
        self.bridge = bridge
        for widget in (self.name, self.bar, self.info, self.pause_button, self.cancel_button):
            layout.addWidget(widget)
        layout.setStretch(1, 1)

    def _toggle_pause(self) -> None:
        if self.state == "paused":
            self.bridge.resume(self.job_id)
        else:
            self.bridge.pause(self.job_id)

    def update_progress(self, p: Any) -> None:
        self.state = str(p.state)
        if p.total:
            self.bar.setValue(int(1000 * p.done / p.total))
        if self.state == "done":
            self.bar.setValue(1000)
        parts = [state_text(self.state), f"{human_size(p.done)} / {human_size(p.total)}"]
        if self.state == "downloading":
            parts += [f"{human_size(p.speed_bps)}/s", tr("ETA {eta}").replace("{eta}", human_eta(p.eta_s))]
        self.info.setText(" · ".join(parts))
        finished = self.state in ("done", "failed", "cancelled")
        paused = self.state == "paused"
        if self.pause_button.text() != (tr("Resume") if paused else tr("Pause")):
            self.pause_button.setText(tr("Resume") if paused else tr("Pause"))
            self.pause_button.setIcon(theme.icon("play" if paused else "pause"))
        self.pause_button.setEnabled(not finished)
        self.cancel_button.setEnabled(not finished)


class DownloadsPanel(QGroupBox):
    def __init__(self, bridge: DownloadsBridge, parent: QWidget | None = None) -> None:
        super().__init__(tr("Downloads"), parent)
        self.bridge = bridge
        self.rows: dict[str, DownloadRow] = {}
        self.layout_ = QVBoxLayout(self)
        self.empty = muted(tr("No downloads. Choose a model in the catalog or add one by its URL."))
        self.layout_.addWidget(self.empty)
        self.message = muted()
        self.layout_.addWidget(self.message)
        bridge.added.connect(self.add_row)
        bridge.updated.connect(self.update_row)
        bridge.failed.connect(self._failed)
        for job_id, name, progress in bridge.current():  # downloads started (or restored) before this page
            self.add_row(job_id, name)
            self.update_row(job_id, progress)

    def _failed(self, _job_id: str, message: str) -> None:
        self.message.setText(message)

    def add_row(self, job_id: str, name: str) -> None:
        if job_id in self.rows:
            return
        self.empty.hide()
        widget = DownloadRow(self.bridge, job_id, name)
        self.rows[job_id] = widget
        self.layout_.insertWidget(self.layout_.count() - 1, widget)

    def update_row(self, job_id: str, progress: Any) -> None:
        widget = self.rows.get(job_id)
        if widget is not None:
            widget.update_progress(progress)
