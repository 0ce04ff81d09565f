"""Settings that survive a power cut: print density and speed, in a small file on the board's
storage (`board.settings_path`; none: kept in RAM only). Read at start, written on change."""

_DEFAULTS = (("density", 100), ("speed", 100))


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
