"""Tillroll host tools: the simulated module, rendering, fonts and the technician's CLI."""

__version__ = "0.1.0"
