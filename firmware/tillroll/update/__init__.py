"""Signed firmware updates (docs/update.md)."""
