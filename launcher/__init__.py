"""Maple launcher package."""
