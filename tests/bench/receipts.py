"""ESC/POS receipts the benchmarks print, built on the unix port itself."""

ESC = b"\x1b"
GS = b"\x1d"
FS = b"\x1c"

# "欢迎光临 谢谢惠顾 合计 人民币 找零 收银员 商品 数量 单价 金额" in GB18030
CHINESE_LINE = (
    b"\xbb\xb6\xd3\xad\xb9\xe2\xc1\xd9 \xd0\xbb\xd0\xbb\xbb\xdd\xb9\xcb \xba\xcf\xbc\xc6 "
    b"\xc8\xcb\xc3\xf1\xb1\xd2 \xd5\xd2\xc1\xe3 \xca\xd5\xd2\xf8\xd4\xb1 \xc9\xcc\xc6\xb7 "
    b"\xca\xfd\xc1\xbf \xb5\xa5\xbc\xdb \xbd\xf0\xb6\xee"
)


def text_receipt(items=40):
    out = bytearray(ESC + b"@" + ESC + b"a\x01" + GS + b"!\x11" + b"TILLROLL CAFE\n")
    out += GS + b"!\x00" + b"12 Harbour Street\n" + ESC + b"a\x00"
    for i in range(items):
        out += b"Item %02d flat white      %2d.%02d\n" % (i, 3 + i % 7, (i * 37) % 100)
    out += ESC + b"E\x01" + b"TOTAL EUR                 123.45\n" + ESC + b"E\x00"
    out += GS + b"V\x00"
    return out


def chinese_receipt(lines=30):
    out = bytearray(ESC + b"@" + FS + b"&")
    for _ in range(lines):
        out += CHINESE_LINE[:30] + b"\n"
    out += FS + b"." + GS + b"V\x00"
    return out


def chinese_varied_receipt(lines=30):
    """Every hanzi a different one (450 of them), half from GB 2312's first level, half from
    GBK/3 and GBK/4: no glyph comes from the font's cache, each costs a block inflated."""
    out = bytearray(ESC + b"@" + FS + b"&")
    k = 0
    for _ in range(lines):
        for _ in range(15):
            if k & 1:
                n = (k * 1237) % (32 * 190)  # GBK/3: leads 0x81-0xA0, trails 0x40-0xFE
                lead, trail = 0x81 + n // 190, 0x40 + n % 190
            else:
                n = (k * 739) % (39 * 94)  # GB 2312 level 1: leads 0xB0-0xD6
                lead, trail = 0xB0 + n // 94, 0xA1 + n % 94
            if trail >= 0x7F and lead < 0xA1:
                trail += 1  # 0x7F is no trail byte
            out += bytes((lead, trail))
            k += 1
        out += b"\n"
    out += FS + b"." + GS + b"V\x00"
    return out


def write_raster_logo(out, rows=384):
    """A 384 x rows checker-and-stripe logo through GS v 0, written to `out` a row at a time."""
    out.write(ESC + b"@" + GS + b"v0\x00" + bytes([48, 0, rows & 0xFF, rows >> 8]))
    row = bytearray(48)
    for y in range(rows):
        for x in range(48):
            row[x] = 0xF0 if (x + y // 16) % 2 else (0xAA if y % 4 < 2 else 0x55)
        out.write(row)
    out.write(GS + b"V\x00")


def raster_logo(rows=384):
    import io

    out = io.BytesIO()
    write_raster_logo(out, rows)
    return out.getvalue()


def qr_receipt(text=b"https://example.com/receipt/2026-11-25/000042?total=123.45&eur"):
    n = len(text) + 3
    out = bytearray(ESC + b"@" + ESC + b"a\x01")
    out += GS + b"(k\x04\x001A2\x00"  # model 2
    out += GS + b"(k\x03\x001C\x06"  # module size 6
    out += GS + b"(k\x03\x001E\x31"  # error correction M
    out += GS + b"(k" + bytes([n & 0xFF, n >> 8]) + b"1P0" + text
    out += GS + b"(k\x03\x001Q0"
    out += b"\nScan for your receipt\n" + GS + b"V\x00"
    return out


def pdf417_receipt(text=b"TILLROLL CAFE 2026-11-25 000042 TOTAL EUR 123.45 PAID CARD ****4242"):
    n = len(text) + 3
    out = bytearray(ESC + b"@" + ESC + b"a\x01")
    out += GS + b"(k\x03\x000A\x00"  # columns: automatic
    out += GS + b"(k\x03\x000C\x02"  # module width 2
    out += GS + b"(k\x04\x000E0\x33"  # error correction level 3
    out += GS + b"(k" + bytes([n & 0xFF, n >> 8]) + b"0P0" + text
    out += GS + b"(k\x03\x000Q0"
    out += b"\nKeep for returns\n" + GS + b"V\x00"
    return out


CASES = (
    ("text", text_receipt),
    ("chinese", chinese_receipt),
    ("chinese_varied", chinese_varied_receipt),
    ("raster_logo", raster_logo),
    ("qr", qr_receipt),
    ("pdf417", pdf417_receipt),
)
