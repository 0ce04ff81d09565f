"""Native code (viper and native emitters), compiled on the board by its own runtime.

A module's hot loops live beside it in a `.vpy` file of MicroPython source. The module's .mpy
stays free of machine code, so one build serves every board (RP2040, ESP32-S3, the unix port
of the simulated module); at import `load` compiles the `.vpy` with the running interpreter,
whose emitter makes code for its own processor, into the module's globals.

Frozen into a board image there is no `.vpy` to read: the image build puts each `.vpy` in place
of its module's `load(__file__, globals())` line, and the board's mpy-cross compiles it for the
board's processor ahead of time (docs/hardware.md, "Native code, frozen").
"""

import gc


def load(module_file: str, scope: dict):
    """Compile `module_file`'s `.vpy` into `scope` (the module's globals())."""
    with open(module_file.rsplit(".", 1)[0] + ".vpy") as f:
        source = f.read()
    exec(source, scope)
    gc.collect()  # the compiler's garbage, before the module makes its buffers
