"""PRE-ALGO-08 / PRE-ALGO-12: MBO pressure and volume ratio are recounted from DBN MBO events
and compared with the team's figures; without covering data they are "team figures only", not
a pass (issue 14)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from golive.model import Requirement, Status
from golive.plugins.algorithm import mbo_pressure, volume_ratio
from golive.plugins.feed.dbn_reader import MBO_DTYPE
from golive.plugins.records.common import standalone_context

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from examples.dbn_writer import write_records as write_dbn  # noqa: E402
from examples.records_fixtures import write_csv  # noqa: E402

T0 = 1_793_629_800_000_000_000  # 2026-11-02 14:30:00 UTC in ns
S = 1_000_000_000
ES, NQ = 1000, 1001


def trades(rows):
    """rows: (instrument, seconds after T0, size, aggressor side 'B'/'A'/'N'), plus a fill and an add
    per trade that must not be counted."""
    recs = np.zeros(len(rows) * 3, dtype=MBO_DTYPE)
    for k, (iid, sec, size, side) in enumerate(rows):
        for j, action in enumerate((b"A", b"T", b"F")):
            r = recs[3 * k + j]
            r["length"], r["rtype"], r["publisher_id"], r["instrument_id"] = MBO_DTYPE.itemsize // 4, 160, 1, iid
            r["ts_event"] = r["ts_recv"] = T0 + int(sec * S) + j
            r["order_id"], r["price"], r["size"] = 10 * k + j + 1, 6000 * 10**9, size
            r["action"], r["side"] = action, side if action == b"T" else (b"B" if side == b"A" else b"A")
    return recs


def workspace(root: Path, signals: list[dict], tape_rows=None, end_s: int = 600):
    cols = list(dict.fromkeys(k for r in signals for k in r))
    write_csv(root / "records" / "signals.csv", signals, cols)
    if tape_rows is not None:
        write_dbn(root / "data" / "glbx-mbo.dbn.zst", trades(tape_rows), {ES: "ESZ6", NQ: "NQZ6"},
                  start_ns=T0, end_ns=T0 + end_s * S)
    return root


def signal(n, at_s, **kw):
    from datetime import datetime, timezone

    ts = datetime.fromtimestamp((T0 + at_s * S) / 1e9, tz=timezone.utc).isoformat().replace("+00:00", "Z")
    row = {"ts": ts, "signal_id": f"S{n}", "symbol": "ESZ6", "strategy": "ifd", "mode": "shadow",
           "direction": "long", "emitted": "true", "market_event_ts": ts}
    return row | kw


def req(rid="PRE-ALGO-08"):
    return Requirement(id=rid, title="t", statement="", category="", priority="P1", plan_lines=(43, 43))


def run(module, root, params=None, settings=None, rid="PRE-ALGO-08"):
    ctx = standalone_context(root, params or {})
    ctx.settings = settings or {}
    return module.SPEC.func(req(rid), ctx)


# window (240, 300]: ES buys 30 + 40, sells 30; NQ and out-of-window trades must not count
TAPE = [(ES, 100, 500, b"B"), (ES, 250, 30, b"B"), (ES, 260, 30, b"A"), (ES, 299, 40, b"B"), (ES, 280, 7, b"N"),
        (NQ, 270, 999, b"A"), (ES, 300.5, 900, b"A")]


def test_pressure_recomputed_from_events_matches_and_flags_a_wrong_record(tmp_path):
    good = signal(1, 300, buy_volume=70, sell_volume=30, mbo_pressure=0.4)
    wrong = signal(2, 300, buy_volume=70, sell_volume=30, mbo_pressure=0.4, symbol="ESZ6", direction="short")
    root = workspace(tmp_path, [good, wrong], TAPE)
    r = run(mbo_pressure, root, settings={"ifd_window_s": 60})
    assert r.status is None and r.metrics["signals"] == 2 and r.metrics["signals_not_recomputed"] == 0
    assert r.metrics["pressure_max_error"].value == pytest.approx(0.0)
    assert r.metrics["direction_mismatches"] == 1  # short against (70-30)/100 = +0.4
    assert r.observed["events"] == 2 * 4 and r.observed["first"].startswith("2026-11-02T14:34:00")


def test_team_figures_consistent_with_themselves_but_not_with_the_events_fail(tmp_path):
    # the team's numbers agree with each other (0.9 = (95-5)/100) but the market said 0.4
    root = workspace(tmp_path, [signal(1, 300, buy_volume=95, sell_volume=5, mbo_pressure=0.9)], TAPE)
    r = run(mbo_pressure, root, params={"window_s": 60})
    assert r.metrics["pressure_max_error"].value == pytest.approx(0.5)
    assert r.metrics["volume_max_error"].value == 25
    assert r.details["team_arithmetic"]["recorded_pressure_vs_recorded_volumes_max_error"] == 0


def test_no_dbn_data_or_no_window_or_no_cover_is_team_figures_only(tmp_path):
    sig = signal(1, 300, buy_volume=70, sell_volume=30, mbo_pressure=0.4)
    root = workspace(tmp_path, [sig])
    r = run(mbo_pressure, root, settings={"ifd_window_s": 60})
    assert r.status is Status.MISSING and "team figures only, not recomputed (no DBN data" in r.message
    workspace(tmp_path, [sig], TAPE)
    r = run(mbo_pressure, root)
    assert r.status is Status.MISSING and "ifd_window_s" in r.message
    assert r.configure == "golive.toml [settings] ifd_window_s"
    late = signal(1, 900, buy_volume=70, sell_volume=30, mbo_pressure=0.4)  # after the data ends (600 s)
    workspace(tmp_path, [late], TAPE)
    r = run(mbo_pressure, root, settings={"ifd_window_s": 60})
    assert r.status is Status.MISSING and "no DBN data covers the windows" in r.message
    assert r.details["team_arithmetic"]["recorded_pressure_vs_recorded_volumes_max_error"] == 0


def test_volume_ratio_window_and_baseline_recounted(tmp_path):
    # window (240, 300]: 30 + 30 + 40 + 7 = 107; baseline windows (180, 240] and (120, 180] hold 0 and 0,
    # (60, 120] holds 500 -> with 3 baseline windows avg = 500 / 3
    sig = signal(1, 300, volume_ratio=0.642, window_volume=107, avg_volume=166.667)
    root = workspace(tmp_path, [sig], TAPE)
    r = run(volume_ratio, root, settings={"ifd_window_s": 60, "ifd_baseline_windows": 3}, rid="PRE-ALGO-12")
    assert r.metrics["window_volume_max_error"].value == 0
    assert r.metrics["volume_ratio_max_error"].value == pytest.approx(abs(107 / (500 / 3) - 0.642), abs=1e-6)
    assert r.details["average_from"] == "recounted: 3 windows before the signal's"
    team_avg = run(volume_ratio, root, settings={"ifd_window_s": 60}, rid="PRE-ALGO-12")
    assert team_avg.details["average_from"].startswith("team figure")
    assert team_avg.metrics["volume_ratio_max_error"].value == pytest.approx(abs(107 / 166.667 - 0.642), abs=1e-6)
    none = run(volume_ratio, workspace(tmp_path / "x", [sig]), settings={"ifd_window_s": 60}, rid="PRE-ALGO-12")
    assert none.status is Status.MISSING and "team figures only" in none.message
