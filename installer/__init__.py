"""Maple installer package."""
