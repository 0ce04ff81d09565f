"""A module with native code beside it, as the firmware's modules have: what
tests/firmware/mp_int32.py checks the int32 check (int32_check.py) with."""

from tillroll.native import load

load(__file__, globals())  # its viper functions: int32_sample.vpy
