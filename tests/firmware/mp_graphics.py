"""Images and logos through the parser: rows reach the engine dot for dot, clipped, justified,
streamed without allocating, and NV logos survive a new module built on the same flash."""

# heap: sim
# (these build several whole layouts with every font and the graphics; on a device the
# firmware's bytecode stays in flash, on the unix port it sits in the heap as well)

import hashlib
import os

import micropython

from recorder import EngineRecorder
from tillroll.escpos.graphics import Graphics
from tillroll.escpos.parser import Parser
from tillroll.render.font import Font
from tillroll.render.layout import Layout
from tillroll.render.logo_store import LogoStore

FONT_A = os.getenv("TILLROLL_FONTS") + "/font_a_12x24.trf"
GS = b"\x1d"
ESC = b"\x1b"
FS = b"\x1c"
FLASH = "/tmp/tillroll-mp-graphics-flash"


def make(flash=None):
    font = Font(FONT_A)
    engine = EngineRecorder()
    layout = Layout(font, engine, 96)
    logos = LogoStore(flash) if flash else None
    gfx = Graphics(layout, engine, font, logos, qr_max_version=10)
    return Parser(layout, gfx), engine


def feed(parser, data):
    buf = bytearray(data)
    i = 0
    while i < len(buf) or parser.pending():
        i = parser.feed(buf, i, len(buf))


def twice_second_locked(parser, engine, stream):
    """Print `stream` once to warm up the first-use paths, then again with the heap locked;
    both must give the same number of dot lines. Returns that number."""
    feed(parser, stream)
    first = engine.lines
    micropython.heap_lock()
    try:
        i = 0
        while i < len(stream) or parser.pending():
            i = parser.feed(stream, i, len(stream))
    finally:
        micropython.heap_unlock()
    assert engine.lines == 2 * first
    return first


def test_a_raster_image_comes_out_dot_for_dot():
    p, engine = make()
    feed(p, GS + b"v0\x00\x02\x00\x03\x00" + b"\x80\x01" + b"\xf0\x0f" + b"\x00\xff")
    assert [engine.columns(r) for r in range(3)] == [
        [0, 15],
        [0, 1, 2, 3, 12, 13, 14, 15],
        list(range(8, 16)),
    ]


def test_double_width_and_height_scale_each_dot():
    p, engine = make()
    feed(p, GS + b"v0\x03\x01\x00\x01\x00" + b"\x81")
    assert len(engine.lines) == 2
    assert engine.columns(0) == engine.columns(1) == [0, 1, 14, 15]


def test_centred_and_right_justified_images():
    p, engine = make()
    feed(p, ESC + b"a\x01" + GS + b"v0\x00\x01\x00\x01\x00\x80" + ESC + b"a\x02")
    feed(p, GS + b"v0\x00\x01\x00\x01\x00\x01")
    assert engine.columns(0) == [188] and engine.columns(1) == [383]


class CountingEngine:
    """An engine that keeps the first dot line and counts the rest, allocating nothing."""

    def __init__(self):
        self.first = bytearray(48)
        self.lines = 0
        self.room = 256

    def free(self):
        return self.room

    def push_line(self, buf, offset):
        if not self.lines:
            for k in range(48):
                self.first[k] = buf[offset + k]
        self.lines += 1

    def feed(self, dots):
        pass


def test_a_huge_image_clips_to_the_paper_and_streams_without_allocating():
    font = Font(FONT_A)
    engine = CountingEngine()
    layout = Layout(font, engine, 96)
    p = Parser(layout, Graphics(layout, engine, font, None, qr_max_version=1))
    header = bytearray(GS + b"v0\x00\xff\xff\xff\xff")
    data = bytearray(b"\xaa" * 4096)
    p.feed(header, 0, len(header))
    micropython.heap_lock()
    try:
        for _ in range(64):  # 256 KiB: four rows of 65535 bytes
            assert p.feed(data, 0, len(data)) == len(data)
    finally:
        micropython.heap_unlock()
    assert engine.lines == 4
    assert engine.first == b"\xaa" * 48  # 48 of 65535 bytes a row reach the paper


