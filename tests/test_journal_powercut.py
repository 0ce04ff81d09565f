"""Power-cut safety the way littlefs proves its own (tests/sweep.py, tests/firmware/powercut.py):
the whole simulated module runs a scenario of boots - two that build a history until the
journal's flash is full, one with receipts acknowledged by GS ( H, a paper-out in the middle of
one and a technician's reprint, a recovery boot, a last one - and loses power at a flash
program or erase, cleanly or torn in a shape drawn at random; the recovery boot is itself cut.
Then: the journal mounts healthy, every acknowledged receipt came out whole, none twice without
the COPY banners, and every print is, dot for dot on the lines latched into the head, the
print of the same bytes without a fault.

`make powercut` sweeps every cut point; here a sample drawn from a fixed seed runs for a fixed
time, and a deliberate bug shows the sweep can fail."""

from __future__ import annotations

from pathlib import Path

from sweep import ModuleSweep

_SAMPLE_S = 30


def test_power_cuts_sampled_from_a_fixed_seed_lose_and_duplicate_nothing(tmp_path: Path):
    sweep = ModuleSweep(tmp_path)
    sweep.sample(_SAMPLE_S, seed=1)
    figures = sweep.figures
    print(figures.report("module sample"))
    assert figures.first_cuts + figures.recovery_cuts > 0
    # the checks ran: prints were compared, acknowledgements looked for
    assert figures.compared > 0 and figures.acked > 0


def test_the_sweep_catches_a_commit_written_before_its_data(tmp_path: Path):
    # tests/firmware/bugs.py: the END record reaches flash before the receipt's last bytes.
    # Without a power cut the module works: its reference run passes.
    why = ModuleSweep(tmp_path, bug="commit-first").first_failure(budget_s=120)
    print(why)
    assert "bytes kept of the" in why, why  # the journal: a receipt shorter than its END
    sweep = ModuleSweep(tmp_path / "dots", bug="commit-first", health=False)
    why = sweep.first_failure(budget_s=120)
    print(why)
    assert "no receipt's print, dot for dot" in why, why  # and, on their own, the prints
