"""Runs firmware tests under MicroPython (never CPython): `micropython mp_runner.py MODULE [TEST]`.

Without TEST it lists the module's test functions, one a line. With TEST it runs that one and
prints PASS, or FAIL and the traceback; the exit status says the same. On the emulated chip the
runner (tests/chip_target.py) imports this module and calls `run(MODULE, TEST)`.

On a 64-bit port the viper code is checked for values a 32-bit chip would wrap first
(tests/firmware/int32_check.py).
"""

import io
import sys

if sys.maxsize > 0x7FFFFFFF:
    import int32_check

    int32_check.install()


def run(module_name, test_name):
    test = getattr(__import__(module_name), test_name)
    try:
        test()
    except Exception as e:
        buf = io.StringIO()
        sys.print_exception(e, buf)
        print("FAIL")
        print(buf.getvalue())
        return False
    print("PASS")
    return True


def main():
    if len(sys.argv) < 3:
        module = __import__(sys.argv[1])
        for name in dir(module):
            if name.startswith("test_"):
                print(name)
        return 0
    return 0 if run(sys.argv[1], sys.argv[2]) else 1


if __name__ == "__main__":
    sys.exit(main())
