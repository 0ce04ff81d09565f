# Tillroll. `make demo` and `make test` set up everything they need on a fresh machine:
# a virtualenv with pinned packages, the MicroPython stubs, Node tools, and Debian packages.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STUBS  := $(VENV)/typeshed
OUT    := out

# Debian packages the tests use: OCR (English, Simplified Chinese), the font sources the
# firmware's fonts are built from (Font A/B: xfonts-base, xfonts-terminus; CJK: fonts-noto-cjk),
# and the headless browser the web page is tested in (chromium, driven through chromium-driver).
APT_PACKAGES := tesseract-ocr tesseract-ocr-eng tesseract-ocr-chi-sim xfonts-base xfonts-terminus \
    fonts-noto-cjk pcf2bdf chromium chromium-driver
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# The board image: MicroPython v1.28.0 from third_party/, built with Debian's Arm toolchain.
# MAKER_KEY: the maker's public key (tillroll keygen), whose signed updates the image takes;
# none: the test key in tests/keys, which anyone can sign with (docs/update.md).
BOARD    ?= rp2_pico
MAKER_KEY ?=
RP2      := $(OUT)/rp2
MPY_SRC  := $(RP2)/src/micropython
FW_OUT   := $(OUT)/firmware
FW_APT   := gcc-arm-none-eabi libnewlib-arm-none-eabi cmake build-essential
# Every board build runs in a network namespace of its own, with no network in it: a build that
# reaches for the network fails here, not on a module maker's offline machine.
NETLESS  := unshare -n
# MicroPython's own make runs apart from ours (its parallel qstr generation wants its own jobs).
SUBMAKE  := env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -j$$(nproc)
FW_INPUTS := $(shell find firmware/tillroll boards/$(BOARD) boards/mechanisms -type f \
    \( -name '*.py' -o -name '*.vpy' -o -name '*.h' -o -name '*.cmake' -o -name '*.csv' \)) \
    Makefile firmware/fonts host/tillroll_host/image.py $(RP2)/.extracted $(RP2)/picotool/.built \
    $(MAKER_KEY) \
    $(MPY_SRC)/mpy-cross/build/mpy-cross

.PHONY: all demo test test-chip hil labgrid bench powercut fuzz font apt firmware firmware-broken stock-firmware firmware-apt clean help

help:
	@echo "make demo   print a sample receipt on the simulated module -> $(OUT)/demo-receipt.png"
	@echo "make test   run every test (installs what it needs first)"
	@echo "make test-chip  every firmware test and client receipt that fits the chip, on the emulated RP2040"
	@echo "make hil   tests/hil on TARGET=sim (or chip, rig), WORKERS=2 at once -> $(OUT)/hil/ (docs/rig.md)"
	@echo "make labgrid  labgrid in $(LAB), to run tests/hil on racks (docs/rig.md)"
	@echo "make bench  speed and memory figures -> $(OUT)/bench.json (docs/benchmarks.md)"
	@echo "make powercut  every power-cut point of the journal's and the update's sweeps (TEARS=2 shapes each)"
	@echo "make fuzz   a long random fuzzing run (EXAMPLES=5000); findings -> $(OUT)/fuzz-failures"
	@echo "make firmware  the RP2040 images (BOARD=rp2_pico) -> $(FW_OUT)/ (docs/hardware.md)"
	@echo "make font   rebuild firmware/fonts from Debian's font packages (see firmware/fonts)"
	@echo "make clean  remove .venv, node_modules and $(OUT)"

all: $(BIN)/.installed

$(BIN)/.installed: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

# labgrid (docs/rig.md, "Racks with labgrid") in a virtualenv of its own, for it brings its own
# pyserial; that venv sees the project's packages after its own (a .pth), so its `serial` wins.
LAB := $(VENV)/labgrid
labgrid: $(LAB)/.installed
$(LAB)/.installed: requirements-labgrid.txt $(BIN)/.installed
	rm -rf $(LAB)
	$(PYTHON) -m venv $(LAB)
	$(LAB)/bin/python -m pip install --quiet --disable-pip-version-check --no-deps \
	    -r requirements-labgrid.txt
	$(LAB)/bin/python -c 'import pathlib, sys, sysconfig; \
	    pathlib.Path(sysconfig.get_path("purelib"), "tillroll.pth").write_text( \
	    f"import site; site.addsitedir({sys.argv[1]!r})\n")' \
	    "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
	touch $@

