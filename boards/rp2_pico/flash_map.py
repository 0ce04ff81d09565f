"""The module's flash, as MicroPython's storage region splits it (docs/hardware.md).

Offsets are within the storage region (`rp2.Flash(start=, len=)`), which begins right after
the fonts' ROMFS partition. The image build (host/tillroll_host/image.py, FlashMap) uses the
same numbers; tests/test_build.py checks that they agree.
"""

FILESYSTEM_AT = const(0)
FILESYSTEM_BYTES = const(64 * 1024)  # littlefs at /: settings, NV logos
UPDATE_AT = const(64 * 1024)
UPDATE_BYTES = const(192 * 1024)  # the update slot: a signed update's ROMFS (docs/update.md)
JOURNAL_AT = const(256 * 1024)
JOURNAL_BYTES = const(128 * 1024)  # the receipt journal: 32 erase blocks of 4 KiB