def test_esc_star_24_dot_columns_join_the_text_line():
    p, engine = make()
    # 2 columns, 24 dots each: first all dark, second only its top dot.
    feed(p, ESC + b"*\x21\x02\x00" + b"\xff\xff\xff" + b"\x80\x00\x00" + b"\n")
    assert engine.columns(0) == [0, 1]
    assert all(engine.columns(r) == [0] for r in range(1, 24))


def _clean(path):
    try:
        for name in os.listdir(path):
            os.remove(path + "/" + name)
    except OSError:
        pass


def test_an_nv_logo_survives_a_new_module_on_the_same_flash():
    _clean(FLASH)
    p, _ = make(FLASH)
    # GS ( L fn 67: key "AB", 16 x 2 dots, then FS q with one 8 x 8 image.
    define = GS + b"(L\x0f\x000C0AB\x01\x10\x00\x02\x001" + b"\xff\x00\x00\xff"
    feed(p, define + FS + b"q\x01\x01\x00\x01\x00" + b"\x80" * 8)
    p2, engine = make(FLASH)  # a reboot: everything in RAM is new
    feed(p2, GS + b"(L\x06\x000EAB\x01\x01" + FS + b"p\x01\x00")
    assert engine.columns(0) == list(range(8)) and engine.columns(1) == list(range(8, 16))
    assert [engine.columns(r) for r in range(2, 10)] == [list(range(8))] + [[]] * 7
    _clean(FLASH)


def test_barcodes_and_qr_codes_print_their_dot_lines_without_allocating():
    font = Font(FONT_A)
    engine = CountingEngine()
    layout = Layout(font, engine, 96)
    gfx = Graphics(layout, engine, font, None, qr_max_version=10)
    p = Parser(layout, gfx)
    codes = (
        GS + b"H\x03" + GS + b"kI\x0a{BTill-128",
        GS + b"(k\x03\x001C\x04" + GS + b"(k\x10\x001P0tillroll.test" + GS + b"(k\x03\x001Q0",
    )
    for data in codes:
        buf = bytearray(data)
        # The data is parsed and encoded up to its last byte; the symbol prints from there.
        p.feed(buf, 0, len(buf) - 1)
        before = engine.lines
        engine.room = 0  # a full queue: the symbol waits to print
        p.feed(buf, len(buf) - 1, len(buf))
        assert p.pending()
        engine.room = 256
        micropython.heap_lock()
        try:
            while p.pending():
                p.feed(buf, len(buf), len(buf))
        finally:
            micropython.heap_unlock()
        assert engine.lines > before + 40


def test_the_parser_stops_while_the_queue_is_full_and_resumes_where_it_stopped():
    p, engine = make()
    engine.slots = 100  # below the layout's high-water mark: the parser must wait
    data = bytearray(GS + b"v0\x00\x01\x00\x05\x00" + b"\x80\x40\x20\x10\x08")
    i = p.feed(data, 0, len(data))
    assert i < len(data) and len(engine.lines) <= 1
    engine.slots = 256
    while i < len(data):
        i = p.feed(data, i, len(data))
    assert [engine.columns(r) for r in range(5)] == [[0], [1], [2], [3], [4]]


def test_nv_logos_print_from_flash_without_allocating():
    _clean(FLASH)
    p, _ = make(FLASH)
    feed(p, GS + b"(L\x0f\x000C0AB\x01\x10\x00\x02\x001" + b"\xff\x00\x00\xff")
    feed(p, FS + b"q\x01\x01\x00\x01\x00" + b"\x80" * 8)
    font = Font(FONT_A)
    engine = CountingEngine()
    layout = Layout(font, engine, 96)
    p = Parser(layout, Graphics(layout, engine, font, LogoStore(FLASH), qr_max_version=1))
    for command in (GS + b"(L\x06\x000EAB\x01\x01", FS + b"p\x01\x00"):
        buf = bytearray(command)
        p.feed(buf, 0, len(buf) - 1)
        engine.room = 0  # a full queue: the logo waits to print
        p.feed(buf, len(buf) - 1, len(buf))
        assert p.pending()
        engine.room = 256
        micropython.heap_lock()
        try:
            while p.pending():
                p.feed(buf, len(buf), len(buf))
        finally:
            micropython.heap_unlock()
    assert engine.lines == 2 + 8
    _clean(FLASH)


