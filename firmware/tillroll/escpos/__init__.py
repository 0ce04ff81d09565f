"""ESC/POS: the streaming parser that turns a POS terminal's bytes into layout calls."""
