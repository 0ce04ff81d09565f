"""Tillroll: firmware for a 58 mm thermal receipt printer module."""

VERSION = "0.1.0"