def test_malformed_graphics_commands_never_crash_the_parser():
    # Valid graphics commands with bytes overwritten at pseudo-random places: whatever the
    # damage says, the parser prints or skips, and always finishes.
    valid = (
        GS + b"v0\x00\x02\x00\x04\x00" + b"\xf0\x0f" * 4 + b"\n"
        + GS + b"kI\x0a{BTill-128\n" + GS + b"k\x02400638133393\x00"
        + GS + b"(k\x03\x001C\x03" + GS + b"(k\x08\x001P0abcde" + GS + b"(k\x03\x001Q0"
        + ESC + b"*\x21\x02\x00" + b"\xff" * 6 + b"\n"
        + GS + b"(L\x0b\x000p0\x01\x011\x08\x00\x01\x00\xaa"
        + FS + b"q\x01\x01\x00\x01\x00" + b"\x80" * 8 + FS + b"p\x01\x00"
        + GS + b"(L\x0f\x000C0AB\x01\x10\x00\x02\x001\xff\x00\x00\xff"
        + GS + b"(L\x06\x000EAB\x01\x01" + GS + b"(L\x04\x000BAB"
    )  # fmt: skip
    font = Font(FONT_A)
    engine = CountingEngine()
    layout = Layout(font, engine, 96)
    p = Parser(layout, Graphics(layout, engine, font, LogoStore(FLASH), qr_max_version=10))
    seed = 12345
    for _ in range(400):
        stream = bytearray(valid)
        for _ in range(3):
            seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
            stream[seed % len(stream)] = (seed >> 8) & 0xFF
        i = 0
        while i < len(stream) or p.pending():
            i = p.feed(stream, i, len(stream))
    _clean(FLASH)
    assert engine.lines > 1000  # the damaged streams still printed most of their images and codes


def test_qr_picks_the_tightest_mode_so_digits_need_a_smaller_version():
    from tillroll.render.qr import QR

    qr = QR(25)
    found = []
    for data in (
        b"1234567890" * 20,
        (b"HELLO WORLD 1234" * 13)[:200],
        b"hello world " * 16 + b"12345678",
    ):
        assert len(data) == 200 and qr.encode(data, 200)
        found.append((qr.mode, qr.version))
    # 200 characters at level L: numeric 681 bits fit version 5 (108 data codewords),
    # alphanumeric 1113 bits version 7 (156), bytes 1612 bits version 9 (232).
    assert found == [(0, 5), (1, 7), (2, 9)]


def test_cheap_module_raster_rows_print_like_gs_v_0():
    p, engine = make()
    feed(p, b"\x12V\x01\x00" + b"\x80" + b"\x00" * 46 + b"\x01" + b"\x12*\x02\x01\xc0\x03")
    assert [engine.columns(r) for r in range(3)] == [[0, 383], [0, 1], [6, 7]]


def test_a_flash_that_cannot_be_written_drops_the_logo_not_the_receipt():
    p, engine = make("/proc/tillroll-no-flash")  # no directory can be made there
    define = GS + b"(L\x0f\x000C0AB\x01\x10\x00\x02\x001" + b"\xff\x00\x00\xff"
    feed(p, define + FS + b"q\x01\x01\x00\x01\x00" + b"\x80" * 8)
    feed(
        p, GS + b"(L\x06\x000EAB\x01\x01" + FS + b"p\x01\x00" + GS + b"v0\x00\x01\x00\x01\x00\x81"
    )
    assert [engine.columns(r) for r in range(len(engine.lines))] == [[0, 7]]


def test_esc_star_densities_scale_as_epson_defines_them():
    # One column, its top dot only: 8-dot modes print each dot 3 rows high; single density
    # prints it 2 dots wide.
    for m, data, rows, cols in (
        (0, b"\x80", 3, [0, 1]),
        (1, b"\x80", 3, [0]),
        (32, b"\x80\x00\x00", 1, [0, 1]),
        (33, b"\x80\x00\x00", 1, [0]),
    ):
        p, engine = make()
        feed(p, ESC + b"*" + bytes((m, 1, 0)) + data + b"\n")
        assert [engine.columns(r) for r in range(24)] == [cols] * rows + [[]] * (24 - rows), m


