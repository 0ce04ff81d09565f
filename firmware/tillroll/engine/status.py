"""What the engine knows about the mechanism, for status replies (DLE EOT, ASB) and the journal.

`flags` is a bit set; any of STOPS set means nothing is printing and the unprinted lines wait
in the queue. `line` is the dot line the current receipt has reached (printed and fed).
"""

PAPER_OUT = const(0x01)
COVER_OPEN = const(0x02)
OVERHEAT = const(0x04)  # head above its stop temperature; resumes below the resume one
NO_SUPPLY = const(0x08)  # no head supply at all
UNDERVOLTAGE = const(0x10)  # supply too far below the mechanism's range to print
LOW_SUPPLY = const(0x20)  # below the range: printing with fewer dots heated at once
HEAD_FAULT = const(0x40)  # a strobe drew (far) less current than its dots need: nothing printed
STOPS = const(0x5F)

NAMES = (
    (PAPER_OUT, "paper_out"),
    (COVER_OPEN, "cover_open"),
    (OVERHEAT, "overheat"),
    (NO_SUPPLY, "no_supply"),
    (UNDERVOLTAGE, "undervoltage"),
    (LOW_SUPPLY, "low_supply"),
    (HEAD_FAULT, "head_fault"),
)


class Status:
    def __init__(self):
        self.flags = 0
        self.line = 0  # dot lines of the current receipt done
        self.receipts = 0  # receipts finished
        self.head_c = 25
        self.supply_mv = 0

    def stopped(self) -> bool:
        return bool(self.flags & STOPS)

    def names(self):
        """The flags set, by name (allocates: for reports, not the print path)."""
        return [name for bit, name in NAMES if self.flags & bit]
