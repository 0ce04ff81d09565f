# Tillroll. `make demo` and `make test` set up everything they need on a fresh machine:
# a virtualenv with pinned packages, the MicroPython stubs, Node tools, and Debian packages.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STUBS  := $(VENV)/typeshed
OUT    := out

# Debian packages the tests use: OCR, and the font source the firmware's Font A is built from.
APT_PACKAGES := tesseract-ocr tesseract-ocr-eng xfonts-base pcf2bdf
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all demo test bench fuzz font apt clean help

help:
	@echo "make demo   print a sample receipt on the simulated module -> $(OUT)/demo-receipt.png"
	@echo "make test   run every test (installs what it needs first)"
	@echo "make bench  speed and memory figures -> $(OUT)/bench.json (docs/benchmarks.md)"
	@echo "make fuzz   a long random fuzzing run (EXAMPLES=5000); findings -> $(OUT)/fuzz-failures"
	@echo "make font   rebuild firmware/fonts from Debian's xfonts-base (Sony 12x24)"
	@echo "make clean  remove .venv, node_modules and $(OUT)"

all: $(BIN)/.installed

$(BIN)/.installed: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
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
	    || [ ! -e /usr/share/fonts/X11/misc/12x24.pcf.gz ]; then \
	    echo "installing Debian packages: $(APT_PACKAGES)"; \
	    $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(APT_PACKAGES) >/dev/null; \
	fi

demo: $(BIN)/.installed
	$(BIN)/tillroll demo -o $(OUT)/demo-receipt.png

test: $(BIN)/.installed $(STUBS)/.installed node_modules/.installed apt
	$(BIN)/python -m pytest

bench: $(BIN)/.installed
	$(BIN)/python tests/bench/run.py

font: $(BIN)/.installed apt
	$(BIN)/tillroll fontc /usr/share/fonts/X11/misc/12x24.pcf.gz \
	    -o firmware/fonts/font_a_12x24.trf

clean:
	rm -rf $(VENV) node_modules $(OUT)

fuzz: $(BIN)/.installed
	TILLROLL_FUZZ_RANDOM=1 TILLROLL_FUZZ_EXAMPLES=$${EXAMPLES:-5000} $(BIN)/python -m pytest tests/test_fuzz.py -x