def test_esc_star_follows_the_line_justification_and_clips_at_the_right_edge():
    p, engine = make()
    feed(p, ESC + b"a\x01" + ESC + b"*\x21\x04\x00" + b"\x80\x00\x00" * 4 + b"\n")
    assert engine.columns(0) == [190, 191, 192, 193]
    p, engine = make()
    feed(p, ESC + b"*\x21\x90\x01" + b"\x80\x00\x00" * 400 + b"\n")  # 400 columns
    assert engine.columns(0) == list(range(384))


def test_gs_paren_l_graphics_scale_and_the_query_functions_print_nothing():
    p, engine = make()
    queries = (
        GS + b"(L\x02\x000\x30"  # fn 48: NV capacity (no reply channel yet)
        + GS + b"(L\x04\x000\x31\x33\x33"  # fn 49: dot density
        + GS + b"(L\x02\x000\x33"  # fn 51: remaining capacity
    )  # fmt: skip
    store = GS + b"(L\x0b\x000p0\x02\x021\x08\x00\x01\x00\x81"  # fn 112, bx = by = 2
    feed(p, queries + store + GS + b"(L\x02\x0002")  # then fn 50: print
    assert [engine.columns(r) for r in range(len(engine.lines))] == [[0, 1, 14, 15]] * 2


def test_gs_8_l_data_beyond_the_image_is_passed_over():
    p, engine = make()
    body = b"0p0\x01\x011\x08\x00\x01\x00" + b"\x18" + b"ZZZZ"  # 1 row, then 4 stray bytes
    feed(p, GS + b"8L" + bytes((len(body), 0, 0, 0)) + body + GS + b"v0\x00\x01\x00\x01\x00\x80")
    assert [engine.columns(r) for r in range(len(engine.lines))] == [[3, 4], [0]]


class DigestEngine(CountingEngine):
    """Keeps a SHA-256 of every dot line in order, not the lines."""

    def __init__(self, flaky=False):
        super().__init__()
        self.digest = hashlib.sha256()
        self.flaky = flaky  # the queue reads full on every third look
        self.looks = 0

    def free(self):
        self.looks += 1
        return 0 if self.flaky and self.looks % 3 == 0 else 256

    def push_line(self, buf, offset):
        self.digest.update(bytes(buf[offset : offset + 48]))
        self.lines += 1


def test_every_chunking_and_every_stop_prints_the_same_dot_lines():
    stream = (
        ESC + b"@" + ESC + b"a\x01" + b"Total\n"
        + GS + b"v0\x01\x02\x00\x03\x00" + b"\xf0\x0f\x81\x18\xaa\x55"
        + GS + b"h\x20" + GS + b"w\x02" + GS + b"H\x02" + GS + b"kI\x06{BTill"
        + GS + b"(k\x03\x001C\x02" + GS + b"(k\x08\x001P0hello" + GS + b"(k\x03\x001Q0"
        + ESC + b"*\x21\x02\x00" + b"\xf0\x0f\xff" * 2 + b"\n"
        + GS + b"8L\x0b\x00\x00\x000p0\x01\x011\x08\x00\x01\x00\x3c"
    )  # fmt: skip
    font = Font(FONT_A)
    whole = None
    for chunk, flaky in ((0, False), (1, False), (2, True), (3, False), (7, True), (64, True)):
        engine = DigestEngine(flaky)
        layout = Layout(font, engine, 96)
        p = Parser(layout, Graphics(layout, engine, font, None, qr_max_version=2))
        buf = bytearray(stream)
        step = chunk or len(buf)
        for start in range(0, len(buf), step):
            end = min(start + step, len(buf))
            i = start
            while i < end or p.pending():
                i = p.feed(buf, i, end)
        got = (engine.lines, engine.digest.digest())
        if whole is None:
            whole = got
            assert whole[0] > 100
        assert got == whole, chunk


