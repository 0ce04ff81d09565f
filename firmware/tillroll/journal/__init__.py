"""Durable receipt journal on its own flash region (docs/journal.md)."""
