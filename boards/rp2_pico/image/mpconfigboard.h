// Tillroll 58 on a Raspberry Pi Pico (RP2040, 2 MiB flash). The flash map is in
// docs/hardware.md and host/tillroll_host/image.py (FlashMap); tests/test_build.py checks that
// these numbers agree with it.
#define MICROPY_HW_BOARD_NAME                   "Tillroll 58 (Raspberry Pi Pico)"
#define MICROPY_HW_USB_MANUFACTURER_STRING      "Tillroll"
#define MICROPY_HW_USB_PRODUCT_FS_STRING        "Tillroll 58"

// The fonts, read in place: 1152 KiB just below the storage region.
#define MICROPY_HW_ROMFS_BYTES                  (1152 * 1024)
// Storage: the littlefs filesystem (64 KiB, settings and NV logos), the update slot (192 KiB,
// a signed update's ROMFS) and the receipt journal (128 KiB, its own region, never formatted
// by the firmware).
#define MICROPY_HW_FLASH_STORAGE_BYTES          (384 * 1024)

// No built-in USB serial: the REPL's CDC would take the first interface, and ESC/POS bytes
// 01h-04h are REPL control characters there. The board's boot code sets up USB itself
// (boards/rp2_pico/usb_ports.py): the data CDC first, a printer-class interface, and on a
// development image a REPL CDC of its own.
#define MICROPY_HW_USB_CDC                      (0)
