"""The ESC/POS parser: what reaches the layout, from whole streams and from any chunking."""

import micropython

from recorder import LayoutRecorder
from tillroll.escpos.parser import Parser

ESC = b"\x1b"
GS = b"\x1d"


def parse(data, chunk=None):
    out = LayoutRecorder()
    p = Parser(out)
    buf = bytearray(data)
    step = chunk or len(buf) or 1
    for start in range(0, len(buf), step):
        end = min(start + step, len(buf))
        assert p.feed(buf, start, end) == end
    return out


def test_text_and_line_feed_reach_the_layout():
    out = parse(b"AB\nC")
    assert out.text() == "ABC"
    assert out.calls[2] == ("print_line", 1)


def test_styles_are_passed_with_their_parameters():
    out = parse(ESC + b"a\x01" + ESC + b"E\x01" + ESC + b"-\x02" + ESC + b"!\x38" + GS + b"!\x11")
    assert out.commands() == [
        ("set_align", 1),
        ("set_emphasis", 1),
        ("set_underline", 2),
        ("set_print_mode", 0x38),
        ("set_char_size", 0x11),
    ]


def test_feeds_spacing_and_init():
    out = parse(ESC + b"d\x03" + ESC + b"J\x10" + ESC + b"3\x40" + ESC + b"2" + ESC + b"@")
    assert out.commands() == [
        ("print_line", 3),
        ("print_line", 0),
        ("feed_dots", 16),
        ("set_spacing", 64),
        ("default_spacing",),
        ("reset",),
    ]


def test_cut_forms_tear_off_with_their_feed():
    out = parse(GS + b"V\x00" + GS + b"V\x31" + GS + b"VA\x20" + GS + b"V\x42\x05")
    assert out.commands() == [("tear_off", 0), ("tear_off", 0), ("tear_off", 32), ("tear_off", 5)]


def test_every_chunking_gives_the_same_calls():
    stream = (
        ESC
        + b"@"
        + ESC
        + b"a\x01Total"
        + ESC
        + b"E\x01 9.40\n"
        + GS
        + b"(k\x03\x001C\x05"
        + GS
        + b"v0\x00\x02\x00\x02\x00ABCD"
        + b"end\n"
        + GS
        + b"VA\x10"
    )
    whole = parse(stream).calls
    for chunk in (1, 2, 3, 7, 64):
        assert parse(stream, chunk).calls == whole, chunk


def test_unknown_and_unprinted_commands_are_skipped_not_printed():
    data = (
        b"A"
        + GS
        + b"(k\x04\x001A2\x00"  # QR model: data bytes look printable
        + GS
        + b"v0\x00\x01\x00\x03\x00XYZ"  # 1 byte x 3 rows of raster
        + ESC
        + b"*\x21\x02\x00QQQQQQ"  # 24-dot bit image, 2 columns x 3 bytes
        + GS
        + b"k\x04CODE39\x00"  # barcode form A, NUL-terminated
        + GS
        + b"kI\x03{BX"  # barcode form B, length-prefixed
        + GS
        + b"8L\x03\x00\x00\x00abc"  # 32-bit length graphics
        + b"\x1c\x71\x01\x01\x00\x01\x00"
        + b"N" * 8  # FS q: one 8x8 NV image
        + ESC
        + b"&\x03\x41\x42\x02"
        + b"u" * 6
        + b"\x01"
        + b"v" * 3  # two user characters
        + ESC
        + b"D\x08\x10\x00"  # tab stops
        + b"\x10\x14\x01\x00\x01"  # DLE DC4 1 (pulse)
        + ESC
        + b"\x7f"  # no such ESC command
        + b"B"
    )
    assert parse(data).text() == "AB"


def test_a_huge_raster_header_streams_through_without_allocating():
    # GS v 0 announcing 65535 x 65535 bytes: the parser counts the data past in blocks.
    out = LayoutRecorder()
    p = Parser(out)
    header = bytearray(GS + b"v0\x00\xff\xff\xff\xff")
    data = bytearray(b"Z" * 4096)
    p.feed(header, 0, len(header))
    micropython.heap_lock()
    try:
        for _ in range(64):  # 256 KiB of image data
            p.feed(data, 0, len(data))
    finally:
        micropython.heap_unlock()
    assert out.text() == ""


def test_garbage_never_stops_text_for_long():
    # An unterminated barcode gives up after its longest legal length; text after it prints.
    data = GS + b"k\x04" + b"1" * 300 + b"\nafter\n"
    text = parse(data).text()
    assert text.endswith("after"), text


def test_a_busy_layout_stops_parsing_after_the_line():
    out = LayoutRecorder()
    out.full = True
    p = Parser(out)
    buf = bytearray(b"one\ntwo\n")
    stop = p.feed(buf, 0, len(buf))
    assert stop == 4
    assert out.text() == "one"
    out.full = False
    assert p.feed(buf, stop, len(buf)) == len(buf)
    assert out.text() == "onetwo"
