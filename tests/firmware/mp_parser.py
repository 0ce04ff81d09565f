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
        + GS
        + b"Z\x02"  # 2D symbol type: QR
        + ESC
        + b"Z\x00L\x06\x05\x00QRDAT"  # ESC Z v r k nL nH: 5 bytes of QR data
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


def test_a_busy_layout_stops_parsing_before_text_and_after_a_line():
    out = LayoutRecorder()
    p = Parser(out)
    buf = bytearray(b"one\ntwo\n")
    out.full = True  # no room for a line: no text starts
    assert p.feed(buf, 0, len(buf)) == 0
    assert out.text() == ""
    out.full = False
    assert p.feed(buf, 0, 4) == 4
    out.full = True  # the line filled the queue: the next text waits
    assert p.feed(buf, 4, len(buf)) == 4
    out.full = False
    assert p.feed(buf, 4, len(buf)) == len(buf)
    assert out.text() == "onetwo"
    assert ("print_line", 1) in out.calls


FS = b"\x1c"


def test_text_commands_reach_the_layout_with_their_parameters():
    out = parse(
        ESC
        + b"M\x01"
        + ESC
        + b" \x03"
        + ESC
        + b"$\x10\x01"
        + ESC
        + b"\\\xf0\xff"
        + ESC
        + b"t\x11"
        + ESC
        + b"R\x02"
        + ESC
        + b"V\x01"
        + ESC
        + b"{\x01"
        + GS
        + b"B\x01"
        + GS
        + b"L\x20\x00"
        + GS
        + b"W\x00\x01"
        + b"\t"
    )
    assert out.commands() == [
        ("set_font", 1),
        ("set_char_spacing", 3),
        ("set_position", 0x110),
        ("move", 0xFFF0),
        ("select_code_page", 17),
        ("select_international", 2),
        ("set_rotate", 1),
        ("set_upside_down", 1),
        ("set_reverse", 1),
        ("set_left_margin", 32),
        ("set_area_width", 256),
        ("tab",),
    ]
    assert out.text() == ""


def test_kanji_commands_reach_the_layout():
    out = parse(FS + b"&" + FS + b"!\x0c" + FS + b"-\x01" + FS + b"S\x02\x03" + FS + b".")
    assert out.commands() == [
        ("set_kanji_mode", True),
        ("set_kanji_print_mode", 0x0C),
        ("set_kanji_underline", 1),
        ("set_kanji_spacing", 2, 3),
        ("set_kanji_mode", False),
    ]


def test_fs_paren_c_function_48_selects_the_encoding_other_functions_are_skipped():
    out = parse(FS + b"(C\x02\x000\x02" + FS + b"(C\x03\x00<\x01\x02" + b"ok")
    assert out.commands() == [("set_encoding", 2)]
    assert out.text() == "ok"


def test_esc_d_sets_tabs_until_nul_or_a_position_out_of_order():
    out = parse(ESC + b"D\x02\x05\x00" + b"a" + ESC + b"D\x04\x03xy")
    assert out.commands() == [
        ("clear_tabs",),
        ("add_tab", 2),
        ("add_tab", 5),
        ("clear_tabs",),
        ("add_tab", 4),
        ("add_tab", 3),
    ]
    assert out.text() == "axy"  # out of order: ESC D ends, what follows is text


def test_panel_buttons_peripheral_and_kanji_font_commands_are_accepted_silently():
    out = parse(ESC + b"c5\x01" + ESC + b"=\x01" + FS + b"(A\x02\x000\x00" + FS + b"C1" + b"ok")
    assert out.commands() == []
    assert out.text() == "ok"
