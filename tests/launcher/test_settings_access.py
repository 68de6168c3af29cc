"""The settings form's engine access: no API login with an empty password; Host names and CORS sites."""

from __future__ import annotations

from installer.settings import load_settings


def test_an_api_login_needs_a_password(qtbot, make_window, home) -> None:
    page = _page(make_window)
    page.auth_user.setText("me")
    for password in ("", "   "):
        page.auth_pass.setText(password)
        assert not page.save()
        assert "password" in page.status.text()
    page.auth_user.setText("")
    page.auth_pass.setText("pw")
    assert not page.save()
    assert load_settings(home.settings_file).settings.api_auth == ""


def test_host_names_and_cors_sites_are_checked_and_kept(qtbot, make_window, home) -> None:
    page = _page(make_window)
    page.cors_origins.setText("*")
    assert not page.save() and "cors_allow_origins" in page.status.text()
    page.cors_origins.setText("https://App.example/, http://127.0.0.1:8080")
    page.allowed_hosts.setText("sd.example, 192.168.1.5")
    assert page.save(), page.status.text()
    saved = load_settings(home.settings_file).settings
    assert saved.cors_allow_origins == ["https://app.example", "http://127.0.0.1:8080"]
    assert saved.allowed_hosts == ["sd.example", "192.168.1.5"]
    again = _page(lambda: make_window(from_file=True))
    assert again.cors_origins.text() == "https://app.example, http://127.0.0.1:8080"


def _page(make_window):  # type: ignore[no-untyped-def]
    window = make_window()
    window.build_all()
    return window.pages["settings"]
