"""Risk checks on small hand-made records, each metric against a hand-computed value."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from golive.model import Requirement, Status
from golive.plugins.records.common import standalone_context
from golive.plugins.risk import correlation, exposure, kill_switch, position_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from examples.records_fixtures import write_csv  # noqa: E402

REQ = Requirement(id="RISK-X", title="t", statement="", category="", priority="P1", plan_lines=(1, 1))


def write(root, name, rows):
    write_csv(root / "records" / f"{name}.csv", rows, list(dict.fromkeys(k for r in rows for k in r)))


def run(module, root, params=None):
    result = module.SPEC.func(REQ, standalone_context(root, params or {}))
    json.dumps(result.details, default=str)
    return result


def value(metric):
    return getattr(metric, "value", metric)


def snap(t, sym, qty, mark):
    return {"ts": f"2025-06-02T14:{t:02d}:00Z", "symbol": sym, "qty": qty, "mark_price": mark}


@pytest.fixture
def instruments(tmp_path):
    write(tmp_path, "instruments", [{"symbol": "ESM5", "tick_size": "0.25", "multiplier": "50"},
                                    {"symbol": "NQM5", "tick_size": "0.25", "multiplier": "20"}])
    return tmp_path


def test_position_limit_breach_duration_and_reduction(instruments):
    root = instruments
    write(root, "positions", [snap(0, "ESM5", 1, "5000"), snap(1, "ESM5", 3, "5000"), snap(2, "ESM5", 2, "5000"),
                              snap(3, "NQM5", -3, "20000")])
    write(root, "orders", [{"ts": "2025-06-02T14:01:10Z", "order_id": "O1", "symbol": "ESM5", "side": "sell", "qty": 1,
                            "order_type": "market", "status": "filled"}])
    r = run(position_limits, root, {"limits": {"default": 2}, "total_limit": 10})
    m = r.metrics
    # ESM5 over 2 from 14:01 to 14:02 (60 s), reducing sell 10 s after; NQM5 at -3 from 14:03, never back
    assert m["limit_breaches"] == 2 and m["unresolved_breaches"] == 1
    assert value(m["max_breach_duration"]) == 60 and value(m["max_reduction_delay"]) == 10
    assert m["breaches_without_reduction"] == 1 and value(m["max_limit_utilization"]) == 1.5


def test_total_limit(instruments):
    root = instruments
    write(root, "positions", [snap(0, "ESM5", 2, "5000"), snap(1, "NQM5", 2, "20000"), snap(2, "NQM5", 0, "20000")])
    r = run(position_limits, root, {"limits": {"default": 2}, "total_limit": 3})
    assert r.metrics["limit_breaches"] == 1 and value(r.metrics["max_breach_duration"]) == 60
    assert r.details["breaches"]["items"][0]["limit_on"] == "total"


def test_exposure_gross_and_net(instruments):
    root = instruments
    write(root, "positions", [snap(0, "ESM5", 2, "5000"), snap(1, "NQM5", -1, "20000")])
    write(root, "pnl", [{"date": "2025-06-02", "strategy": "ifd", "symbol": "ESM5", "realized": "-100", "unrealized": "20",
                         "fees": "5"}])
    r = run(exposure, root)
    # 2 * 5000 * 50 = 500,000 long; 1 * 20000 * 20 = 400,000 short -> gross 900,000, net 100,000
    assert value(r.metrics["max_gross_exposure"]) == 900000 and value(r.metrics["max_net_exposure"]) == 500000
    assert r.details["peak_net"]["ts"].startswith("2025-06-02 14:00")  # net peak before the short was added
    assert value(r.metrics["worst_daily_pnl"]) == -85  # -100 - 5 + 20


def test_kill_switch_drill(tmp_path):
    write(tmp_path, "orders", [
        {"ts": "2025-06-02T14:00:00Z", "order_id": "O1", "symbol": "ESM5", "side": "buy", "qty": 1,
         "order_type": "limit", "status": "cancelled", "ts_final": "2025-06-02T14:05:00.300Z"},
        {"ts": "2025-06-02T14:01:00Z", "order_id": "O2", "symbol": "ESM5", "side": "buy", "qty": 1,
         "order_type": "limit", "status": "working", "ts_final": ""},
        {"ts": "2025-06-02T14:05:00.100Z", "order_id": "O3", "symbol": "ESM5", "side": "buy", "qty": 1,
         "order_type": "market", "status": "filled", "ts_final": "2025-06-02T14:05:00.200Z"}])
    write(tmp_path, "positions", [snap(5, "ESM5", 1, "5000") | {"ts": "2025-06-02T14:05:00.200Z"}])
    write(tmp_path, "kill_switch_drills", [{"drill_id": "K1", "ts_triggered": "2025-06-02T14:05:00Z",
                                            "ts_completed": "2025-06-02T14:05:00.500Z", "kind": "drill"}])
    r = run(kill_switch, tmp_path)
    m = r.metrics
    assert m["drills"] == 1 and value(m["max_cancel_time"]) == pytest.approx(0.5)
    assert (m["orders_left_open"], m["orders_during_stop"], m["position_left"]) == (1, 1, 1)
    assert r.details["drills"][0]["slowest_cancels"] == [{"order_id": "O1", "cancel_s": 0.3}]


def test_kill_switch_completed_before_trigger_is_bad_input(tmp_path):
    write(tmp_path, "orders", [{"ts": "2025-06-02T14:00:00Z", "order_id": "O1", "symbol": "ESM5", "side": "buy",
                                "qty": 1, "order_type": "limit", "status": "cancelled"}])
    write(tmp_path, "kill_switch_drills", [{"drill_id": "K1", "ts_triggered": "2025-06-02T14:05:00Z",
                                            "ts_completed": "2025-06-02T14:04:00Z"}])
    r = run(kill_switch, tmp_path)
    assert r.status is Status.ERROR and "column 'ts_completed', row 1" in r.message


def test_correlation_flags_and_combined_exposure(instruments):
    root = instruments
    rows = []
    for day, (es, nq) in enumerate([("5000", "20000"), ("5050", "20200"), ("5000", "20000"), ("5100", "20400")], 2):
        rows += [{"ts": f"2025-06-0{day}T15:00:00Z", "symbol": "ESM5", "qty": 1, "mark_price": es},
                 {"ts": f"2025-06-0{day}T15:00:01Z", "symbol": "NQM5", "qty": 1, "mark_price": nq}]
    write(root, "positions", rows)
    r = run(correlation, root, {"min_correlation": 0.9})
    # NQ moves exactly 4x ES in points, the same percentage: correlation 1
    assert value(r.metrics["max_abs_correlation"]) == pytest.approx(1.0)
    assert r.metrics["correlated_pairs"] == 1
    # both long at the last marks: 5100 * 50 + 20400 * 20 = 255,000 + 408,000 = 663,000
    assert value(r.metrics["correlated_exposure_max"]) == 663000
