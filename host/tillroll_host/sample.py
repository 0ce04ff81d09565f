"""The sample shop receipt, sent with python-escpos as a POS integrator's code would send it."""

from __future__ import annotations

from escpos.printer import Network

# A 58 mm printer with a 384-dot head, as python-escpos knows it.
PROFILE = "ZJ-5870"

ITEMS = [("Flat white", "3.40"), ("Croissant", "2.90"), ("Orange juice", "3.10")]


def _row(left: str, right: str, width: int = 32) -> str:
    return left + " " * (width - len(left) - len(right)) + right + "\n"


def print_shop_receipt(printer) -> list[str]:
    """Print the sample receipt on `printer` (any python-escpos printer); return its lines of
    text as they should read on paper."""
    lines: list[str] = []

    def text(s: str):
        printer.text(s)
        lines.append(s.rstrip("\n").strip())

    printer.set(align="center", bold=True, double_height=True, double_width=True)
    text("TILLROLL CAFE\n")
    printer.set(align="center", normal_textsize=True)
    text("12 Harbour Street\n")
    text("Receipt 0042\n")
    printer.set(align="left")
    text("-" * 32 + "\n")
    for name, price in ITEMS:
        text(_row(name, price))
    text("-" * 32 + "\n")
    printer.set(bold=True, double_height=True)
    text(_row("TOTAL EUR", "9.40"))
    printer.set(align="center", normal_textsize=True, underline=1)
    text("Thank you, come again\n")
    printer.set(underline=0)
    printer.cut()
    return [line for line in lines if line.strip("-")]


def send_shop_receipt(port: int, host: str = "127.0.0.1") -> list[str]:
    """Send the sample receipt to a data port over TCP; return its expected lines."""
    printer = Network(host, port=port, timeout=10, profile=PROFILE)
    try:
        return print_shop_receipt(printer)
    finally:
        printer.close()