def _qr(data, module, level=0):
    n = len(data) + 3
    return (
        GS + b"(k\x03\x001C" + bytes((module,)) + GS + b"(k\x03\x001E" + bytes((48 + level,))
        + GS + b"(k" + bytes((n & 0xFF, n >> 8)) + b"1P0" + data + GS + b"(k\x03\x001Q0"
    )  # fmt: skip


def test_qr_codes_back_to_back_parse_encode_and_print_with_the_heap_locked():
    # The whole GS ( k sequence of each code, up to the largest version (25) the module holds,
    # then a barcode: nothing allocates from the first byte to the last dot line.
    font = Font(FONT_A)
    engine = CountingEngine()
    layout = Layout(font, engine, 96)
    p = Parser(layout, Graphics(layout, engine, font, None, qr_max_version=25))
    stream = bytearray(
        ESC + b"a\x01" + _qr(b"https://example.com/r/42", 6, 1)
        + _qr(b"0123456789" * 30, 4, 3) + _qr(bytes(range(256)) * 4 + b"z" * 176, 3)
        + _qr(b"tillroll", 1, 2) + GS + b"H\x02" + GS + b"kI\x0a{BTill-128" + b"\n"
    )  # fmt: skip
    first = twice_second_locked(p, engine, stream)
    assert first > 117 * 3 + 29 * 6  # version 25 at module 3, version 3 at module 6


def test_every_symbology_fitted_to_the_paper_encodes_and_prints_with_the_heap_locked():
    # Code 128 too wide as sent (re-encoded in code set C), with no selector (the fewest
    # characters, then narrowed to 2 dots), too wide at every width (its text alone); the other
    # symbologies at module 6, narrowed; a Code 39 stop with text after it; an ESC Z QR code.
    font = Font(FONT_A)
    engine = CountingEngine()
    layout = Layout(font, engine, 96)
    p = Parser(layout, Graphics(layout, engine, font, None, qr_max_version=4))
    stream = bytearray(
        GS + b"w\x03" + GS + b"H\x02" + GS + b"kI\x12{B0123456789012345"
        + GS + b"kI\x0dTILLROLL-0042" + GS + b"kI\x21{BTILLROLL RECEIPT 2026-0042 CASH"
        + GS + b"w\x06" + GS + b"k\x02400638133393\x00" + GS + b"kB\x080425261" + b"4"
        + GS + b"kF\x0a0123456789" + GS + b"kG\x07A40156B" + GS + b"kH\x09Till-93 x"
        + GS + b"kE\x0b*TILL*after" + b"\n"
        + GS + b"Z\x02" + ESC + b"Z\x00M\x04\x08\x00tillroll" + b"\n"
    )  # fmt: skip
    first = twice_second_locked(p, engine, stream)
    assert first > 9 * 162


def _symbol_columns(qr, y, module, offset):
    return [
        offset + x * module + k for x in range(qr.size) if qr.dark(x, y) for k in range(module)
    ]


def test_qr_modules_of_1_and_16_dots_centre_and_shrink_to_fit_the_paper():
    for data, module, fitted in ((b"tillroll", 1, 1), (b"till", 16, 16), (b"x" * 30, 16, 15)):
        p, engine = make()
        feed(p, ESC + b"a\x01" + _qr(data, module))
        qr = p._gfx.qr
        width = qr.size * fitted
        assert width <= 384
        offset = (384 - width) >> 1
        top = 0
        while not engine.columns(top):
            top += 1
        assert len(engine.lines) >= top + qr.size * fitted
        for y in range(qr.size):
            want = _symbol_columns(qr, y, fitted, offset)
            for k in range(fitted):
                assert engine.columns(top + y * fitted + k) == want, (module, y, k)


