# Tillroll 58 on a Raspberry Pi Pico (RP2040, 2 MiB flash): MicroPython's build of this board.
set(PICO_BOARD "pico")
set(PICO_PLATFORM "rp2040")
# The manifest freezes Tillroll and this board's package; the image build stages them first.
set(MICROPY_FROZEN_MANIFEST ${MICROPY_BOARD_DIR}/manifest.py)
