"""One error family for the host tools: an expected failure is one clear line, not a traceback."""


class FatalError(RuntimeError):
    """A failure the user can act on; the CLI prints its message and exits with status 2."""
