"""Which image this is. The image build writes its own copy of this file into each image
(host/tillroll_host/image.py): DEVELOPMENT is True only in `tillroll-rp2_pico-dev.uf2`."""

DEVELOPMENT = False  # a REPL on a USB interface of its own