$(STUBS)/.installed: requirements-stubs.txt $(BIN)/.installed
	rm -rf $(STUBS)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps \
	    --target $(STUBS)/rp2 micropython-rp2-stubs==$(shell sed -n 's/^micropython-rp2-stubs==//p' requirements-stubs.txt) \
	    micropython-stdlib-stubs==$(shell sed -n 's/^micropython-stdlib-stubs==//p' requirements-stubs.txt)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps \
	    --target $(STUBS)/esp32 micropython-esp32-stubs==$(shell sed -n 's/^micropython-esp32-stubs==//p' requirements-stubs.txt) \
	    micropython-stdlib-stubs==$(shell sed -n 's/^micropython-stdlib-stubs==//p' requirements-stubs.txt)
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --silent --no-audit --no-fund
	touch $@

apt:
	@if ! command -v tesseract >/dev/null || ! command -v pcf2bdf >/dev/null \
	    || ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null \
	    || [ ! -e /usr/share/fonts/X11/misc/12x24.pcf.gz ] \
	    || [ ! -e /usr/share/fonts/X11/misc/ter-u24n_unicode.pcf.gz ] \
	    || [ ! -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] \
	    || ! tesseract --list-langs 2>/dev/null | grep -qx chi_sim; then \
	    echo "installing Debian packages: $(APT_PACKAGES)"; \
	    $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_PACKAGES) >/dev/null; \
	fi

demo: $(BIN)/.installed
	$(BIN)/tillroll demo -o $(OUT)/demo-receipt.png

test: $(BIN)/.installed $(STUBS)/.installed node_modules/.installed apt firmware stock-firmware \
        firmware-broken labgrid
	$(BIN)/python -m pytest

bench: $(BIN)/.installed node_modules/.installed firmware
	$(BIN)/python tests/bench/run.py

# Every firmware test that fits the chip, on the emulated RP2040, and every client library's
# receipt printed by its pins (`make test` runs a smoke subset of them there): about half an hour.
test-chip: $(BIN)/.installed node_modules/.installed apt firmware
	$(BIN)/python -m pytest tests/firmware tests/test_chip_clients.py --target=chip

# The module's acceptance suite on one target (docs/rig.md), a module per worker; JUnit XML and
# an HTML report with each test's paper beside what it sent.
TARGET  ?= sim
WORKERS ?= 2
hil: $(BIN)/.installed node_modules/.installed apt firmware stock-firmware firmware-broken
	$(BIN)/python -m pytest tests/hil --target=$(TARGET) -n $(WORKERS) $(HIL_ARGS) \
	    --junitxml=$(OUT)/hil/junit.xml --html=$(OUT)/hil/report.html --self-contained-html

powercut: $(BIN)/.installed node_modules/.installed firmware
	$(BIN)/python tests/sweep.py --tears $${TEARS:-2}
	TILLROLL_SWEEP_FULL=1 $(BIN)/python -m pytest -q tests/test_update.py tests/test_chip_update.py \
	    -k "cut_at_its or sampled"

font: $(BIN)/.installed apt
	$(BIN)/tillroll fonts -o firmware/fonts

clean:
	rm -rf $(VENV) node_modules $(OUT)

fuzz: $(BIN)/.installed
	TILLROLL_FUZZ_RANDOM=1 TILLROLL_FUZZ_EXAMPLES=$${EXAMPLES:-5000} $(BIN)/python -m pytest tests/test_fuzz.py -x

firmware-apt: $(RP2)/.toolchain
$(RP2)/.toolchain:
	@if ! command -v arm-none-eabi-gcc >/dev/null || ! command -v cmake >/dev/null \
	    || [ ! -e /usr/lib/arm-none-eabi/newlib/libc.a ] || ! command -v g++ >/dev/null; then \
	    echo "installing Debian packages: $(FW_APT)"; \
	    $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(FW_APT) >/dev/null; \
	fi
	@mkdir -p $(RP2) && touch $@

# MicroPython's sources, checked against third_party/SHA256SUMS and patched (third_party/README.md).
$(RP2)/.extracted: third_party/micropython-v1.28.0-src.tar.xz third_party/SHA256SUMS \
        third_party/patches/mpy-tool-align.patch
	cd third_party && sha256sum --quiet --strict -c SHA256SUMS
	# New sources or patches: MicroPython's builds would keep what they froze with the old tools.
	rm -rf $(RP2)/src $(RP2)/build $(RP2)/build-dev $(RP2)/stock-build && mkdir -p $(RP2)
	tar -xJf third_party/micropython-v1.28.0-src.tar.xz -C $(RP2) src
	patch -d $(MPY_SRC) -p1 --quiet < third_party/patches/mpy-tool-align.patch
	touch $@

