"""Runs firmware tests under MicroPython (never CPython): `micropython mp_runner.py MODULE [TEST]`.

Without TEST it lists the module's test functions, one a line. With TEST it runs that one and
prints PASS, or FAIL and the traceback; the exit status says the same.
"""

import io
import sys


def main():
    module = __import__(sys.argv[1])
    if len(sys.argv) < 3:
        for name in dir(module):
            if name.startswith("test_"):
                print(name)
        return 0
    test = getattr(module, sys.argv[2])
    try:
        test()
    except Exception as e:
        buf = io.StringIO()
        sys.print_exception(e, buf)
        print("FAIL")
        print(buf.getvalue())
        return 1
    print("PASS")
    return 0


sys.exit(main())
