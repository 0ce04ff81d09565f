"""Streaming ESC/POS parser: bytes in any chunking -> calls on the layout.

A resumable state machine: `feed(buf, start, end)` takes whatever the link read and returns how
far it got, stopping early when the layout's queue is full, so the link waits instead of
dropping bytes. It never allocates from a length in a header: image and graphics data it does
not print are skipped by counting, in blocks, however large the header says they are. Every
command it does not act on is skipped by its documented length, never printed as text.
"""

_HT = const(0x09)
_LF = const(0x0A)
_DLE = const(0x10)
_DC2 = const(0x12)
_ESC = const(0x1B)
_FS = const(0x1C)
_GS = const(0x1D)

_TEXT = const(0)
_CODE = const(1)  # a prefix came, the command byte is next
_ARGS = const(2)  # collecting the command's fixed parameter bytes
_SKIP = const(3)  # counting past variable-length data
_TO_NUL = const(4)  # counting past data that ends with NUL
_DATA = const(5)  # data going to a graphics sink (image rows, barcode or QR data)
_OFF = const(6)  # ESC = 0: the printer is deselected until ESC = 1

_ARG_MAX = const(8)
_TEXT_DATA_MAX = const(255)  # GS k form A, ESC D: the longest NUL-terminated run accepted


def _k(prefix, code):
    return (prefix << 8) | code


