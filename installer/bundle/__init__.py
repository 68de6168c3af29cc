"""Maple's Windows bundle as a running program sees it: its manifest (``bundle.json``)."""