def _pdf417(data, columns=0, module=3, level=None, ratio=None, truncated=0, rows=0, height=3):
    n = len(data) + 3
    out = GS + b"(k\x03\x000A" + bytes((columns,)) + GS + b"(k\x03\x000B" + bytes((rows,))
    out += GS + b"(k\x03\x000C" + bytes((module,)) + GS + b"(k\x03\x000D" + bytes((height,))
    if level is not None:
        out += GS + b"(k\x04\x000E0" + bytes((48 + level,))
    if ratio is not None:
        out += GS + b"(k\x04\x000E1" + bytes((ratio,))
    out += GS + b"(k\x03\x000F" + bytes((truncated,))
    return out + GS + b"(k" + bytes((n & 0xFF, n >> 8)) + b"0P0" + data + GS + b"(k\x03\x000Q0"


def test_pdf417_codes_back_to_back_parse_encode_and_print_with_the_heap_locked():
    # Text and byte compaction, ECC up to level 8 (a degree-512 generator), fixed and automatic
    # columns, truncated: nothing allocates from the first byte to the last dot line.
    font = Font(FONT_A)
    engine = CountingEngine()
    layout = Layout(font, engine, 96)
    gfx = Graphics(layout, engine, font, None, qr_max_version=1)
    p = Parser(layout, gfx)
    stream = bytearray(
        ESC + b"@" + ESC + b"a\x01" + _pdf417(b"https://example.com/r/42")
        + _pdf417(bytes(range(256)) * 3, module=2, level=2)
        + _pdf417(b"Tillroll 0042", module=2, level=8)
        + _pdf417(b"Mixed: 12.50 EUR; #42 {ok}\r\n" * 10, columns=5, module=2, truncated=1)
        + _pdf417(b"0123456789" * 40, module=3, ratio=3) + b"\n"
    )  # fmt: skip
    first = twice_second_locked(p, engine, stream)
    assert gfx.pdf417.row_count > 3 and first > 5 * 3 * 2 * 3 * 3


def test_a_pdf417_row_is_its_patterns_dot_for_dot():
    # "AB" at level 0: length, text codeword 1 (A = 0, B = 1), 2 ECC: 1 column, 4 rows; the start
    # pattern 81111113 and stop 711311121 frame it at 2 dots a module.
    p, engine = make()
    feed(p, _pdf417(b"AB", columns=1, module=2, level=0, height=2))
    pdf = p._gfx.pdf417
    assert (pdf.columns_used, pdf.row_count, pdf.width, pdf.module_used) == (1, 4, 86, 2)
    top = 0
    while not engine.columns(top):
        top += 1
    assert len(engine.lines) - top == 4 * 4  # 4 rows of 4 dot lines
    row = engine.columns(top)
    start = list(range(16)) + [18, 19, 22, 23, 26, 27]  # 8 dark, then 1 1 1 1 1 1, 3 light
    assert row[:22] == start and row[22] >= 34
    stop = [x - (86 - 18) * 2 for x in row if x >= (86 - 18) * 2]  # the last 18 modules
    assert stop == list(range(14)) + [16, 17, 24, 25, 28, 29, 34, 35]
    assert engine.columns(top) == engine.columns(top + 3) != engine.columns(top + 4)


def test_malformed_pdf417_settings_and_data_never_crash_and_text_goes_on():
    font = Font(FONT_A)
    engine = CountingEngine()
    layout = Layout(font, engine, 96)
    p = Parser(layout, Graphics(layout, engine, font, None, qr_max_version=1))
    for fn in range(64, 90):
        for n in (0, 1, 2, 3, 7, 8, 9, 30, 31, 48, 49, 56, 57, 90, 91, 255):
            feed(p, GS + b"(k\x03\x000" + bytes((fn, n)))
            feed(p, GS + b"(k\x04\x000" + bytes((fn, n & 0x31, n)))
            feed(p, GS + b"(k\x05\x000P0x" + bytes((n,)) + GS + b"(k\x03\x000Q0")
    for size in (0, 1, 2, 5, 600, 1023, 1024, 1025, 4000):  # up to and past the store
        feed(p, _pdf417(bytes(k & 0xFF for k in range(size)), module=2))
    feed(p, GS + b"(k\x02\x000Q" + GS + b"(k\x01\x000" + GS + b"(k\x00\x00")  # cut short
    before = engine.lines
    feed(p, ESC + b"@" + b"after\n")
    assert engine.lines > before
