"""Viper integers are 32 bits on the RP2040, 64 on the unix port. On the unix port the int32
check (int32_check.py, installed by mp_runner.py) stops a value that would wrap on the chip;
on the chip the same calls show the wrap it stands for."""

import sys

from int32_sample import add, low_half, scaled

_CHIP = sys.maxsize == 0x7FFFFFFF  # 32-bit: the emulated RP2040


def _caught(call, *args):
    from int32_check import Int32Error

    try:
        call(*args)
    except Int32Error as e:
        return str(e)
    return None


def test_a_viper_sum_that_wraps_on_the_chip_is_caught_here():
    assert add(0x7FFFFFFE, 1) == 0x7FFFFFFF  # fits: the same on both
    if _CHIP:
        assert add(0x7FFFFFFF, 1) == -0x80000000  # what the check stands for
    else:
        assert _caught(add, 0x7FFFFFFF, 1) == "add returned 2147483648, not a 32-bit int"


def test_an_argument_a_32_bit_word_cannot_hold_is_caught_here():
    if _CHIP:
        assert add(1 << 31, 0) == -0x80000000  # the argument wrapped on its way in
        assert low_half(1 << 32 | 5) == 5
    else:
        assert _caught(add, 1 << 31, 0) == "add: argument 0 is 2147483648, not a 32-bit int"
        assert _caught(low_half, -1) == "low_half: argument 0 is -1, not a 32-bit uint"
    assert low_half(0xFFFF0005) == 5  # a uint up to 2**32 - 1 is one


def test_a_value_that_wraps_inside_a_function_is_left_to_the_chip():
    # (3 << 20) * (3 << 20) is 9 << 40: 64 bits hold it, 32 bits keep none of it. The result
    # is in range either way, so the check cannot see it; the chip runs every viper module.
    if _CHIP:
        assert scaled(3 << 20, 3 << 20) == 0
    else:
        assert scaled(3 << 20, 3 << 20) == 9 << 24
