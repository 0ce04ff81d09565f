"""Text layout: Font A glyphs land on the dot lines where ESC/POS puts them."""

import os

import micropython

from recorder import EngineRecorder
from tillroll.render.font import Font
from tillroll.render.layout import Layout

FONT_A = os.getenv("TILLROLL_FONTS") + "/font_a_12x24.trf"


def make(tear_lines=96):
    font = Font(FONT_A)
    engine = EngineRecorder()
    return Layout(font, engine, tear_lines), engine, font


def glyph_rows(font, code):
    g = font.load(code)
    return [[x for x in range(font.width) if g.pixel(x, y)] for y in range(font.height)]


def printed_rows(engine, x0=0):
    return [[x - x0 for x in engine.columns(r)] for r in range(len(engine.lines))]


def test_font_a_is_12_by_24_and_holds_ascii_and_latin1_letters():
    font = Font(FONT_A)
    assert (font.width, font.height) == (12, 24)
    # Every ISO 8859-1 letter but 0xA0 (no-break space), which the source font lacks.
    for code in list(range(0x20, 0x7F)) + list(range(0xA1, 0x100)):
        assert font.has(code), hex(code)
    assert not font.has(0x4E00)  # CJK comes with its own font


def test_a_character_prints_its_glyph_dot_for_dot():
    layout, engine, font = make()
    layout.char(ord("A"))
    layout.print_line(1)
    assert len(engine.lines) == 24
    assert printed_rows(engine) == glyph_rows(font, ord("A"))
    assert engine.events[-1] == ("feed", 30 - 24)  # ESC 2 default spacing: 30 dots a line


def test_centre_and_right_justification_shift_the_line():
    for align, x0 in ((1, (384 - 24) // 2), (2, 384 - 24)):
        layout, engine, font = make()
        layout.set_align(align)
        layout.char(ord("H"))
        layout.char(ord("i"))
        layout.print_line(1)
        want = [
            a + b
            for a, b in zip(
                glyph_rows(font, ord("H")),
                [[x + 12 for x in r] for r in glyph_rows(font, ord("i"))],
            )
        ]
        assert printed_rows(engine, x0) == want, align


def test_gs_size_scales_each_dot():
    layout, engine, font = make()
    layout.set_char_size(0x21)  # width x3, height x2
    layout.char(ord("I"))
    layout.print_line(1)
    assert len(engine.lines) == 48
    g = glyph_rows(font, ord("I"))
    for y in range(48):
        want = [x * 3 + dx for x in g[y // 2] for dx in range(3)]
        assert printed_rows(engine)[y] == want, y


def test_taller_characters_share_the_bottom_line():
    layout, engine, font = make()
    layout.char(ord("_"))
    layout.set_char_size(0x01)
    layout.char(ord("_"))
    layout.print_line(1)
    assert len(engine.lines) == 48
    small = glyph_rows(font, ord("_"))
    for y in range(24):  # the small one sits in the lower half
        assert [x for x in printed_rows(engine)[24 + y] if x < 12] == small[y]


def test_emphasis_and_underline():
    layout, engine, font = make()
    layout.set_emphasis(1)
    layout.set_underline(2)
    layout.char(ord("l"))
    layout.print_line(1)
    rows = printed_rows(engine)
    g = glyph_rows(font, ord("l"))
    for y in range(22):  # emphasis: the glyph again, one dot to the right
        assert rows[y] == sorted(set(g[y]) | set(x + 1 for x in g[y])), y
    assert rows[22] == rows[23] == list(range(12))  # two-dot underline under the cell


def test_a_full_line_wraps():
    layout, engine, font = make()
    for _ in range(33):  # 32 Font A characters fit in 384 dots
        layout.char(ord("W"))
    layout.print_line(1)
    assert [e for e in engine.events if e[0] == "feed"] == [("feed", 6), ("feed", 6)]
    assert len(engine.lines) == 48


def test_empty_lines_feed_one_line_spacing_and_before_any_dots_wait_for_them():
    layout, engine, font = make()
    layout.set_spacing(50)
    layout.print_line(1)  # nothing printed yet: the paper waits for the receipt's first dots
    assert engine.events == []
    layout.char(ord("x"))
    layout.print_line(1)
    layout.print_line(3)
    feeds = [e for e in engine.events if e[0] == "feed"]
    assert engine.events[0] == ("feed", 50) and feeds == [
        ("feed", 50),
        ("feed", 26),
        ("feed", 150),
    ]


def test_a_blank_slip_between_two_cuts_feeds_no_paper_and_ends_no_receipt():
    layout, engine, font = make(tear_lines=80)
    layout.char(ord("x"))
    layout.tear_off()
    printed = list(engine.events)
    layout.print_line(1)  # a cut, a blank line and a cut again, as receiptio sends them
    layout.tear_off()
    layout.tear_off()
    assert engine.events == printed and printed[-2:] == [("feed", 80), ("end",)]


def test_tear_off_prints_the_pending_line_and_feeds_past_the_bar():
    layout, engine, font = make(tear_lines=80)
    layout.char(ord("x"))
    layout.tear_off(8)
    assert engine.events[-2:] == [("feed", 88), ("end",)]
    assert len(engine.lines) == 24
    assert not layout.has_content()


def test_printing_a_line_allocates_nothing():
    layout, engine, font = make()
    layout.set_char_size(0x11)
    engine.push_line = lambda buf, offset: None  # the recorder itself allocates
    engine.feed = lambda dots: None
    layout.char(ord("Q"))  # warm the glyph cache and the code paths once
    layout.print_line(1)
    micropython.heap_lock()
    try:
        for code in b"Tillroll 9.40":
            layout.char(code)
        layout.set_align(1)
        layout.print_line(1)
    finally:
        micropython.heap_unlock()
