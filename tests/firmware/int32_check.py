"""Viper integers are 32 bits on the RP2040 and 64 on the unix port: a value that wraps on the
chip passes here unseen. `install()` (mp_runner.py calls it on a 64-bit port, before any firmware
module is imported) makes `tillroll.native.load` wrap each viper function it compiles from a
`.vpy`: an argument or result annotated `int` or `uint` that a 32-bit word cannot hold as that
type raises Int32Error, naming the function and the value.

It sees what crosses between Python and viper code (arguments, results), not a value inside a
function that wraps and comes back in range; the chip runs those (tests/chip_target.py). The
cost is one Python call around each viper call, in tests only: the sim and the benchmarks load
the native code unwrapped.

The wrappers also note which `.vpy` modules had a function called (`called()`): that is how
tests/test_chip_target.py knows the chip's smoke tests run every module with native code.
"""

import gc

import tillroll.native as native

_INT_MIN = const(-0x80000000)
_INT_MAX = const(0x7FFFFFFF)
_UINT_MAX = const(0xFFFFFFFF)


class Int32Error(ValueError):
    pass


_called = {}  # .vpy path -> whether one of its viper functions was called


def called():
    """The .vpy files one of whose viper functions has been called."""
    return sorted(path for path, yes in _called.items() if yes)


def fits(kind: str, value) -> bool:
    """Whether `value` is the same as a 32-bit viper `kind` ('int' or 'uint') on the chip."""
    if not isinstance(value, int):
        return True  # an object viper passes through untouched
    if kind == "int":
        return _INT_MIN <= value <= _INT_MAX
    return 0 <= value <= _UINT_MAX


def _kind(annotation: str):
    annotation = annotation.strip()
    return annotation if annotation in ("int", "uint") else None


def signatures(source: str):
    """(name, [parameter kinds], result kind) of each viper function in `source`; a kind is
    'int', 'uint' or None (an object, a pointer, nothing)."""
    found = []
    lines = source.split("\n")
    i = 0
    while i < len(lines):
        if lines[i].strip() != "@micropython.viper":
            i += 1
            continue
        i += 1
        head = lines[i].strip()
        while not head.endswith(":") or head.count("(") != head.count(")"):
            i += 1
            head += " " + lines[i].strip()
        name = head[4 : head.index("(")].strip()
        params, _, rest = head[head.index("(") + 1 :].rpartition(")")
        kinds = []
        for p in params.split(","):
            if p.strip():
                annotation = p.split(":", 1)[1].split("=")[0] if ":" in p else ""
                kinds.append(_kind(annotation))
        result = _kind(rest.split("->", 1)[1].rstrip(":")) if "->" in rest else None
        found.append((name, kinds, result))
        i += 1
    return found


def _arg(w, i, value):
    kind = w[2][i]
    if kind is not None and not fits(kind, value):
        raise Int32Error("%s: argument %d is %d, not a 32-bit %s" % (w[1], i, value, kind))


def _result(w, value):
    _called[w[4]] = True  # the key is there since load(): nothing allocates
    kind = w[3]
    if kind is not None and not fits(kind, value):
        raise Int32Error("%s returned %d, not a 32-bit %s" % (w[1], value, kind))
    return value


