# What the Tillroll image freezes. `make firmware` stages FROZEN_DIR (host/tillroll_host/image.py):
# the firmware package with its native code inlined, and the board's package.
import os

_FROZEN = os.environ["TILLROLL_FROZEN_DIR"]

module("rp2.py", base_path="$(PORT_DIR)/modules")
include("$(MPY_DIR)/extmod/asyncio")
require("usb-device-cdc")
package("tillroll", base_path=_FROZEN)
package("rp2_pico", base_path=_FROZEN)
module("_boot.py", base_path=_FROZEN)
module("main.py", base_path=_FROZEN)
package("mechanisms", base_path=_FROZEN)
