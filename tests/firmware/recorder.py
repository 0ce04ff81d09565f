"""Test doubles that record what the firmware asked for, for tests that look at one part."""


class LayoutRecorder:
    """Stands where the layout stands behind the parser; logs every call."""

    def __init__(self):
        self.calls = []
        self.full = False
        self.tabs = []
        self.settings = None  # no settings store, as a layout without one

    def busy(self):
        return self.full

    def text(self):
        """The printable characters received, as a str."""
        return "".join(chr(c[1]) for c in self.calls if c[0] == "char")

    def commands(self):
        return [c for c in self.calls if c[0] != "char"]

    def chars(self, buf, i, end):
        """A run of printable bytes, recorded one char call each, as the layout takes them."""
        while i < end and buf[i] >= 0x20:
            self.calls.append(("char", buf[i]))
            i += 1
        return i

    def clear_tabs(self):
        self.calls.append(("clear_tabs",))
        self.tabs = []

    def add_tab(self, n):
        """As the layout answers: False for a position not above the one before."""
        self.calls.append(("add_tab", n))
        if self.tabs and n <= self.tabs[-1]:
            return False
        self.tabs.append(n)
        return True

    def __getattr__(self, name):
        def record(*args):
            self.calls.append((name,) + args)

        return record


class EngineRecorder:
    """Stands where the engine stands behind the layout; keeps every dot line and feed."""

    def __init__(self, slots=256):
        self.lines = []  # bytes, 48 each
        self.events = []  # ("line", index) / ("feed", dots) / ("end",)
        self.slots = slots

    def free(self):
        return self.slots

    def push_line(self, buf, offset):
        self.events.append(("line", len(self.lines)))
        self.lines.append(bytes(buf[offset : offset + 48]))

    def feed(self, dots):
        self.events.append(("feed", dots))

    def end_receipt(self):
        self.events.append(("end",))

    def dot(self, row, x):
        return bool(self.lines[row][x >> 3] & (0x80 >> (x & 7)))

    def columns(self, row):
        """x of every black dot in a line."""
        return [x for x in range(384) if self.dot(row, x)]
