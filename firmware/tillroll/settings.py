"""Settings that survive a power cut, in a small file on the board's storage
(`board.settings_path`; none: kept in RAM only). Read at start, written on change.

density, speed   per cent of the mechanism's rated heat and speed (DC2 #, GS ( K, ESC 7,
                 GS ( E customized values 5 and 6)
chinese          the power-on character mode: 1 Chinese, GB18030 two-byte codes as after FS &
                 (the default, as on modules sold in China), 0 one-byte code pages (ESC t)
fit              1 (the default): a barcode, QR or PDF417 code too wide for the paper is fitted
                 to it; 0: it prints nothing, as on Epson printers
code_page        the ESC t table selected at power-on and by ESC @ (one the module has)
copy_banner      1 (the default): a receipt printed again comes between copy banners (the
                 board's text, COPY); 0: a banner above it only (a copy is never unmarked)
flow             the serial line's flow control, from the next power-on: 0 none, 1 RTS/CTS
                 (the default), 2 XON/XOFF (uart_stream.py)
mechanism        the mechanism's profile, from the next power-on: 0 the board's own (the
                 default), 1 LTP02-245, 2 JX-2R-01, 3 PT486F-B
autoload         GS ( M fn 3: 1, the settings saved with GS ( M fn 1 are loaded at power-on
verify           a verification code at the foot of each receipt, before its tear-off
                 (journal/verify.py, docs/journal.md): 0 none (the default), 1 the code as
                 text, 2 the code as text and as a QR code
"""

# name, default, lowest, highest
_TABLE = (
    ("density", 100, 50, 150),
    ("speed", 100, 10, 100),
    ("chinese", 1, 0, 1),
    ("fit", 1, 0, 1),
    ("code_page", 0, 0, 255),
    ("copy_banner", 1, 0, 1),
    ("flow", 1, 0, 2),
    ("mechanism", 0, 0, 3),
    ("autoload", 0, 0, 1),
    ("verify", 0, 0, 2),
)
# The `mechanism` setting's profiles (boards/mechanisms), by value.
MECHANISMS = (None, "ltp02_245", "jx_2r_01", "pt486f_b")
SAVED = ".saved"  # GS ( M fn 1: the saved copy, next to the settings file


def power_on(settings, name: str) -> int:
    """A setting's value, or its default when there is no settings store."""
    if settings is not None:
        return settings.values[name]
    for row in _TABLE:
        if row[0] == name:
            return row[1]
    raise KeyError(name)


class Settings:
    def __init__(self, path, engine=None):
        self.path = path
        self._engine = None
        self.pages = None  # the code pages the module has (render/codepage.py), for checks
        self.values = {}
        for row in _TABLE:
            self.values[row[0]] = row[1]
        self.read(path)
        if self.values["autoload"] and path:
            self.read(path + SAVED)  # GS ( M fn 3: the saved settings at power-on
            self.values["autoload"] = 1
        if engine is not None:
            self.attach(engine)

    def attach(self, engine):
        """The engine density and speed go to (made after the mechanism is known)."""
        self._engine = engine
        self.apply()

    def read(self, path) -> bool:
        """Values from a settings file over those here; False if there is none."""
        if not path:
            return False
        try:
            with open(path) as f:
                for line in f:
                    name, _, value = line.strip().partition("=")
                    try:
                        self.check(name, int(value))
                        self.values[name] = int(value)
                    except ValueError:
                        pass  # a torn line, or a value this firmware refuses: keep the default
        except OSError:
            return False  # no settings yet
        return True

    def save(self, path=None):
        path = path or self.path
        if not path:
            return
        tmp = path + ".new"
        with open(tmp, "w") as f:
            for name, value in self.values.items():
                f.write("%s=%d\n" % (name, value))
        import os

        os.rename(tmp, path)  # atomic: the old file or the new one, never half

    def apply(self):
        if self._engine is not None:
            self._engine.set_density(self.values["density"])
            self._engine.set_speed(self.values["speed"])

    def check(self, name: str, value: int):
        """ValueError, in words a technician reads, for a name or value this module refuses."""
        for row in _TABLE:
            if row[0] == name:
                if not row[2] <= value <= row[3]:
                    raise ValueError("%s %d: from %d to %d" % (name, value, row[2], row[3]))
                pages = self.pages
                if name == "code_page" and pages is not None and not pages.has(value):
                    raise ValueError("code page %d: not on this module" % value)
                return
        raise ValueError("no setting %s; one of %s" % (name, ", ".join(sorted(self.values))))

    def set(self, name: str, value: int):
        self.check(name, value)
        if self.values.get(name) != value:
            self.values[name] = value
            self.apply()
            self.save()

    def set_all(self, values):
        """Several at once, all checked before any is set (the service link, GS ( E fn 2)."""
        for name in values:
            self.check(name, values[name])
        for name in values:
            self.set(name, values[name])

    def factory(self):
        for row in _TABLE:
            self.set(row[0], row[1])
