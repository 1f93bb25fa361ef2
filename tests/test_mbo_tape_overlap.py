"""Overlapping DBN files of one symbol are not summed (PRE-ALGO-08 / PRE-ALGO-12 recount).

A team may keep a day's file beside a re-downloaded hour of it. Counting a window's trades from
every file that holds the symbol counted those trades twice: recorded figures that match the
market were reported as off by the whole window volume. A window is counted from the first file
that covers it whole.
"""
from __future__ import annotations

import shutil

import pytest

from golive.plugins.algorithm import mbo_pressure, volume_ratio
from test_shallow_mbo_recompute import TAPE, run, signal, workspace


@pytest.mark.parametrize("copy_name", ["glbx-mbo-again.dbn.zst", "zz-backfill/glbx-mbo.dbn.zst"])
def test_a_second_copy_of_the_recording_changes_nothing(tmp_path, copy_name):
    sig = signal(1, 300, buy_volume=70, sell_volume=30, mbo_pressure=0.4, volume_ratio=0.642, window_volume=107,
                 avg_volume=166.667)
    root = workspace(tmp_path, [sig], TAPE)
    settings = {"ifd_window_s": 60, "ifd_baseline_windows": 3}
    once = (run(mbo_pressure, root, settings=settings), run(volume_ratio, root, settings=settings, rid="PRE-ALGO-12"))
    copy = root / "data" / copy_name
    copy.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(root / "data" / "glbx-mbo.dbn.zst", copy)
    twice = (run(mbo_pressure, root, settings=settings), run(volume_ratio, root, settings=settings, rid="PRE-ALGO-12"))
    assert len(twice[0].details["dbn_files"]) == 2
    assert twice[0].metrics["volume_max_error"].value == once[0].metrics["volume_max_error"].value == 0
    assert twice[1].metrics["window_volume_max_error"].value == once[1].metrics["window_volume_max_error"].value == 0
    assert twice[1].metrics["volume_ratio_max_error"].value == pytest.approx(once[1].metrics["volume_ratio_max_error"].value)
    assert twice[0].observed["events"] == once[0].observed["events"] == 4