# Fixed parameter counts by command (ESC/POS Application Programming Guide). Commands whose
# data length comes from their parameters are finished by _variable().
_PARAMS = {
    # ESC
    _k(_ESC, 0x20): 1,  # ESC SP   right-side character spacing
    _k(_ESC, 0x21): 1,  # ESC !    print modes
    _k(_ESC, 0x24): 2,  # ESC $    absolute position
    _k(_ESC, 0x25): 1,  # ESC %    user-defined characters on/off
    _k(_ESC, 0x26): 3,  # ESC &    define user characters (y c1 c2, then data)
    _k(_ESC, 0x28): 3,  # ESC (    fn pL pH, then data
    _k(_ESC, 0x2A): 3,  # ESC *    bit image (m nL nH, then data)
    _k(_ESC, 0x2D): 1,  # ESC -    underline
    _k(_ESC, 0x32): 0,  # ESC 2    default line spacing
    _k(_ESC, 0x33): 1,  # ESC 3    line spacing
    _k(_ESC, 0x37): 3,  # ESC 7    heating (cheap modules)
    _k(_ESC, 0x38): 2,  # ESC 8    sleep (cheap modules)
    _k(_ESC, 0x3D): 1,  # ESC =    peripheral device
    _k(_ESC, 0x3F): 1,  # ESC ?    cancel user character
    _k(_ESC, 0x40): 0,  # ESC @    initialize
    _k(_ESC, 0x44): 0,  # ESC D    tab positions, NUL-terminated
    _k(_ESC, 0x45): 1,  # ESC E    emphasis
    _k(_ESC, 0x47): 1,  # ESC G    double strike
    _k(_ESC, 0x4A): 1,  # ESC J    print and feed n dots
    _k(_ESC, 0x4C): 0,  # ESC L    page mode
    _k(_ESC, 0x4D): 1,  # ESC M    character font
    _k(_ESC, 0x52): 1,  # ESC R    international character set
    _k(_ESC, 0x53): 0,  # ESC S    standard mode
    _k(_ESC, 0x54): 1,  # ESC T    page mode direction
    _k(_ESC, 0x55): 1,  # ESC U    unidirectional printing
    _k(_ESC, 0x56): 1,  # ESC V    90 degree rotation
    _k(_ESC, 0x57): 8,  # ESC W    page mode area
    _k(_ESC, 0x5A): 5,  # ESC Z    2D symbol (v r k nL nH, then data)
    _k(_ESC, 0x5C): 2,  # ESC \    relative position
    _k(_ESC, 0x61): 1,  # ESC a    justification
    _k(_ESC, 0x63): 2,  # ESC c 3/4/5 n  paper sensors, panel buttons
    _k(_ESC, 0x64): 1,  # ESC d    print and feed n lines
    _k(_ESC, 0x65): 1,  # ESC e    print and reverse feed
    _k(_ESC, 0x69): 0,  # ESC i    partial cut (one point left)
    _k(_ESC, 0x6D): 0,  # ESC m    partial cut (three points left)
    _k(_ESC, 0x70): 3,  # ESC p    drawer kick pulse
    _k(_ESC, 0x72): 1,  # ESC r    print colour
    _k(_ESC, 0x74): 1,  # ESC t    code page
    _k(_ESC, 0x75): 1,  # ESC u    peripheral status
    _k(_ESC, 0x76): 0,  # ESC v    paper status
    _k(_ESC, 0x7B): 1,  # ESC {    upside-down
    # GS
    _k(_GS, 0x21): 1,  # GS !     character size
    _k(_GS, 0x24): 2,  # GS $     page mode vertical position
    _k(_GS, 0x28): 3,  # GS (     fn pL pH, then data
    _k(_GS, 0x2A): 2,  # GS *     define downloaded bit image (x y, then x*y*8 bytes)
    _k(_GS, 0x2F): 1,  # GS /     print downloaded bit image
    _k(_GS, 0x38): 5,  # GS 8 L   p1 p2 p3 p4, then data (32-bit length)
    _k(_GS, 0x3A): 0,  # GS :     macro definition
    _k(_GS, 0x42): 1,  # GS B     reverse
    _k(_GS, 0x48): 1,  # GS H     HRI position
    _k(_GS, 0x49): 1,  # GS I     printer ID
    _k(_GS, 0x4C): 2,  # GS L     left margin
    _k(_GS, 0x50): 2,  # GS P     motion units
    _k(_GS, 0x54): 1,  # GS T     print position to line start
    _k(_GS, 0x56): 1,  # GS V     cut (m, and n for m >= 65)
    _k(_GS, 0x57): 2,  # GS W     print area width
    _k(_GS, 0x5A): 1,  # GS Z     2D symbol type for ESC Z
    _k(_GS, 0x5C): 2,  # GS \     relative vertical position (page mode)
    _k(_GS, 0x5E): 3,  # GS ^     execute macro
    _k(_GS, 0x61): 1,  # GS a     automatic status back
    _k(_GS, 0x62): 1,  # GS b     smoothing
    _k(_GS, 0x66): 1,  # GS f     HRI font
    _k(_GS, 0x67): 4,  # GS g 0/2 maintenance counter (fn m nL nH)
    _k(_GS, 0x68): 1,  # GS h     barcode height
    _k(_GS, 0x6B): 1,  # GS k     barcode (m, then data by form)
    _k(_GS, 0x72): 1,  # GS r     status
    _k(_GS, 0x76): 6,  # GS v 0   raster (0 m xL xH yL yH, then data)
    _k(_GS, 0x77): 1,  # GS w     barcode module width
    # FS
    _k(_FS, 0x21): 1,  # FS !     Kanji print modes
    _k(_FS, 0x26): 0,  # FS &     Kanji mode on
    _k(_FS, 0x28): 3,  # FS (     fn pL pH, then data
    _k(_FS, 0x2D): 1,  # FS -     Kanji underline
    _k(_FS, 0x2E): 0,  # FS .     Kanji mode off
    _k(_FS, 0x43): 1,  # FS C     Kanji code system
    _k(_FS, 0x53): 2,  # FS S     Kanji spacing
    _k(_FS, 0x57): 1,  # FS W     Kanji quadruple size
    _k(_FS, 0x70): 2,  # FS p     print NV bit image
    _k(_FS, 0x71): 1,  # FS q     define NV bit images (n, then n images)
    # DLE real-time commands
    _k(_DLE, 0x04): 1,  # DLE EOT n
    _k(_DLE, 0x05): 1,  # DLE ENQ n
    _k(_DLE, 0x14): 1,  # DLE DC4 fn, then parameters by fn
    # DC2, the cheap-module extensions
    _k(_DC2, 0x23): 1,  # DC2 #    print density
    _k(_DC2, 0x2A): 2,  # DC2 *    bitmap (r n, then r*n bytes)
    _k(_DC2, 0x54): 0,  # DC2 T    self-test page
    _k(_DC2, 0x56): 2,  # DC2 V    raster rows (nL nH, then 48 bytes a row)
}