def wrap(fn, name: str, kinds, result, path=""):
    """`fn` checked on its way in and out. One wrapper per arity, whose references are default
    arguments: a closure's call, or one with `*args`, would allocate (MicroPython copies a
    closure's cells and arguments to the heap past five), and the firmware's heap-locked and
    allocation tests must hold with the check on."""
    n = len(kinds)
    w = (fn, name, kinds, result, path)
    if n == 0:

        def checked(w=w):
            return _result(w, w[0]())
    elif n == 1:

        def checked(a, w=w):
            _arg(w, 0, a)
            return _result(w, w[0](a))

    elif n == 2:

        def checked(a, b, w=w):
            _arg(w, 0, a)
            _arg(w, 1, b)
            return _result(w, w[0](a, b))

    elif n == 3:

        def checked(a, b, c, w=w):
            _arg(w, 0, a)
            _arg(w, 1, b)
            _arg(w, 2, c)
            return _result(w, w[0](a, b, c))

    elif n == 4:

        def checked(a, b, c, d, w=w):
            _arg(w, 0, a)
            _arg(w, 1, b)
            _arg(w, 2, c)
            _arg(w, 3, d)
            return _result(w, w[0](a, b, c, d))

    elif n == 5:

        def checked(a, b, c, d, e, w=w):
            _arg(w, 0, a)
            _arg(w, 1, b)
            _arg(w, 2, c)
            _arg(w, 3, d)
            _arg(w, 4, e)
            return _result(w, w[0](a, b, c, d, e))

    elif n == 6:

        def checked(a, b, c, d, e, f, w=w):
            _arg(w, 0, a)
            _arg(w, 1, b)
            _arg(w, 2, c)
            _arg(w, 3, d)
            _arg(w, 4, e)
            _arg(w, 5, f)
            return _result(w, w[0](a, b, c, d, e, f))

    elif n == 7:

        def checked(a, b, c, d, e, f, g, w=w):
            _arg(w, 0, a)
            _arg(w, 1, b)
            _arg(w, 2, c)
            _arg(w, 3, d)
            _arg(w, 4, e)
            _arg(w, 5, f)
            _arg(w, 6, g)
            return _result(w, w[0](a, b, c, d, e, f, g))

    elif n == 8:

        def checked(a, b, c, d, e, f, g, h, w=w):
            _arg(w, 0, a)
            _arg(w, 1, b)
            _arg(w, 2, c)
            _arg(w, 3, d)
            _arg(w, 4, e)
            _arg(w, 5, f)
            _arg(w, 6, g)
            _arg(w, 7, h)
            return _result(w, w[0](a, b, c, d, e, f, g, h))

    elif n == 9:

        def checked(a, b, c, d, e, f, g, h, i, w=w):
            _arg(w, 0, a)
            _arg(w, 1, b)
            _arg(w, 2, c)
            _arg(w, 3, d)
            _arg(w, 4, e)
            _arg(w, 5, f)
            _arg(w, 6, g)
            _arg(w, 7, h)
            _arg(w, 8, i)
            return _result(w, w[0](a, b, c, d, e, f, g, h, i))

    elif n == 10:

        def checked(a, b, c, d, e, f, g, h, i, j, w=w):
            _arg(w, 0, a)
            _arg(w, 1, b)
            _arg(w, 2, c)
            _arg(w, 3, d)
            _arg(w, 4, e)
            _arg(w, 5, f)
            _arg(w, 6, g)
            _arg(w, 7, h)
            _arg(w, 8, i)
            _arg(w, 9, j)
            return _result(w, w[0](a, b, c, d, e, f, g, h, i, j))

    elif n == 11:

        def checked(a, b, c, d, e, f, g, h, i, j, k, w=w):
            _arg(w, 0, a)
            _arg(w, 1, b)
            _arg(w, 2, c)
            _arg(w, 3, d)
            _arg(w, 4, e)
            _arg(w, 5, f)
            _arg(w, 6, g)
            _arg(w, 7, h)
            _arg(w, 8, i)
            _arg(w, 9, j)
            _arg(w, 10, k)
            return _result(w, w[0](a, b, c, d, e, f, g, h, i, j, k))

    else:
        raise ValueError("%s: %d arguments; int32_check wraps up to 11" % (name, n))
    return checked


def load(module_file: str, scope: dict):
    """`tillroll.native.load`, with each viper function wrapped as the module's doc says."""
    path = module_file.rsplit(".", 1)[0] + ".vpy"
    with open(path) as f:
        source = f.read()
    exec(source, scope)
    _called[path] = False
    for name, kinds, result in signatures(source):
        scope[name] = wrap(scope[name], name, tuple(kinds), result, path)
    gc.collect()


def install():
    native.load = load
