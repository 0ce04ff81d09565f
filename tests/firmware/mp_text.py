"""Text commands, dot for dot: fonts, print modes, positions, code pages, GB18030 and UTF-8."""

# heap: sim
# (these build several whole layouts with every font and the graphics; on a device the
# firmware's bytecode stays in flash, on the unix port it sits in the heap as well)

import gc
import io
import os
import struct

import deflate
import micropython

from recorder import EngineRecorder
from tillroll.escpos.parser import Parser
from tillroll.render.cjk import CjkFont
from tillroll.render.codepage import CodePages
from tillroll.render.font import Font
from tillroll.render.layout import Layout

FONTS = os.getenv("TILLROLL_FONTS")
ESC = b"\x1b"
GS = b"\x1d"
FS = b"\x1c"


def make():
    gc.collect()  # the last test's layout is garbage: give its band back before the next
    font_a = Font(FONTS + "/font_a_12x24.trf")
    font_b = Font(FONTS + "/font_b_9x17.trf")
    cjk = CjkFont(FONTS + "/cjk_24x24.tcj")
    pages = CodePages(FONTS + "/codepages.bin")
    engine = EngineRecorder()
    layout = Layout(font_a, engine, 96, font_b=font_b, cjk=cjk, pages=pages)
    return layout, engine, font_a, font_b, cjk


def send(data):
    """Print `data` (then LF); the layout, the recorded dot lines and the fonts."""
    layout, engine, font_a, font_b, cjk = make()
    buf = bytearray(data + b"\n")
    Parser(layout).feed(buf, 0, len(buf))
    return engine, font_a, font_b, cjk


def dots(glyph, w, h, dx=0):
    return [[x + dx for x in range(w) if glyph.pixel(x, y)] for y in range(h)]


def font_dots(font, cp, dx=0):
    return dots(font.load(cp), font.width, font.height, dx)


def cjk_dots(cjk, index, dx=0):
    return dots(cjk.load(index), 24, 24, dx)


def rows(engine):
    return [engine.columns(r) for r in range(len(engine.lines))]


def joined(*glyph_rows):
    """Glyph rows side by side (each already shifted), bottom-aligned."""
    h = max(len(g) for g in glyph_rows)
    out = [[] for _ in range(h)]
    for g in glyph_rows:
        for y, r in enumerate(g):
            out[h - len(g) + y] += r
    return [sorted(r) for r in out]


# ---- fonts and print modes -----------------------------------------------------------------


def test_font_b_is_9_by_17_and_esc_m_and_esc_bang_bit_0_select_it():
    for select in (ESC + b"M\x01", ESC + b"M1", ESC + b"!\x01"):
        engine, a, b, _ = send(select + b"Bg")
        assert (b.width, b.height) == (9, 17)
        assert len(engine.lines) == 17
        assert rows(engine) == joined(font_dots(b, ord("B")), font_dots(b, ord("g"), 9))


def test_font_b_fits_42_characters_a_line():
    engine, _, b, _ = send(ESC + b"M\x01" + b"x" * 43)
    assert [e for e in engine.events if e[0] == "feed"][0] == ("feed", 30 - 17)
    assert len(engine.lines) == 34  # the 43rd wrapped onto a second line


def test_reverse_prints_white_on_black_over_the_whole_cell():
    engine, a, _, _ = send(GS + b"B\x01" + b"T")
    g = font_dots(a, ord("T"))
    assert rows(engine) == [[x for x in range(12) if x not in r] for r in g]


def test_reverse_with_emphasis_and_spacing_fills_the_spacing_too():
    engine, a, _, _ = send(GS + b"B\x01" + ESC + b" \x02" + b"I")
    g = font_dots(a, ord("I"))
    assert rows(engine) == [[x for x in range(14) if x not in r] for r in g]


def test_upside_down_turns_the_line_180_degrees():
    engine, a, _, _ = send(ESC + b"{\x01" + b"Fp")
    upright = joined(font_dots(a, ord("F")), font_dots(a, ord("p"), 12))
    want = [sorted(383 - x for x in r) for r in reversed(upright)]
    assert rows(engine) == want