# Commands the parser acts on.
_ESC_MODE = const(0x1B21)
_ESC_INIT = const(0x1B40)
_ESC_ALIGN = const(0x1B61)
_ESC_EMPHASIS = const(0x1B45)
_ESC_DOUBLE_STRIKE = const(0x1B47)
_ESC_UNDERLINE = const(0x1B2D)
_ESC_FEED_LINES = const(0x1B64)
_ESC_FEED_DOTS = const(0x1B4A)
_ESC_SPACING = const(0x1B33)
_ESC_DEFAULT_SPACING = const(0x1B32)
_GS_SIZE = const(0x1D21)
_GS_CUT = const(0x1D56)
_GS_PAREN = const(0x1D28)
_ESC_PAREN = const(0x1B28)
_FS_PAREN = const(0x1C28)
_GS_RASTER = const(0x1D76)
_GS_8 = const(0x1D38)
_ESC_BIT_IMAGE = const(0x1B2A)
_GS_DOWNLOAD_IMAGE = const(0x1D2A)
_GS_BARCODE = const(0x1D6B)
_ESC_TABS = const(0x1B44)
_DLE_DC4 = const(0x1014)
_FS_NV_IMAGES = const(0x1C71)
_ESC_USER_CHARS = const(0x1B26)
_DC2_BITMAP = const(0x122A)
_DC2_RASTER = const(0x1256)
_ESC_HEATING = const(0x1B37)
_DC2_DENSITY = const(0x1223)
_DC2_SELF_TEST = const(0x1254)
_GS_PAREN_A = const(0x41)  # GS ( A: test print
_GS_PAREN_K = const(0x4B)  # GS ( K: print density, print speed
_GS_PAREN_E = const(0x45)  # GS ( E: user setup commands
_GS_PAREN_M = const(0x4D)  # GS ( M: customize printer control values
# Text commands.
_ESC_FONT = const(0x1B4D)
_ESC_CHAR_SPACING = const(0x1B20)
_ESC_POSITION = const(0x1B24)
_ESC_MOVE = const(0x1B5C)
_ESC_CODE_PAGE = const(0x1B74)
_ESC_INTERNATIONAL = const(0x1B52)
_ESC_ROTATE = const(0x1B56)
_ESC_UPSIDE_DOWN = const(0x1B7B)
_GS_REVERSE = const(0x1D42)
_GS_LEFT_MARGIN = const(0x1D4C)
_GS_AREA_WIDTH = const(0x1D57)
_FS_KANJI_ON = const(0x1C26)
_FS_KANJI_OFF = const(0x1C2E)
_FS_KANJI_MODE = const(0x1C21)
_FS_KANJI_UNDERLINE = const(0x1C2D)
_FS_KANJI_SPACING = const(0x1C53)

# Stages of commands whose parameters come in more than one piece.
_GS_V_N = const(0x10000)  # GS V m >= 65: one more byte, n
_GS_K_B = const(0x10001)  # GS k form B: n, then n bytes
_DLE_DC4_ARGS = const(0x10002)
_FS_Q_IMAGE = const(0x10003)  # FS q: xL xH yL yH of one image
_ESC_AMP_CHAR = const(0x10004)  # ESC &: x of one character
_GS_PAREN_FN = const(0x10005)  # GS ( A / GS ( K: the two bytes after pL pH
_FS_Q_NV = const(0x10006)  # FS q kept in flash: xL xH yL yH of one image
_FS_C_ARGS = const(0x10007)  # FS ( C with pL pH = 2: fn m

_GS_HRI_POSITION = const(0x1D48)
_GS_HRI_FONT = const(0x1D66)
_GS_BAR_HEIGHT = const(0x1D68)
_GS_BAR_WIDTH = const(0x1D77)
_FS_PRINT_NV = const(0x1C70)
_GS_2D_TYPE = const(0x1D5A)
_ESC_2D = const(0x1B5A)
_L = const(0x4C)  # GS ( L, GS 8 L: graphics
_K = const(0x6B)  # GS ( k: 2D symbols
_BLOCK = const(0x10000)
_GS_PAREN_H = const(0x10008)  # GS ( H fn m d1 d2 d3 d4: process ID marker
_GS_PAREN_D = const(0x10009)  # GS ( D m [a b]...: real-time commands on or off
_DLE_EOT_A = const(0x1000A)  # DLE EOT 7/8: a

# Commands answered through the link (`host`).
_GS_ASB = const(0x1D61)
_GS_STATUS = const(0x1D72)
_GS_ID = const(0x1D49)
_GS_COUNTER = const(0x1D67)
_ESC_PAPER = const(0x1B76)
_ESC_SELECT = const(0x1B3D)
_DLE_EOT = const(0x1004)

# Receipt boundaries the parser reports in `boundary` (the journal's record.CUT, INIT, MARKER).
BOUNDARY_CUT = const(1)
BOUNDARY_INIT = const(2)
BOUNDARY_MARKER = const(3)


