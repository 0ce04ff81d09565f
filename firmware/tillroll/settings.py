"""Settings that survive a power cut, in a small file on the board's storage
(`board.settings_path`; none: kept in RAM only). Read at start, written on change.

density, speed   per cent of the mechanism's rated heat and speed (DC2 #, GS ( K, ESC 7)
chinese          the power-on character mode: 1 Chinese, GB18030 two-byte codes as after FS &
                 (the default, as on modules sold in China), 0 one-byte code pages (ESC t)
fit              1 (the default): a barcode, QR or PDF417 code too wide for the paper is fitted
                 to it; 0: it prints nothing, as on Epson printers
"""

_DEFAULTS = (("density", 100), ("speed", 100), ("chinese", 1), ("fit", 1))


def power_on(settings, name: str) -> int:
    """A setting's value, or its default when there is no settings store."""
    if settings is not None:
        return settings.values[name]
    for key, value in _DEFAULTS:
        if key == name:
            return value
    raise KeyError(name)


class Settings:
    def __init__(self, path, engine):
        self._path = path
        self._engine = engine
        self.values = {}
        for name, value in _DEFAULTS:
            self.values[name] = value
        self._load()
        self._apply()

    def _load(self):
        if not self._path:
            return
        try:
            with open(self._path) as f:
                for line in f:
                    name, _, value = line.strip().partition("=")
                    if name in self.values:
                        try:
                            self.values[name] = int(value)
                        except ValueError:
                            pass  # a torn line: keep the default
        except OSError:
            pass  # no settings yet

    def _save(self):
        if not self._path:
            return
        tmp = self._path + ".new"
        with open(tmp, "w") as f:
            for name, value in self.values.items():
                f.write("%s=%d\n" % (name, value))
        import os

        os.rename(tmp, self._path)  # atomic: the old file or the new one, never half

    def _apply(self):
        self._engine.set_density(self.values["density"])
        self._engine.set_speed(self.values["speed"])

    def set(self, name: str, value: int):
        if self.values.get(name) != value:
            self.values[name] = value
            self._apply()
            self._save()
