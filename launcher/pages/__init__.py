"""The window's pages: home, models, console, settings, troubleshooting."""