class Parser:
    def __init__(self, layout, graphics=None):
        """`graphics` (escpos/graphics.py) prints images, barcodes and QR codes; without it
        their data is skipped."""
        self._out = layout
        self._gfx = graphics
        self._sink = None  # where _DATA bytes go
        self._left = 0  # bytes of _DATA left in this block; -1: the sink knows its end
        self._symbology = 0  # GS k form B: m, while n comes
        self._args = bytearray(_ARG_MAX)
        self._state = _TEXT
        self._prefix = 0
        self._key = 0
        self._need = 0
        self._have = 0
        self._skip = 0  # bytes left in the current block of skipped data
        self._blocks = 0  # further blocks of `_block_size` bytes after it
        self._block_size = 0
        self._to_nul = 0  # bytes left before a NUL-terminated run is given up
        self._repeat = 0  # images or characters left in FS q / ESC &
        self._height = 0  # ESC &: character height in bytes
        self._fn = 0  # GS ( A / GS ( K
        # A receipt boundary was just parsed (a cut, ESC @, a GS ( H marker). With
        # `stop_at_boundary` feed() returns right after it, so the link can end the receipt
        # in the journal at that very byte; the link clears it then.
        self.boundary = 0
        self.stop_at_boundary = False
        self.held_cut = 0  # a cut held back for the receipt's code: its extra feed + 1
        self.marker = bytearray(4)  # GS ( H process ID
        self.host = None  # the link: status replies (GS a, GS r, GS I, ESC v, GS ( D)
        self._off = 0  # ESC = 0: bytes of ESC = n matched so far
        self._setup = None  # GS ( E / GS ( M (escpos/user_setup.py), made when first used

    def busy(self) -> bool:
        """True while the layout's queue is too full to parse another text line."""
        return self._out.busy()

    def pending(self) -> bool:
        """True while a barcode, QR code or logo is still printing (feed it no bytes to go on)."""
        gfx = self._gfx
        return gfx is not None and gfx.job is not None

    def in_text(self) -> bool:
        """True if the next byte is read as text (not a command parameter or data)."""
        return self._state == _TEXT

    def feed(self, buf, start: int, end: int) -> int:
        """Parse buf[start:end]; return where it stopped (end, or earlier while busy)."""
        out = self._out
        gfx = self._gfx
        i = start
        while True:
            if gfx is not None and gfx.job is not None:
                # A barcode, QR code or logo prints a few dot lines a step, while there is room.
                if out.busy():
                    return i
                gfx.step()
                continue
            if i >= end:
                return i
            state = self._state
            if state == _DATA:
                i = self._data(buf, i, end)
                if out.busy():
                    return i
                continue
            if state == _OFF:
                i = self._deselected(buf, i, end)
                continue
            if state == _SKIP:
                n = end - i
                if n > self._skip:
                    n = self._skip
                i += n
                self._skip -= n
                if not self._skip:
                    self._next_block()
                continue
            b = buf[i]
            i += 1
            if state == _TEXT:
                if b >= 0x20:
                    if out.busy():
                        return i - 1  # no room for a line that may wrap: wait, then go on
                    i = out.chars(buf, i - 1, end)  # the whole run of printable bytes
                    if out.busy():
                        # A wrap filled the queue (the run may have stopped short of its end):
                        # whatever comes next, an LF's line included, waits for room.
                        return i
                elif b == _HT:
                    out.tab()
                elif b == _LF:
                    out.print_line(1)
                    if out.busy():
                        return i
                elif b == _ESC or b == _GS or b == _FS or b == _DLE or b == _DC2:
                    self._prefix = b
                    self._state = _CODE
                # CR, NUL and other controls print nothing (CR: auto line feed is off).
            elif state == _CODE:
                self._key = (self._prefix << 8) | b
                self._need = _PARAMS.get(self._key, 0)
                self._have = 0
                if self._need:
                    self._state = _ARGS
                else:
                    self._state = _TEXT
                    self._run()
                    if out.busy() or (self.boundary and self.stop_at_boundary):
                        return i
            elif state == _ARGS:
                self._args[self._have] = b
                self._have += 1
                if self._have == self._need:
                    self._state = _TEXT
                    self._run()
                    if out.busy() or (self.boundary and self.stop_at_boundary):
                        return i
            else:  # _TO_NUL
                self._to_nul -= 1
                if b and self._key == _ESC_TABS and not out.add_tab(b):
                    self._to_nul = 0  # Epson: a position out of order ends ESC D
                if b == 0 or self._to_nul <= 0:
                    self._state = _TEXT

    def _deselected(self, buf, i: int, end: int) -> int:
        """ESC = 0: skip everything but ESC = n (real-time commands act in the link)."""
        while i < end:
            b = buf[i]
            i += 1
            seen = self._off
            if seen == 2:
                self._off = 0
                if b & 1:
                    self._state = _TEXT
                    return i
            elif b == _ESC:
                self._off = 1
            elif seen == 1 and b == 0x3D:
                self._off = 2
            else:
                self._off = 0
        return i

    def cut_off(self) -> bool:
        """The sender's connection ended: drop the command it left unfinished, so nothing of
        it is read into the next sender's bytes. Its data never reaches its end: a barcode,
        QR code or bit image of half its data does not print, a logo being defined is not
        kept; the rows of an image that printed stay on the paper. True if a command was cut
        off (even its prefix alone)."""
        state = self._state
        if state == _TEXT or state == _OFF:
            return False
        self._state = _TEXT
        self._sink = None
        self._repeat = 0
        if self._gfx is not None:
            self._gfx.cut_off()
        return True

    def restart(self):
        """A new connection: a clean parser and the print modes a job starts with, as after
        ESC @, and selected (ESC = 1). Persisted settings (density, speed) stay; so do NV
        logos."""
        self.cut_off()
        self._state = _TEXT
        self._off = 0
        self.boundary = 0
        self._out.reset()
        if self._gfx is not None:
            self._gfx.restart()

    def abort(self):
        """The host cleared its data (DLE DC4 fn 8, DLE ENQ 2): drop the command being read,
        the graphics being printed and the line being built."""
        self._state = _TEXT
        self._sink = None
        self._repeat = 0
        self.boundary = 0
        self.held_cut = 0  # what it would have torn off is gone with the rest
        self._out.discard()
        if self._gfx is not None:
            self._gfx.reset()

    def _data(self, buf, i: int, end: int) -> int:
        sink = self._sink
        if sink is None:
            self._state = _TEXT
            return i
        left = self._left
        stop = end
        if left >= 0 and end - i > left:
            stop = i + left
        j = sink.write(buf, i, stop)
        if left >= 0:
            left -= j - i
            if not left and self._blocks:
                self._blocks -= 1
                left = _BLOCK
            self._left = left
            if not left:
                sink.end()
                self._state = _TEXT
            elif sink.done and self._key == _GS_K_B:
                self._state = _TEXT  # GS k: after a Code 39 stop '*' the data is text (Epson)
            elif sink.done:
                self._skip_data(left, self._blocks, _BLOCK)  # more data than the sink takes
        elif sink.done:
            self._state = _TEXT
        if self._state == _TEXT and self._repeat and self._key == _FS_Q_NV:
            self._more(_FS_Q_NV)
        return j

    def _to_sink(self, sink, left: int, blocks: int = 0):
        """Send the next `left` bytes (and `blocks` more blocks of 64 KiB) to `sink`; with
        `left` -1 the sink decides where its data ends."""
        self._sink = sink
        self._left = left
        self._blocks = blocks
        self._state = _DATA
        if not left:  # no data at all: end it at once
            sink.end()
            self._state = _TEXT

    # ---- variable-length data ---------------------------------------------------------------

    def _skip_data(self, first: int, blocks: int = 0, block_size: int = 0):
        """Skip `first` bytes, then `blocks` blocks of `block_size` bytes, by counting."""
        self._skip = first
        self._blocks = blocks
        self._block_size = block_size
        self._state = _SKIP
        if not first:
            self._next_block()

    def _next_block(self):
        if self._blocks and self._block_size:
            self._blocks -= 1
            self._skip = self._block_size
            self._state = _SKIP
        elif self._repeat:
            self._more(_FS_Q_IMAGE if self._key == _FS_Q_IMAGE else _ESC_AMP_CHAR)
        else:
            self._state = _TEXT

    def _more(self, stage: int):
        """Collect the parameters of the next stage of a multi-part command."""
        self._key = stage
        if stage == _FS_Q_IMAGE or stage == _FS_Q_NV:
            self._need = 4
        elif stage == _GS_PAREN_FN or stage == _FS_C_ARGS:
            self._need = 2
        else:
            self._need = 1
        if stage == _GS_PAREN_H:
            self._need = 6
        if stage == _DLE_DC4_ARGS:
            fn = self._args[0]
            self._need = 7 if fn == 8 else (1 if fn == 7 else 2)
        if stage == _GS_PAREN_D:
            self._need = self._fn
        self._have = 0
        self._state = _ARGS

    def _skip_to_nul(self, limit: int):
        self._to_nul = limit
        self._state = _TO_NUL

    # ---- commands --------------------------------------------------------------------------

    def _run(self):
        key = self._key
        a = self._args
        out = self._out
        if key == _ESC_MODE:
            out.set_print_mode(a[0])
        elif key == _ESC_INIT:
            self._init()
        elif key == _ESC_ALIGN:
            out.set_align(a[0])
        elif key == _ESC_EMPHASIS:
            out.set_emphasis(a[0])
        elif key == _ESC_DOUBLE_STRIKE:
            out.set_emphasis(a[0])  # double strike reads as emphasis on thermal paper
        elif key == _ESC_UNDERLINE:
            out.set_underline(a[0])
        elif key == _ESC_FEED_LINES:
            out.print_line(a[0])
        elif key == _ESC_FEED_DOTS:
            out.print_line(0)
            out.feed_dots(a[0])
        elif key == _ESC_SPACING:
            out.set_spacing(a[0])
        elif key == _ESC_DEFAULT_SPACING:
            out.default_spacing()
        elif key == _GS_SIZE:
            out.set_char_size(a[0])
        elif key == _GS_CUT:
            if a[0] >= 65:
                self._more(_GS_V_N)
            else:
                self._cut(0)
        elif key == _GS_V_N:
            self._cut(a[0])
        elif key == _ESC_HEATING:
            out.set_heating(a[0], a[1], a[2])
        elif key == _DC2_DENSITY:
            out.set_density(50 + 5 * (a[0] & 0x1F))
        elif key == _DC2_SELF_TEST:
            out.self_test()
        elif key == _ESC_SELECT:
            if not a[0] & 1:
                self._state = _OFF
                self._off = 0
        elif key == _GS_COUNTER:
            if self.host is not None:
                self.host.counter(a[0] & 0x0F, a[2] | a[3] << 8)
        elif (key == _GS_ASB or key == _GS_STATUS or key == _GS_ID or key == _ESC_PAPER) and (
            self.host is not None
        ):
            self._reply(self.host, key, a[0])
        else:
            self._text(key, a)

    def _cut(self, extra: int):
        # With verification codes on (the `verify` setting), the link's parser holds the
        # tear-off back: the receipt's bytes are whole only now, and its code goes between
        # them and the tear (DataLink, Recovery.foot). A copy's parser tears as it always did.
        settings = self._out.settings
        if self.stop_at_boundary and settings is not None and settings.values["verify"]:
            self.held_cut = extra + 1
        else:
            self._out.tear_off(extra)
        self.boundary = BOUNDARY_CUT

    def tear(self):
        """The tear-off a cut held back (`held_cut`), now."""
        extra = self.held_cut - 1
        self.held_cut = 0
        if extra >= 0:
            self._out.tear_off(extra)

    def _init(self):
        """ESC @, and the software reset that ends GS ( E's user setting mode."""
        self._out.reset()
        if self._gfx is not None:
            self._gfx.reset()
        self.boundary = BOUNDARY_INIT

    def _user_setup(self, host, kind: int, n: int):
        """GS ( E / GS ( M: their data to escpos/user_setup.py (imported when first used)."""
        s = self._setup
        if s is None:
            from .user_setup import UserSetup

            s = self._setup = UserSetup(self._out.settings, host.send, self._init)
        self._to_sink(s.start(kind, n), n)

    def _reply(self, host, key, n):
        """Status requests in sequence with the data (DLE EOT comes through the link)."""
        if key == _GS_ASB:
            host.set_asb(n)
        elif key == _GS_STATUS:
            host.status_after_print(n)
        elif key == _GS_ID:
            host.identify(n)
        else:
            host.paper_status()

    def _text(self, key, a):
        """Character and position commands."""
        out = self._out
        if key == _ESC_FONT:
            out.set_font(a[0])
        elif key == _ESC_CHAR_SPACING:
            out.set_char_spacing(a[0])
        elif key == _ESC_POSITION:
            out.set_position(a[0] | (a[1] << 8))
        elif key == _ESC_MOVE:
            out.move(a[0] | (a[1] << 8))
        elif key == _ESC_CODE_PAGE:
            out.select_code_page(a[0])
        elif key == _ESC_INTERNATIONAL:
            out.select_international(a[0])
        elif key == _ESC_ROTATE:
            out.set_rotate(a[0])
        elif key == _ESC_UPSIDE_DOWN:
            out.set_upside_down(a[0])
        elif key == _GS_REVERSE:
            out.set_reverse(a[0])
        elif key == _GS_LEFT_MARGIN:
            out.set_left_margin(a[0] | (a[1] << 8))
        elif key == _GS_AREA_WIDTH:
            out.set_area_width(a[0] | (a[1] << 8))
        elif key == _FS_KANJI_ON:
            out.set_kanji_mode(True)
        elif key == _FS_KANJI_OFF:
            out.set_kanji_mode(False)
        elif key == _FS_KANJI_MODE:
            out.set_kanji_print_mode(a[0])
        elif key == _FS_KANJI_UNDERLINE:
            out.set_kanji_underline(a[0])
        elif key == _FS_KANJI_SPACING:
            out.set_kanji_spacing(a[0], a[1])
        elif key == _ESC_TABS:
            out.clear_tabs()
            self._skip_to_nul(33)
        elif key == _FS_PAREN and a[0] == 0x43 and a[1] == 2 and a[2] == 0:
            self._more(_FS_C_ARGS)  # FS ( C: character encoding (fn 48) and font priority
        elif key == _FS_C_ARGS:
            if a[0] == 48:
                out.set_encoding(a[1])
        else:
            self._variable(key, a)

    def _setting(self, fn, n, m):
        """GS ( A n m (test print) and GS ( K fn m (density 49, speed 50)."""
        out = self._out
        if fn == _GS_PAREN_A:
            if m in (2, 3, 50, 51):
                out.self_test()
        elif n == 49:  # density: m = 250..255 is -6..-1, 0..6 as is; 5 % a step
            step = m - 256 if m >= 250 else m
            if -6 <= step <= 6:
                out.set_density(100 + 5 * step)
        elif n == 50:  # speed: level 1 (slowest) to 9 (rated)
            if m >= 48:
                m -= 48
            if 1 <= m <= 9:
                out.set_speed(m * 100 // 9)
            elif m == 0:
                out.set_speed(100)

    def _variable(self, key, a):
        """Commands followed by data whose length their parameters give: printed when there is
        a graphics part, else skipped."""
        if key == _GS_PAREN and (a[0] == _GS_PAREN_A or a[0] == _GS_PAREN_K) and a[1] == 2:
            self._fn = a[0]
            if not a[2]:
                self._more(_GS_PAREN_FN)
            else:
                self._skip_data(a[1] | (a[2] << 8))
        elif key == _GS_PAREN and a[0] == 0x48 and a[1] == 6 and not a[2]:
            self._more(_GS_PAREN_H)
        elif key == _GS_PAREN and a[0] == 0x44 and (a[1] == 3 or a[1] == 5) and not a[2]:
            self._fn = a[1]
            self._more(_GS_PAREN_D)
        elif key == _GS_PAREN_D:
            if a[0] == 20 and self.host is not None:
                for k in range(1, self._fn - 1, 2):
                    self.host.enable_realtime(a[k], a[k + 1])
        elif key == _DLE_EOT:
            if a[0] == 7 or a[0] == 8:
                self._more(_DLE_EOT_A)
        elif key == _GS_PAREN_H:
            if a[0] == 48 and a[1] == 48:  # fn 48, m 48: reply when processed
                self.marker[:] = a[2:6]
                self.boundary = BOUNDARY_MARKER
        elif key == _GS_PAREN_FN:
            self._setting(self._fn, a[0], a[1])
        elif (
            key == _GS_PAREN
            and (a[0] == _GS_PAREN_E or a[0] == _GS_PAREN_M)
            and self.host is not None  # not a copy printed from the journal
            and self._out.settings is not None
        ):
            self._user_setup(self.host, a[0], a[1] | (a[2] << 8))
        elif self._gfx is not None and self._graphics(self._gfx, key, a):
            return
        elif key == _GS_PAREN or key == _ESC_PAREN or key == _FS_PAREN:
            self._skip_data(a[1] | (a[2] << 8))
        elif key == _GS_RASTER:  # GS v 0 m xL xH yL yH: x bytes a row, y rows
            width = a[2] | (a[3] << 8)
            rows = a[4] | (a[5] << 8)
            if width and rows:
                self._skip_data(width, rows - 1, width)
        elif key == _GS_8:  # L p1 p2 p3 p4: 32-bit length
            self._skip_data(a[1] | (a[2] << 8), a[3] | (a[4] << 8), 0x10000)
        elif key == _ESC_BIT_IMAGE:
            columns = a[1] | (a[2] << 8)
            self._skip_data(columns * (3 if a[0] >= 32 else 1))
        elif key == _GS_DOWNLOAD_IMAGE:
            self._skip_data(a[0] * a[1] * 8)
        elif key == _ESC_2D:
            self._skip_data(a[3] | (a[4] << 8))
        elif key == _GS_BARCODE:
            if a[0] <= 6:
                self._skip_to_nul(_TEXT_DATA_MAX + 1)
            else:
                self._more(_GS_K_B)
        elif key == _GS_K_B:
            self._skip_data(a[0])
        elif key == _ESC_TABS:
            self._skip_to_nul(33)
        elif key == _DLE_DC4:
            self._more(_DLE_DC4_ARGS)
        elif key == _FS_NV_IMAGES:
            self._repeat = a[0]
            if self._repeat:
                self._more(_FS_Q_IMAGE)
        elif key == _FS_Q_IMAGE:
            self._repeat -= 1
            width = a[0] | (a[1] << 8)
            height = a[2] | (a[3] << 8)
            self._skip_data(width * 8, height - 1 if height else 0, width * 8)
        elif key == _ESC_USER_CHARS:
            self._height = a[0]
            self._repeat = a[2] - a[1] + 1 if a[2] >= a[1] else 0
            if self._repeat:
                self._more(_ESC_AMP_CHAR)
        elif key == _ESC_AMP_CHAR:
            self._repeat -= 1
            self._key = _ESC_AMP_CHAR
            self._skip_data(self._height * a[0])
        elif key == _DC2_BITMAP:
            self._skip_data(a[0] * a[1])
        elif key == _DC2_RASTER:
            rows = a[0] | (a[1] << 8)
            self._skip_data(48, rows - 1 if rows else 0, 48)

    def _graphics(self, g, key, a) -> bool:
        """Images, barcodes and 2D symbols; False for a command this does not handle."""
        if key == _GS_RASTER:  # GS v 0 m xL xH yL yH
            m = a[1] & 0x0F
            sink = g.raster_image(a[2] | (a[3] << 8), a[4] | (a[5] << 8), m & 1, m & 2)
            self._to_sink(sink, -1)
        elif key == _DC2_RASTER:  # DC2 V nL nH: rows of 48 bytes
            self._to_sink(g.raster_image(48, a[0] | (a[1] << 8), 0, 0), -1)
        elif key == _DC2_BITMAP:  # DC2 * r n: r rows of n bytes
            self._to_sink(g.raster_image(a[1], a[0], 0, 0), -1)
        elif key == _GS_PAREN and (a[0] == _L or a[0] == _K):
            self._to_sink(g.function(a[0]), a[1] | (a[2] << 8))
        elif key == _GS_8 and a[0] == _L:
            self._to_sink(g.function(_L), a[1] | (a[2] << 8), a[3] | (a[4] << 8))
        elif key == _ESC_BIT_IMAGE:
            self._to_sink(g.bit_image(a[0], a[1] | (a[2] << 8)), -1)
        elif key == _GS_BARCODE:
            if a[0] <= 6:
                self._to_sink(g.barcode_data(a[0], -1), -1)
            else:
                self._symbology = a[0]
                self._more(_GS_K_B)
        elif key == _GS_K_B:
            self._to_sink(g.barcode_data(self._symbology, a[0]), a[0])
        elif key == _GS_BAR_HEIGHT:
            if a[0]:  # 1-255 dots
                g.barcode.height = a[0]
        elif key == _GS_BAR_WIDTH:
            g.barcode.set_module(a[0])
        elif key == _GS_HRI_POSITION:
            g.barcode.set_hri(a[0])
        elif key == _GS_HRI_FONT:
            g.barcode.hri_font = a[0] & 1
        elif key == _FS_PRINT_NV:
            g.print_nv(a[0], a[1])
        elif key == _GS_2D_TYPE:
            if a[0] <= 2 or 48 <= a[0] <= 50:
                g.code2d = a[0] & 0x0F
        elif key == _ESC_2D:  # ESC Z v r k nL nH: the older 2D symbol command
            self._to_sink(g.symbol_2d(a[0], a[1], a[2]), a[3] | (a[4] << 8))
        elif key == _FS_NV_IMAGES:
            if a[0]:  # n 1-255; FS q 0 leaves the images as they are
                g.nv_begin()
            self._repeat = a[0]
            if self._repeat:
                self._more(_FS_Q_NV)
        elif key == _FS_Q_NV:
            self._repeat -= 1
            self._key = _FS_Q_NV
            sink = g.nv_bit_image(a[0] | (a[1] << 8), a[2] | (a[3] << 8))
            self._to_sink(sink, -1)
        else:
            return False
        return True
