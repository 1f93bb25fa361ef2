"""A run prints no library deprecation noise on stderr (pandas 3.1 + exchange-calendars 4.13,
amplified by databento's import-time "always show DeprecationWarning" filter), whatever the
order the checks' threads import things in."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

GOLIVE = Path(sys.executable).parent / "golive"
WORKSPACE = Path(__file__).parent / "fixtures" / "reference-workspace"


def test_a_parallel_run_prints_no_deprecation_warnings():
    for _ in range(2):  # the filters raced between check threads: one run could pass by luck
        done = subprocess.run([str(GOLIVE), "run", "--target", str(WORKSPACE), "--no-evidence", "-q", "-j", "4"],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 1, done.stderr  # the workspace has gaps
        assert "Warning" not in done.stderr, done.stderr[-2000:]