# pico-sdk wants picotool and would clone it otherwise: build it from the vendored source.
$(RP2)/picotool/.built: $(RP2)/.extracted | $(RP2)/.toolchain
	$(NETLESS) sh -c 'cmake -S $(RP2)/src/picotool -B $(RP2)/build-picotool -DPICOTOOL_NO_LIBUSB=1 \
	    -DPICOTOOL_FLAT_INSTALL=1 -DPICO_SDK_PATH=$(abspath $(MPY_SRC))/lib/pico-sdk \
	    -DCMAKE_INSTALL_PREFIX=$(abspath $(RP2))/picotool >/dev/null \
	    && cmake --build $(RP2)/build-picotool -j$$(nproc) >/dev/null \
	    && cmake --install $(RP2)/build-picotool >/dev/null'
	touch $@

$(MPY_SRC)/mpy-cross/build/mpy-cross: $(RP2)/.extracted | $(RP2)/.toolchain
	$(NETLESS) sh -c '$(SUBMAKE) -C $(MPY_SRC)/mpy-cross >$(RP2)/mpy-cross.log 2>&1' \
	    || (tail -n 40 $(RP2)/mpy-cross.log; exit 1)

firmware: $(FW_OUT)/tillroll-$(BOARD).uf2 $(FW_OUT)/tillroll-$(BOARD)-dev.uf2

# Stock MicroPython for a Pico (no Tillroll): the emulated chip's own tests boot it, so what
# they prove of the harness does not rest on the firmware.
stock-firmware: $(RP2)/stock/firmware.uf2
$(RP2)/stock/firmware.uf2: $(RP2)/.extracted $(RP2)/picotool/.built \
        $(MPY_SRC)/mpy-cross/build/mpy-cross | $(RP2)/.toolchain
	$(NETLESS) sh -c '$(SUBMAKE) -C $(MPY_SRC)/ports/rp2 BOARD=RPI_PICO \
	    BUILD=$(abspath $(RP2))/stock-build PICOTOOL_FETCH_FROM_GIT_PATH=$(abspath $(RP2))/picotool \
	    >$(RP2)/stock-build.log 2>&1' || (tail -n 40 $(RP2)/stock-build.log; exit 1)
	mkdir -p $(dir $@) && cp $(RP2)/stock-build/firmware.uf2 $@

$(FW_OUT)/fonts.romfs: $(wildcard firmware/fonts/*) host/tillroll_host/image.py $(BIN)/.installed
	@mkdir -p $(FW_OUT)
	$(BIN)/python -m tillroll_host.image romfs $@

# One image: stage what it freezes, build MicroPython for the board with no network, then the
# whole-module and update UF2s and a size report. $(1): name suffix, $(2): stage flags.
define board_image
$(FW_OUT)/tillroll-$(BOARD)$(1).uf2: $(FW_INPUTS) $(FW_OUT)/fonts.romfs $(BIN)/.installed | $(RP2)/.toolchain
	$(BIN)/python -m tillroll_host.image stage $(RP2)/frozen$(1) --board $(BOARD) $(2) \
	    $(if $(MAKER_KEY),--maker-key $(MAKER_KEY))
	TILLROLL_FROZEN_DIR=$(abspath $(RP2))/frozen$(1) $(NETLESS) sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " \
	    > $(RP2)/build$(1).net && $(subst $$,$$$$,$(SUBMAKE)) -C $(MPY_SRC)/ports/rp2 \
	    BOARD_DIR=$(abspath boards/$(BOARD)/image) BUILD=$(abspath $(RP2))/build$(1) \
	    PICOTOOL_FETCH_FROM_GIT_PATH=$(abspath $(RP2))/picotool >$(RP2)/build$(1).log 2>&1' \
	    || (tail -n 40 $(RP2)/build$(1).log; exit 1)
	$(BIN)/python -m tillroll_host.image images $(RP2)/build$(1)/firmware.uf2 \
	    $(FW_OUT)/fonts.romfs $(FW_OUT) tillroll-$(BOARD)$(1)
	cp $(RP2)/build$(1)/firmware.elf $(FW_OUT)/tillroll-$(BOARD)$(1).elf
	{ echo "network during the build: $$$$(tr '\n' ' ' < $(RP2)/build$(1).net)"; \
	  arm-none-eabi-size $(FW_OUT)/tillroll-$(BOARD)$(1).elf; \
	  echo "fonts ROMFS: $$$$(stat -c %s $(FW_OUT)/fonts.romfs) bytes"; } \
	    > $(FW_OUT)/tillroll-$(BOARD)$(1).size.txt
	cat $(FW_OUT)/tillroll-$(BOARD)$(1).size.txt
endef
$(eval $(call board_image,,))
$(eval $(call board_image,-dev,--development))
# A build with a fault in it: the rig's tests prove it fails by what the head's lines show.
$(eval $(call board_image,-strobe-halved,--fault strobe-halved))
firmware-broken: $(FW_OUT)/tillroll-$(BOARD)-strobe-halved.uf2
