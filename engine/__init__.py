"""Maple engine package."""