def test_upside_down_is_taken_only_at_the_start_of_a_line():
    engine, a, _, _ = send(b"F" + ESC + b"{\x01" + b"p")
    assert rows(engine) == joined(font_dots(a, ord("F")), font_dots(a, ord("p"), 12))


def test_rotation_turns_each_character_90_degrees_clockwise():
    engine, a, _, _ = send(ESC + b"V\x01" + ESC + b"-\x01" + b"L")
    g = a.load(ord("L"))
    assert len(engine.lines) == 12  # a 12 x 24 glyph lies 24 wide, 12 high
    want = [[] for _ in range(12)]
    for y in range(24):
        for x in range(12):
            if g.pixel(x, y):
                want[x].append(23 - y)
    assert rows(engine) == [sorted(r) for r in want]  # and not underlined


def test_rotated_double_height_widens_the_character():
    engine, a, _, _ = send(ESC + b"V\x01" + GS + b"!\x01" + b"L")
    assert len(engine.lines) == 12
    assert max(max(r) for r in rows(engine) if r) >= 24  # enlarged across the paper


def test_char_spacing_adds_dots_right_of_each_character_scaled_with_width():
    engine, a, _, _ = send(ESC + b" \x05" + b"ii")
    assert rows(engine) == joined(font_dots(a, ord("i")), font_dots(a, ord("i"), 17))
    engine, a, _, _ = send(ESC + b" \x05" + GS + b"!\x10" + b"ii")
    first = [min(r) for r in rows(engine) if r]
    assert max(max(r) for r in rows(engine) if r) - max(first) >= 34  # (12 + 5) x 2


