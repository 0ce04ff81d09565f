"""Rendering: fonts and text layout -> 384-dot lines for the engine."""
