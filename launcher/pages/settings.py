"""高级选项: everything in settings.json, validated before it is saved."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from installer.access import split_list
from installer.contract import DEVICES, PRECISIONS
from installer.settings import Settings
from launcher.context import AppContext
from launcher.i18n import tr
from launcher.pages.common import Page, button, muted, row


def _choices() -> dict[str, list[tuple[str, str]]]:
    return {
        "download_source": [("auto", tr("Automatic")), ("huggingface", "Hugging Face"),
                            ("hf-mirror", tr("China mirror (hf-mirror)")), ("modelscope", "ModelScope"),
                            ("civitai", "Civitai")],
        "language": [("system", tr("Follow the system")), ("zh", "中文"), ("en", "English")],
        "theme": [("system", tr("Follow the system")), ("light", tr("Light")), ("dark", tr("Dark"))],
        "vram_mode": [("auto", tr("Auto")), ("high", tr("High (no optimisation)")),
                      ("medium", tr("Medium (--medvram)")), ("low", tr("Low (--lowvram)"))],
    }


class SettingsPage(Page):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(tr("Settings"), tr("Saved in settings.json in the data home. Engine changes apply at the next start."), parent)
        self.ctx = ctx
        self.combos: dict[str, QComboBox] = {}
        inner = QWidget()
        column = QVBoxLayout(inner)
        column.setContentsMargins(0, 0, 8, 0)
        column.addWidget(self._folders_group())
        column.addWidget(self._engine_group())
        column.addWidget(self._network_group())
        column.addWidget(self._look_group())
        column.addStretch(1)
        scroll = QScrollArea(widgetResizable=True)
        scroll.setWidget(inner)
        self.body.addWidget(scroll, 1)
        self.status = muted()
        self.body.addLayout(row(button(tr("Save"), "save", self.save, name="save"), self.status))
        self.load(ctx.settings)
        ctx.check_ready.connect(lambda _r: self._show_auto())
        self._show_auto()

    # -- building ---------------------------------------------------------------------------
    def _combo(self, key: str, items: list[tuple[str, str]]) -> QComboBox:
        combo = QComboBox()
        for value, text in items:
            combo.addItem(text, value)
        self.combos[key] = combo
        return combo

    def _folders_group(self) -> QGroupBox:
        box, form = _group(tr("Folders"))
        home = QLabel(str(self.ctx.home.root))
        home.setWordWrap(True)
        form.addRow(tr("Data home"), home)
        form.addRow("", muted(tr("To use another data home, start Maple with --home or set MAPLE_HOME.")))
        self.shared = QListWidget()
        self.shared.setMaximumHeight(90)
        buttons = QHBoxLayout()
        buttons.addWidget(button(tr("Add a shared folder..."), "folder", self.add_shared))
        buttons.addWidget(button(tr("Remove"), "trash", self.remove_shared))
        buttons.addStretch(1)
        shared = QVBoxLayout()
        shared.addWidget(self.shared)
        shared.addLayout(buttons)
        shared.addWidget(muted(tr("An existing AUTOMATIC1111 or 秋叶 folder: its models are used in place, never copied.")))
        form.addRow(tr("Shared folders"), shared)
        return box

    def _engine_group(self) -> QGroupBox:
        box, form = _group(tr("Engine"))
        self.port = QSpinBox(minimum=1, maximum=65535)
        self.listen = QCheckBox(tr("Listen on the network (other computers can connect)"))
        self.auth_user = QLineEdit(placeholderText=tr("user"))
        self.auth_pass = QLineEdit(placeholderText=tr("password"), echoMode=QLineEdit.EchoMode.Password)
        auth = QHBoxLayout()
        auth.addWidget(self.auth_user)
        auth.addWidget(self.auth_pass)
        form.addRow(tr("Port"), self.port)
        form.addRow("", self.listen)
        form.addRow(tr("API login"), auth)
        self._access_rows(form)
        form.addRow(tr("Device"), self._combo("device", [(d, d) for d in DEVICES]))
        form.addRow(tr("Precision"), self._combo("precision", [(p, p) for p in PRECISIONS]))
        form.addRow(tr("VRAM mode"), self._combo("vram_mode", _choices()["vram_mode"]))
        self.open_browser = QCheckBox(tr("Open the browser when the engine is ready"))
        self.restart = QCheckBox(tr("Restart the engine after a crash"))
        self.pickle = QCheckBox(tr("Allow pickle (.ckpt) checkpoints"))
        self.pickle_warning = muted(tr("Pickle files can run any code on this computer when loaded. Only allow this for files you trust."))
        for widget in (self.open_browser, self.restart, self.pickle, self.pickle_warning):
            form.addRow("", widget)
        return box

    def _access_rows(self, form: QFormLayout) -> None:
        """Who else may reach the engine: Host names (with listening on) and CORS sites."""
        self.allowed_hosts = QLineEdit(placeholderText=tr("this computer's names and addresses"))
        self.cors_origins = QLineEdit(placeholderText="https://example.com")
        form.addRow(tr("Allowed host names"), self.allowed_hosts)
        form.addRow(tr("Sites allowed to use the API (CORS)"), self.cors_origins)

    def _network_group(self) -> QGroupBox:
        box, form = _group(tr("Downloads"))
        form.addRow(tr("Download source"), self._combo("download_source", _choices()["download_source"]))
        self.proxy = QLineEdit(placeholderText="http://127.0.0.1:7890")
        self.hf_token = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.civitai_token = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        form.addRow(tr("Proxy"), self.proxy)
        form.addRow(tr("Hugging Face token"), self.hf_token)
        form.addRow(tr("Civitai token"), self.civitai_token)
        self.package_index = QLineEdit(placeholderText=tr("empty: the default package index"))
        self.torch_index = QLineEdit(placeholderText=tr("empty: PyTorch's own index ({variant} becomes cu130, cpu, ...)"))
        form.addRow(tr("Package index (mirror)"), self.package_index)
        form.addRow(tr("PyTorch index (mirror)"), self.torch_index)
        return box

    def _look_group(self) -> QGroupBox:
        box, form = _group(tr("Appearance"))
        form.addRow(tr("Language"), self._combo("language", _choices()["language"]))
        form.addRow(tr("Theme"), self._combo("theme", _choices()["theme"]))
        return box

    # -- values -----------------------------------------------------------------------------
    def load(self, s: Settings) -> None:
        self.port.setValue(s.port)
        self.listen.setChecked(s.listen)
        user, _, password = s.api_auth.partition(":")
        self.auth_user.setText(user)
        self.auth_pass.setText(password)
        self.allowed_hosts.setText(", ".join(s.allowed_hosts))
        self.cors_origins.setText(", ".join(s.cors_allow_origins))
        for key, combo in self.combos.items():
            combo.setCurrentIndex(max(0, combo.findData(getattr(s, key))))
        self.open_browser.setChecked(s.open_browser)
        self.restart.setChecked(s.restart_on_crash)
        self.pickle.setChecked(s.allow_pickle)
        self.proxy.setText(s.proxy)
        self.hf_token.setText(s.hf_token)
        self.civitai_token.setText(s.civitai_token)
        self.package_index.setText(s.package_index)
        self.torch_index.setText(s.torch_index)
        self.shared.clear()
        self.shared.addItems(s.shared_folders)

    def values(self) -> dict[str, Any]:
        user, password = self.auth_user.text().strip(), self.auth_pass.text()
        data: dict[str, Any] = {key: combo.currentData() for key, combo in self.combos.items()}
        data.update(
            port=self.port.value(), listen=self.listen.isChecked(),
            api_auth=f"{user}:{password}" if user or password else "",
            allowed_hosts=split_list(self.allowed_hosts.text()), cors_allow_origins=split_list(self.cors_origins.text()),
            open_browser=self.open_browser.isChecked(), restart_on_crash=self.restart.isChecked(),
            allow_pickle=self.pickle.isChecked(), proxy=self.proxy.text().strip(),
            hf_token=self.hf_token.text().strip(), civitai_token=self.civitai_token.text().strip(),
            package_index=self.package_index.text().strip(), torch_index=self.torch_index.text().strip(),
            shared_folders=[self.shared.item(i).text() for i in range(self.shared.count())],
        )
        return data

    def save(self) -> bool:
        if bool(self.auth_user.text().strip()) != bool(self.auth_pass.text().strip()):
            self.status.setText(tr("Not saved: the API login needs both a user name and a password."))
            return False
        try:
            merged = Settings.model_validate(self.ctx.settings.model_dump() | self.values())
        except ValidationError as exc:
            first = exc.errors()[0]
            self.status.setText(tr("Not saved: {field}: {problem}").replace("{field}", ".".join(map(str, first["loc"]))).replace("{problem}", first["msg"]))
            return False
        if merged.listen and not merged.api_auth:
            self.status.setText(tr("Not saved: listening on the network needs an API login (user and password)."))
            return False
        self.ctx.save(merged)
        self.status.setText(tr("Saved."))
        return True

    def _show_auto(self) -> None:
        rec = getattr(self.ctx.report, "recommendation", None)
        if rec is None:
            return
        for key, value in (("device", rec.device), ("precision", rec.precision), ("vram_mode", rec.vram_mode)):
            self.combos[key].setItemText(0, tr("Auto ({choice})").replace("{choice}", value))

    def add_shared(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, tr("Choose an AUTOMATIC1111 or 秋叶 folder"))
        if folder:
            self.shared.addItem(folder)

    def remove_shared(self) -> None:
        for item in self.shared.selectedItems():
            self.shared.takeItem(self.shared.row(item))


def _group(title: str) -> tuple[QGroupBox, QFormLayout]:
    box = QGroupBox(title)
    form = QFormLayout(box)
    form.setSpacing(8)
    return box, form