def test_gs_size_up_to_8_by_8():
    engine, a, _, _ = send(GS + b"!\x77" + b"i")
    assert len(engine.lines) == 192
    g = font_dots(a, ord("i"))
    for y in range(192):
        want = [x * 8 + d for x in g[y // 8] for d in range(8)]
        assert engine.columns(y) == want, y


def test_one_and_two_dot_underline_under_the_cell_and_its_spacing():
    for n, thick in ((b"\x01", 1), (b"\x02", 2), (b"1", 1), (b"2", 2)):
        engine, a, _, _ = send(ESC + b" \x02" + ESC + b"-" + n + b" ")
        r = rows(engine)
        assert r[24 - thick :] == [list(range(14))] * thick
        assert not any(r[: 24 - thick])


def test_double_strike_and_emphasis_thicken_by_one_dot():
    for cmd in (ESC + b"E\x01", ESC + b"G\x01", ESC + b"!\x08"):
        engine, a, _, _ = send(cmd + b"l")
        g = font_dots(a, ord("l"))
        assert rows(engine) == [sorted(set(r) | set(x + 1 for x in r)) for r in g]


# ---- positions ---------------------------------------------------------------------------


def test_default_tabs_every_8_characters():
    engine, a, _, _ = send(b"a\tb\tc")
    want = joined(font_dots(a, ord("a")), font_dots(a, ord("b"), 96), font_dots(a, ord("c"), 192))
    assert rows(engine) == want


def test_esc_d_tab_positions_in_characters_of_the_current_width():
    engine, a, _, _ = send(ESC + b" \x02" + ESC + b"D\x03\x06\x00" + b"\ta\tb\tc")
    # 3 and 6 characters of 14 dots; no third tab: HT is ignored.
    want = joined(
        font_dots(a, ord("a"), 42), font_dots(a, ord("b"), 84), font_dots(a, ord("c"), 98)
    )
    assert rows(engine) == want


def test_esc_d_nul_clears_every_tab():
    engine, a, _, _ = send(ESC + b"D\x00" + b"\ta")
    assert rows(engine) == font_dots(a, ord("a"))


def test_absolute_and_relative_positions():
    engine, a, _, _ = send(ESC + b"$\x64\x00" + b"a" + ESC + b"\\\x0a\x00" + b"b")
    want = joined(font_dots(a, ord("a"), 100), font_dots(a, ord("b"), 122))
    assert rows(engine) == want
    engine, a, _, _ = send(ESC + b"$\x64\x00" + ESC + b"\\\xf6\xff" + b"a")  # -10
    assert rows(engine) == font_dots(a, ord("a"), 90)
    engine, a, _, _ = send(ESC + b"$\x80\x01" + b"a")  # 384: outside the area, ignored
    assert rows(engine) == font_dots(a, ord("a"))


def test_left_margin_and_print_area_width_wrap_and_justify_inside_the_area():
    engine, a, _, _ = send(GS + b"L\x30\x00" + GS + b"W\x60\x00" + b"abcdefghi")
    # 96 dots hold 8 characters from dot 48; the ninth wraps to the next line's margin.
    assert rows(engine)[:24] == joined(
        *[font_dots(a, c, 48 + 12 * i) for i, c in enumerate(b"abcdefgh")]
    )
    assert rows(engine)[24:] == font_dots(a, ord("i"), 48)
    engine, a, _, _ = send(GS + b"L\x30\x00" + GS + b"W\x60\x00" + ESC + b"a\x02" + b"x")
    assert rows(engine) == font_dots(a, ord("x"), 48 + 96 - 12)


def test_justification_and_margin_are_taken_only_at_the_start_of_a_line():
    engine, a, _, _ = send(b"x" + ESC + b"a\x02" + GS + b"L\x30\x00" + b"y")
    assert rows(engine) == joined(font_dots(a, ord("x")), font_dots(a, ord("y"), 12))


# ---- code pages and international sets ----------------------------------------------------


def test_code_pages_print_the_glyph_of_the_mapped_unicode_character():
    cases = (
        (b"\x00", 0xC9, 0x2554),  # PC437 box drawing: double down and right
        (b"\x00", 0xDB, 0x2588),  # PC437 full block
        (b"\x11", 0x9F, 0x042F),  # PC866 Cyrillic Ya
        (b"\x10", 0x80, 0x20AC),  # WPC1252 euro sign
        (b"\x12", 0xA5, 0x0105),  # PC852 a with ogonek
        (b"\x13", 0xD5, 0x20AC),  # PC858 euro sign
        (b"\x02", 0x9B, 0x00F8),  # PC850 o with stroke
        (b"\x03", 0x84, 0x00E3),  # PC860 a with tilde
        (b"\x04", 0x86, 0x00B6),  # PC863 pilcrow
        (b"\x05", 0xAF, 0x00A4),  # PC865 currency sign
        (b"\x01", 0x95, 0x2500),  # Katakana page: horizontal line (receiptline's rules)
        (b"\x01", 0x8F, 0x253C),  # Katakana page: cross
    )
    for page, byte, cp in cases:
        engine, a, _, _ = send(FS + b"." + ESC + b"t" + page + bytes([byte]))
        assert a.has(cp), hex(cp)
        assert rows(engine) == font_dots(a, cp), (page, hex(byte))


def test_gb18030_is_the_power_on_mode_pc437_the_one_byte_page_and_esc_at_restores_both():
    # Chinese at power-on, as modules sold in China start: GB18030 with no FS & first.
    engine, a, _, cjk = send(b"\xd6\xd0")
    assert rows(engine) == cjk_dots(cjk, cjk.unicode_index(ord("中")))
    # FS . and ESC t 17 (PC866) are undone by ESC @: Kanji mode again...
    engine, a, _, cjk = send(FS + b"." + ESC + b"t\x11" + ESC + b"@" + b"\xd6\xd0")
    assert rows(engine) == cjk_dots(cjk, cjk.unicode_index(ord("中")))
    # ... and PC437 once FS . leaves it; ESC t does not leave Kanji mode by itself.
    engine, a, _, _ = send(ESC + b"t\x11" + ESC + b"@" + FS + b"." + b"\xc9")
    assert rows(engine) == font_dots(a, 0x2554)
    engine, a, _, cjk = send(ESC + b"t\x11" + b"\xd6\xd0")
    assert rows(engine) == cjk_dots(cjk, cjk.unicode_index(ord("中")))


def test_the_one_byte_setting_starts_in_the_code_page_and_esc_at_returns_to_it():
    from tillroll.settings import Settings

    class Engine:
        def set_density(self, percent):
            pass

        def set_speed(self, percent):
            pass

    layout, engine, a, _, cjk = make()
    settings = Settings(None, Engine())
    settings.set("chinese", 0)
    layout.attach(settings, None)
    buf = bytearray(b"\xc9" + FS + b"&" + b"\xd6\xd0\n" + ESC + b"@" + b"\xc9\n")
    Parser(layout).feed(buf, 0, len(buf))
    want = joined(font_dots(a, 0x2554), cjk_dots(cjk, cjk.unicode_index(ord("中")), 12))
    assert rows(engine)[:24] == want
    assert rows(engine)[24:] == font_dots(a, 0x2554)  # after ESC @: one-byte again


def test_the_code_page_setting_is_the_table_at_power_on_and_after_esc_at():
    from tillroll.settings import Settings

    layout, engine, a, _, _ = make()
    settings = Settings(None)
    settings.pages = layout.codepages
    settings.set("chinese", 0)
    settings.set("code_page", 16)  # WPC1252: C9h is E acute
    layout.attach(settings, None)
    buf = bytearray(b"\xc9\n" + ESC + b"t\x00" + b"\xc9\n" + ESC + b"@" + b"\xc9\n")
    Parser(layout).feed(buf, 0, len(buf))
    got = rows(engine)
    assert got[:24] == font_dots(a, 0xC9)  # the setting's table from the start
    assert got[24:48] == font_dots(a, 0x2554)  # ESC t 0 (PC437) as sent
    assert got[48:] == font_dots(a, 0xC9)  # ESC @: the setting's table again
    try:
        settings.set("code_page", 99)
    except ValueError as e:
        assert str(e) == "code page 99: not on this module"
    else:
        raise AssertionError("a code page the module lacks was taken")


def test_international_sets_replace_their_twelve_characters():
    cases = (
        (0, b"#$@[\\]^`{|}~", "#$@[\\]^`{|}~"),
        (1, b"@[\\]{|}~", "à°ç§éùè¨"),
        (2, b"@[\\]{|}~", "§ÄÖÜäöüß"),
        (3, b"#", "£"),
        (4, b"[\\]{|}", "ÆØÅæøå"),
        (5, b"$@[\\]^`{|}~", "¤ÉÄÖÅÜéäöåü"),
        (6, b"[]`{|}~", "°éùàòèì"),
        (7, b"#[\\]{|", "₧¡Ñ¿¨ñ"),
        (8, b"\\", "¥"),
        (9, b"$@[\\]^`{|}~", "¤ÉÆØÅÜéæøåü"),
        (10, b"@[\\]^`{|}~", "ÉÆØÅÜéæøåü"),
    )
    for n, sent, printed in cases:
        engine, a, _, _ = send(ESC + b"R" + bytes([n]) + sent)
        want = joined(*[font_dots(a, ord(c), 12 * i) for i, c in enumerate(printed)])
        assert rows(engine) == want, n


# ---- GB18030 and UTF-8 -------------------------------------------------------------------


def test_gb18030_in_kanji_mode_prints_from_the_24x24_font():
    engine, a, _, cjk = send(FS + b"&" + b"\xd6\xd0\xce\xc4" + b"A")  # GB18030 "中文"
    zhong = cjk.unicode_index(ord("中"))
    assert zhong == (0xD6 - 0x81) * 190 + (0xD0 - 0x41)  # GBK order: found by arithmetic too
    want = joined(
        cjk_dots(cjk, zhong),
        cjk_dots(cjk, cjk.unicode_index(ord("文")), 24),
        font_dots(a, ord("A"), 48),
    )
    assert rows(engine) == want


def test_without_kanji_mode_high_bytes_go_through_the_code_page():
    engine, a, _, _ = send(FS + b"&" + FS + b"." + b"\xd6")
    assert rows(engine) == font_dots(a, 0x2553)  # PC437 0xD6


def test_kanji_print_modes_spacing_and_underline():
    engine, a, _, cjk = send(FS + b"&" + FS + b"S\x02\x04" + FS + b"-\x02" + b"\xd2\xbb")
    i = cjk.unicode_index(ord("一"))
    r = rows(engine)
    assert r[:22] == cjk_dots(cjk, i, 2)[:22]
    assert r[22:] == [list(range(30))] * 2  # 2 + 24 + 4, underlined
    engine, a, _, cjk = send(FS + b"&" + FS + b"!\x0c" + b"\xd2\xbb")
    assert len(engine.lines) == 48
    assert max(max(r) for r in rows(engine) if r) >= 24


# GBK-only hanzi (outside GB 2312), as CPython's codecs give them: (code point, GB18030 code).
# 們 說 這 個 麼 镕, the first and last hanzi of GBK/3 (丂 8140) and GBK/4 (狜 AA40, 﨩 FE4F),
# the last of the U+4E00-U+9FA5 block (龥 FD9B), and two in lead 0x87 and 0xE5.
GBK_ONLY = (
    (0x5011, b"\x82\x83"),
    (0x8AAA, b"\xd5\x66"),
    (0x9019, b"\xdf\x40"),
    (0x500B, b"\x82\x80"),
    (0x9EBC, b"\xfc\x4e"),
    (0x9555, b"\xe9\x46"),
    (0x4E02, b"\x81\x40"),
    (0x72DC, b"\xaa\x40"),
    (0xFA29, b"\xfe\x4f"),
    (0x9FA5, b"\xfd\x9b"),
    (0x56CD, b"\x87\xd6"),
    (0x934F, b"\xe5\x85"),
)


def test_gbk_hanzi_outside_gb2312_print_from_gb18030_codes_and_from_utf8_alike():
    codes = b"".join(code for _, code in GBK_ONLY)
    engine, a, _, cjk = send(FS + b"&" + codes)  # 12 hanzi, 288 dots: one line
    blank = [[]] * 24
    want = joined(
        *[cjk_dots(cjk, cjk.unicode_index(cp), 24 * i) for i, (cp, _) in enumerate(GBK_ONLY)]
    )
    assert rows(engine) == want
    fallback = cjk_dots(cjk, cjk.fallback)
    for cp, code in GBK_ONLY:
        i = cjk.unicode_index(cp)
        assert i == cjk.gb_index(code[0], code[1]), hex(cp)
        assert cjk_dots(cjk, i) not in (fallback, blank), hex(cp)
    utf8 = "".join(chr(cp) for cp, _ in GBK_ONLY).encode()
    engine, a, _, cjk = send(FS + b"(C\x02\x000\x02" + utf8)
    assert rows(engine) == want


def test_user_defined_cells_bad_trails_and_four_byte_codes_print_the_fallback_in_step():
    # AAA1: a user-defined cell; 81 7F: 0x7F is no trail byte; 81 30 81 30: four bytes.
    data = FS + b"&" + b"\xaa\xa1" + b"\x81\x7f" + b"\x81\x30\x81\x30" + b"Z"
    engine, a, _, cjk = send(data)
    box = [cjk_dots(cjk, cjk.fallback, 24 * i) for i in range(3)]
    want = joined(*box, font_dots(a, ord("Z"), 72))
    assert rows(engine) == want


def test_utf8_mode_prints_latin_from_font_a_and_cjk_from_the_24x24_font():
    data = FS + b"(C\x02\x000\x02" + "é€中".encode()
    engine, a, _, cjk = send(data)
    want = joined(
        font_dots(a, 0xE9),
        font_dots(a, 0x20AC, 12),
        cjk_dots(cjk, cjk.unicode_index(ord("中")), 24),
    )
    assert rows(engine) == want


def test_utf8_mode_off_again_with_m_1_and_bad_sequences_do_not_stall():
    data = FS + b"(C\x02\x000\x02" + b"\xe4\xb8" + b"A\xff" + FS + b"(C\x02\x000\x01" + b"\x80"
    engine, a, _, _ = send(data)
    want = joined(font_dots(a, ord("A")), font_dots(a, 0xFFFD, 12), font_dots(a, 0xC7, 24))
    assert rows(engine) == want


# ---- no allocation -----------------------------------------------------------------------


def test_printing_every_kind_of_character_allocates_nothing():
    layout, engine, _, _, _ = make()
    engine.push_line = lambda buf, offset: None  # the recorder itself allocates
    engine.feed = lambda dots: None
    parser = Parser(layout)
    line = bytearray(
        FS
        + b"."
        + ESC
        + b"t\x11"
        + b"\xc9\x8f"
        + ESC
        + b"M\x01"
        + b"Bb"
        + ESC
        + b"M\x00"
        + GS
        + b"B\x01"
        + b"R"
        + GS
        + b"B\x00"
        + ESC
        + b"V\x01"
        + b"V"
        + ESC
        + b"V\x00"
        + b"\t"
        + FS
        + b"&"
        + b"\xd6\xd0\xce\xc4"
        + FS
        + b"."
        + FS
        + b"(C\x02\x000\x02"
        + "é中".encode()
        + FS
        + b"(C\x02\x000\x01"
        + GS
        + b"!\x11"
        + b"W"
        + GS
        + b"!\x00"
        + b"\n"
        + ESC
        + b"{\x01"
        + ESC
        + b"a\x01"
        + b"up\n"
        + ESC
        + b"{\x00"
        + ESC
        + b"a\x00"
    )
    parser.feed(line, 0, len(line))  # warm the glyph caches and code paths once
    micropython.heap_lock()
    try:
        parser.feed(line, 0, len(line))
    finally:
        micropython.heap_unlock()


def test_esc_at_discards_the_unprinted_line():
    engine, a, _, _ = send(b"XYZ" + ESC + b"@" + b"i")
    assert rows(engine) == font_dots(a, ord("i"))


def _inflated_alone(path, index):
    """Glyph `index` from its block inflated by a DeflateIO of its own: the reference for the
    font's one shared decompressor."""
    with open(path, "rb") as f:
        head = f.read(24)
        per_block = head[7]
        blocks, wbits = struct.unpack_from("<HB", head, 16)
        count = struct.unpack_from("<H", head, 12)[0]
        b = index // per_block
        f.seek(24 + 4 * b)
        start, end = struct.unpack("<II", f.read(8))
        f.seek(24 + 4 * (blocks + 1) + 4 * count + start)
        z = f.read(end - start)
    block = deflate.DeflateIO(io.BytesIO(z), deflate.RAW, wbits).read(per_block * 72 + 1)
    assert len(block) == per_block * 72 + 1 and block[-1] == 0  # the glyphs, the sentinel
    i = index - b * per_block
    return block[72 * i : 72 * (i + 1)]


def test_glyphs_read_in_any_order_match_their_block_inflated_alone():
    path = FONTS + "/cjk_24x24.tcj"
    cjk = CjkFont(path)
    # Block boundaries (16 glyphs a block) across the grid, out of order, and U+4E00-U+9FA5
    # sampled every 499 code points.
    picks = []
    for b in (0, 1, 2, 7, 500, 499, 1000, 1200, 1496, 3, 1495):
        picks += [16 * b + 15, 16 * b, 16 * b + 1]
    picks = [i for i in picks if i < 23940]
    picks += [cjk.unicode_index(cp) for cp in range(0x4E00, 0x9FA6, 499)]
    for index in picks:
        assert index >= 0
        cjk.load(index)
        assert bytes(cjk.glyph_buf) == _inflated_alone(path, index), index
    cjk.forget()
    for index in reversed(picks):
        cjk.load(index)
        assert bytes(cjk.glyph_buf) == _inflated_alone(path, index), index


class _Counter:
    """An engine that only counts dot lines with ink (a recorder would allocate)."""

    def __init__(self):
        self.inked = 0

    def free(self):
        return 1000

    def push_line(self, buf, offset):
        for i in range(48):
            if buf[offset + i]:
                self.inked += 1
                break

    def feed(self, dots):
        pass

    def end_receipt(self):
        pass


def test_gbk_text_renders_with_the_heap_locked_even_when_every_glyph_is_inflated():
    gc.collect()
    cjk = CjkFont(FONTS + "/cjk_24x24.tcj")
    engine = _Counter()
    layout = Layout(Font(FONTS + "/font_a_12x24.trf"), engine, 96, cjk=cjk)
    parser = Parser(layout)
    gb = bytearray(FS + b"&" + b"".join(code for _, code in GBK_ONLY) + b"\n" + FS + b".")
    utf8 = bytearray(FS + b"(C\x02\x000\x02" + "們說這個麼镕\n".encode())
    cjk.forget()
    gc.collect()
    micropython.heap_lock()
    try:
        parser.feed(gb, 0, len(gb))
        cjk.forget()
        parser.feed(utf8, 0, len(utf8))
    finally:
        micropython.heap_unlock()
    assert engine.inked >= 40  # two lines of hanzi


def test_every_unicode_entry_of_the_cjk_font_is_found_and_others_are_not():
    cjk = CjkFont(FONTS + "/cjk_24x24.tcj")
    with open(FONTS + "/cjk_24x24.tcj", "rb") as f:
        head = f.read(16)
        count = head[12] | (head[13] << 8)
        f.seek(cjk._table_at)
        table = f.read(4 * count)
    last = 0
    for i in range(count):
        cp = table[4 * i] | (table[4 * i + 1] << 8)
        index = table[4 * i + 2] | (table[4 * i + 3] << 8)
        assert cjk.unicode_index(cp) == index, hex(cp)
        if cp > last + 1:
            assert cjk.unicode_index(cp - 1) == -1, hex(cp - 1)
        last = cp
    assert cjk.unicode_index(0xFFFF) == -1
    assert cjk.unicode_index(0x20) == -1


def test_random_text_commands_never_crash_and_esc_at_recovers():
    layout, engine, a, _, _ = make()
    engine.push_line = lambda buf, offset: None  # keep the recorder's memory small
    engine.feed = lambda dots: None
    parser = Parser(layout)
    # Text commands with random parameters, between random text bytes, from a fixed seed.
    prefixes = b"\x1b\x1d\x1c"
    text_commands = (
        [ESC + bytes([c]) for c in b" !$-23DEGJMRVadt{\\"]
        + [GS + bytes([c]) for c in b"!BLW"]
        + [FS + bytes([c]) for c in b"&.!-S"]
    )
    seed = 12345
    buf = bytearray(64)
    for _ in range(400):
        i = 0
        while i < 64:
            seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
            r = seed >> 8
            if r % 5 == 0 and i < 60:
                command = text_commands[(r >> 4) % len(text_commands)]
                buf[i] = command[0]
                buf[i + 1] = command[1]
                buf[i + 2] = (r >> 8) & 0xFF
                buf[i + 3] = (r >> 16) & 0xFF
                i += 4
            else:
                b = r & 0xFF
                buf[i] = 0x41 if b in prefixes or b == 0x10 or b == 0x12 else b
                i += 1
        parser.feed(buf, 0, len(buf))
    engine.lines = []
    del engine.push_line  # the recorder's own methods again
    del engine.feed
    end = bytearray(b"\x00" + ESC + b"@" + b"OK\n")  # end an open ESC D, then reset
    parser.feed(end, 0, len(end))
    want = joined(font_dots(a, ord("O")), font_dots(a, ord("K"), 12))
    assert rows(engine) == want


def test_a_line_feed_inside_a_two_byte_code_drops_its_lead_byte():
    engine, a, _, _ = send(FS + b"&" + b"\xd6\n" + b"AB")
    assert rows(engine) == joined(font_dots(a, ord("A")), font_dots(a, ord("B"), 12))


def test_utf8_mode_prints_ascii_as_it_is_whatever_the_international_set():
    engine, a, _, _ = send(ESC + b"R\x02" + FS + b"(C\x02\x000\x02" + b"[")
    assert rows(engine) == font_dots(a, ord("["))
    engine, a, _, _ = send(ESC + b"R\x02" + b"[")
    assert rows(engine) == font_dots(a, ord("Ä"))
