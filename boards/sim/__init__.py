"""The simulated module: the real firmware on the MicroPython unix port, with models for the
hardware it drives."""
