"""Algorithm checks on small hand-made records, each metric against a hand-computed value."""
from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import pytest

from golive.model import Requirement, Status, Threshold
from golive.plugins.algorithm import (
    accuracy, backtest, confidence, edge_cases, ev_thresholds, institutional_size, mbo_pressure, patterns, priority,
    quality_setups, risk_reward, shadow_agreement, shadow_duration, signal_timing, volume_ratio,
)
from golive.plugins.records.common import standalone_context

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from examples.records_fixtures import write_csv  # noqa: E402


def req(*thresholds):
    return Requirement(id="PRE-ALGO-X", title="t", statement="", category="", priority="P1", plan_lines=(1, 1),
                       thresholds=tuple(thresholds))


def table(root, name, rows):
    cols = list(dict.fromkeys(k for r in rows for k in r))
    write_csv(root / "records" / f"{name}.csv", rows, cols)


def run(module, root, params=None, requirement=None):
    result = module.SPEC.func(requirement or req(), standalone_context(root, params or {}))
    json.dumps(result.details, default=str)
    return result


def value(metric):
    return getattr(metric, "value", metric)


def sig(n, day=2, minute=0, **kw):
    row = {"ts": f"2025-06-{day:02d}T14:{minute:02d}:00Z", "signal_id": f"S{n}", "symbol": "ESM5", "strategy": "ifd",
           "mode": "shadow", "direction": "long", "emitted": "true"}
    row.update(kw)
    return row


def test_ev_thresholds_min_max_and_violations(tmp_path):
    table(tmp_path, "signals", [sig(1, ev="20.00", probability=0.7, risk="100"),
                                sig(2, minute=1, ev="15.50", probability=0.61, risk="150"),
                                sig(3, minute=2, ev="10", probability=0.9, risk="50", emitted="false")])
    r = run(ev_thresholds, tmp_path, requirement=req(Threshold("min_ev", ">=", 16, "USD")))
    assert str(value(r.metrics["min_ev"])) == "15.50"  # the rejected setup (ev 10) does not count
    assert value(r.metrics["min_probability"]) == 0.61 and str(value(r.metrics["max_risk"])) == "150"
    assert r.metrics["signals"] == 2
    assert [v["signal_id"] for v in r.details["violations"]["min_ev"]["items"]] == ["S2"]


def test_quality_setups_counts_disagreements(tmp_path):
    rules = {"min_ev": 15, "min_probability": 0.6, "max_risk": 150}
    table(tmp_path, "signals", [sig(1, ev="20", probability=0.7, risk="100", quality="true"),
                                sig(2, minute=1, ev="14.99", probability=0.7, risk="100", quality="true"),
                                sig(3, minute=2, ev="30", probability=0.59, risk="100", quality="false",
                                    emitted="false")])
    r = run(quality_setups, tmp_path, {"rules": rules})
    assert r.metrics["quality_mismatches"] == 1 and r.metrics["emitted_non_quality"] == 1
    assert r.details["mismatched"]["items"][0]["signal_id"] == "S2"
    assert value(r.metrics["quality_share"]) == pytest.approx(1 / 3)


def test_risk_reward_recomputed_with_multiplier(tmp_path):
    table(tmp_path, "instruments", [{"symbol": "ESM5", "tick_size": "0.25", "multiplier": "50"}])
    # risk = |5300 - 5298| * 50 = 100; reward = |5304 - 5300| * 50 = 200; rr = 2; ev = 0.6*200 - 0.4*100 = 80
    table(tmp_path, "signals", [sig(1, entry_price="5300", stop_price="5298", target_price="5304", risk="100",
                                    reward="200", risk_reward=2.1, ev="80.00", probability=0.6),
                                sig(2, minute=1, entry_price="", stop_price="5298", target_price="5304", risk="100",
                                    reward="200", risk_reward=2, ev="80", probability=0.6)])
    r = run(risk_reward, tmp_path, requirement=req(Threshold("rr_max_error", "<=", 0.01)))
    assert r.metrics["rr_max_error"] == pytest.approx(0.1)
    assert value(r.metrics["risk_max_error"]) == 0 and value(r.metrics["ev_max_error"]) == 0
    assert r.metrics["incomplete_rows"] == 1
    assert r.details["beyond_tolerance"]["items"][0]["signal_id"] == "S1"


def test_risk_reward_unknown_instrument_is_bad_input(tmp_path):
    table(tmp_path, "instruments", [{"symbol": "NQM5", "tick_size": "0.25", "multiplier": "20"}])
    table(tmp_path, "signals", [sig(1, entry_price="1", stop_price="0.5", target_price="2", risk="25", reward="50",
                                    risk_reward=2, ev="1", probability=0.6)])
    r = run(risk_reward, tmp_path)
    assert r.status is Status.ERROR and "records/signals.csv: column 'symbol', row 1" in r.message


def test_edge_cases(tmp_path):
    table(tmp_path, "signals", [sig(1, risk="0", reward="10", probability=0.7, entry_price="1", stop_price="1",
                                    target_price="2"),
                                sig(2, minute=1, risk="10", reward="10", probability=1.0, entry_price="1",
                                    stop_price="", target_price="2", emitted="false"),
                                sig(3, minute=2, risk="10", reward="20", probability=0.7, entry_price="1",
                                    stop_price="0.5", target_price="2")])
    r = run(edge_cases, tmp_path)
    assert r.metrics["edge_cases"] == 2 and r.metrics["edge_cases_emitted"] == 1
    assert r.details["by_kind"] == {"zero_or_negative_risk": 1, "missing_price": 1, "probability_out_of_range": 1}


def test_mbo_pressure(tmp_path):
    # (70 - 30) / 100 = 0.4 recorded 0.41; short with buying pressure contradicts it
    table(tmp_path, "signals", [sig(1, buy_volume=70, sell_volume=30, mbo_pressure=0.41),
                                sig(2, minute=1, direction="short", buy_volume=60, sell_volume=40, mbo_pressure=0.2)])
    r = run(mbo_pressure, tmp_path)
    # no DBN data: the team's own arithmetic is reported, not judged (tests/test_shallow_mbo_recompute.py
    # covers the recomputation from events)
    assert r.status is Status.MISSING and "team figures only, not recomputed (no DBN data" in r.message
    assert r.details["team_arithmetic"]["recorded_pressure_vs_recorded_volumes_max_error"] == pytest.approx(0.01)


def _outcomes(root, rows):
    table(root, "outcomes", [{"signal_id": s, "ts_resolved": "2025-06-30T00:00:00Z", "correct": c,
                              "pnl": p, "pattern_truth": t} for s, c, p, t in rows])


def test_accuracy_window_and_wilson(tmp_path):
    table(tmp_path, "signals", [sig(1, day=2), sig(2, day=2, minute=1), sig(3, day=3), sig(4, day=3, minute=1),
                                sig(5, day=4), sig(6, day=4, minute=1), sig(7, day=4, minute=2)])
    _outcomes(tmp_path, [("S1", "false", "", ""), ("S2", "false", "", ""), ("S3", "true", "", ""),
                         ("S4", "true", "", ""), ("S5", "true", "", ""), ("S6", "false", "", "")])
    r = run(accuracy, tmp_path, {"window_days": 2})
    # last 2 days: S3, S4 right; S5 right, S6 wrong; S7 unresolved -> 3/4
    assert value(r.metrics["accuracy"]) == 0.75 and r.metrics["signals_evaluated"] == 4
    assert value(r.metrics["window_days"]) == 2 and r.metrics["unresolved_signals"] == 1
    assert value(r.metrics["accuracy_ci_low"]) == pytest.approx(0.300636, abs=1e-5)  # Wilson(3, 4)
    assert value(r.metrics["false_positive_rate"]) == 0.25


def test_pattern_recognition_confusion(tmp_path):
    table(tmp_path, "signals", [sig(1, pattern="institutional_flow"), sig(2, minute=1, pattern="market_making"),
                                sig(3, minute=2, pattern="institutional_flow"), sig(4, minute=3, pattern="none")])
    _outcomes(tmp_path, [("S1", "true", "", "institutional_flow"), ("S2", "false", "", "market_making"),
                         ("S3", "true", "", "market_making"), ("S4", "true", "", "")])
    r = run(patterns, tmp_path)
    assert r.metrics["episodes"] == 3 and value(r.metrics["pattern_accuracy"]) == pytest.approx(2 / 3)
    assert value(r.metrics["recall_market_making"]) == 0.5
    assert r.details["confusion_truth_by_predicted"]["market_making"] == {"market_making": 1, "institutional_flow": 1}


def test_confidence_calibration_hand_values(tmp_path):
    table(tmp_path, "signals", [sig(1, confidence=0.9), sig(2, minute=1, confidence=0.9),
                                sig(3, minute=2, confidence=0.6), sig(4, minute=3, confidence=0.6),
                                sig(5, minute=4, confidence=1.2)])
    _outcomes(tmp_path, [("S1", "true", "", ""), ("S2", "true", "", ""), ("S3", "false", "", ""),
                         ("S4", "true", "", ""), ("S5", "true", "", "")])
    r = run(confidence, tmp_path)
    # buckets 0.9: acc 1 vs 0.9 -> 0.1 * 2/4; 0.6: acc 0.5 vs 0.6 -> 0.1 * 2/4; ECE 0.1
    # Brier = (0.01 + 0.01 + 0.36 + 0.16) / 4 = 0.135
    assert value(r.metrics["calibration_error"]) == pytest.approx(0.1)
    assert r.metrics["brier_score"] == pytest.approx(0.135)
    assert r.metrics["confidence_out_of_range"] == 1


def test_volume_ratio_and_size(tmp_path):
    table(tmp_path, "signals", [sig(1, volume_ratio=2.5, window_volume=500, avg_volume=200, pattern="institutional_flow",
                                    notional="250000"),
                                sig(2, minute=1, volume_ratio=1.4, window_volume=280, avg_volume=200,
                                    pattern="institutional_flow", notional="99999.99")])
    r = run(volume_ratio, tmp_path, requirement=req(Threshold("min_volume_ratio", ">=", 1.5)))
    # no DBN data to recount the windows: the team's figures are shown, never passed
    assert r.status is Status.MISSING and "team figures only, not recomputed" in r.message
    assert r.details["team_figures"]["min_volume_ratio"] == 1.4
    assert r.details["team_figures"]["below_plan_minimum"]["items"] == [{"signal_id": "S2", "volume_ratio": 1.4}]
    r = run(institutional_size, tmp_path, requirement=req(Threshold("min_notional", ">=", 100000)))
    assert str(value(r.metrics["min_notional"])) == "99999.99"
    assert r.details["below_plan_minimum"]["items"][0]["signal_id"] == "S2"


def test_priority_rules_and_batch_order(tmp_path):
    rules = [{"priority": 1, "min_confidence": 0.85, "min_notional": 1000000},
             {"priority": 2, "min_confidence": 0.0}]
    table(tmp_path, "signals", [
        sig(1, confidence=0.9, notional="2000000", priority=1, batch_id="B1", seq=2),
        sig(2, confidence=0.9, notional="500000", priority=2, batch_id="B1", seq=1),
        sig(3, minute=5, confidence=0.95, notional="500000", priority=1, batch_id="", seq="")])
    r = run(priority, tmp_path, {"rules": rules})
    assert r.metrics["priority_mismatches"] == 1 and r.details["mismatches"]["items"][0]["signal_id"] == "S3"
    assert r.metrics["priority_order_inversions"] == 1
    assert r.details["inverted_batches"]["items"] == [{"batch_id": "B1", "signals_out_of_order": ["S2"]}]


def test_shadow_longest_run_over_weekend_and_holiday(tmp_path):
    # Thu 2025-06-12, Fri 13, Mon 16, Tue 17, (Wed 18 holiday), Thu 19 -> 5 trading days = 1 week
    days = [12, 13, 16, 17, 19, 23]
    table(tmp_path, "signals", [sig(i, day=d) for i, d in enumerate(days)])
    table(tmp_path, "orders", [{"ts": "2025-06-13T15:00:00Z", "order_id": "O1"}])
    r = run(shadow_duration, tmp_path, {"holidays": ["2025-06-18"]})
    assert value(r.metrics["shadow_duration"]) == 1.0 and r.metrics["shadow_trading_days"] == 6
    assert r.details["run"] == ["2025-06-12", "2025-06-19"] and r.metrics["shadow_orders"] == 1
    # Fri 13 is missing and no holiday: the run breaks, the first of two equal runs is kept
    assert shadow_duration.longest_run([date(2025, 6, 12), date(2025, 6, 16)], set()) == [date(2025, 6, 12)]


def test_shadow_agreement(tmp_path):
    table(tmp_path, "signals", [sig(1), sig(2, minute=10), sig(3, minute=20, direction="short")])
    table(tmp_path, "backtest_signals", [sig("B1", minute=0) | {"ts": "2025-06-02T14:00:30Z", "mode": "backtest"},
                                         sig("B2", minute=10) | {"ts": "2025-06-02T14:12:00Z", "mode": "backtest"},
                                         sig("B3", minute=20) | {"ts": "2025-06-02T14:20:05Z", "mode": "backtest"}])
    r = run(shadow_agreement, tmp_path, {"match_window_s": 60})
    # S1~B1 (30 s); S2 vs B2 is 120 s apart; S3 is short, B3 long -> 1 matched; 2 * 1 / 6
    assert r.metrics["matched"] == 1 and value(r.metrics["match_rate"]) == pytest.approx(1 / 3)
    assert r.details["live_only"]["items"] == ["S2", "S3"]


def test_signal_timing_percentiles(tmp_path):
    rows = [sig(i, minute=i) | {"market_event_ts": f"2025-06-02T14:{i:02d}:00Z",
                                "ts": f"2025-06-02T14:{i:02d}:00.{d:03d}Z"} for i, d in enumerate([10, 20, 30, 40])]
    table(tmp_path, "signals", rows)
    r = run(signal_timing, tmp_path)
    # nearest rank (the definition monitoring.latency uses too): an observed delay
    assert value(r.metrics["delay_p50"]) == pytest.approx(20) and value(r.metrics["delay_max"]) == pytest.approx(40)
    assert value(r.metrics["delay_p95"]) == pytest.approx(40)  # rank ceil(0.95 * 4) = 4
    assert r.metrics["delay_p50"].unit == "ms"


def test_backtest_span_and_weights(tmp_path):
    table(tmp_path, "backtest_signals", [sig("B1", day=1) | {"ts": "2024-12-02T14:00:00Z"},
                                         sig("B2") | {"ts": "2025-06-02T14:00:00Z"}])
    (tmp_path / "records" / "backtest.json").write_text(json.dumps(
        {"start": "2024-12-01", "end": "2025-06-02", "weights": {"a": 0.5, "b": 0.5}}))
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "algorithm_weights.yaml").write_text("weights: {a: 0.6, c: 0.4}\n")
    r = run(backtest, tmp_path, {"weights": "config/algorithm_weights.yaml"})
    assert value(r.metrics["history_span"]) == 182  # 2024-12-02 .. 2025-06-02
    assert r.metrics["weights_max_diff"] == pytest.approx(0.1) and r.metrics["weights_missing"] == 2
    (tmp_path / "config" / "algorithm_weights.yaml").write_text("weights: {a: high}\n")
    bad = run(backtest, tmp_path, {"weights": "config/algorithm_weights.yaml"})
    assert bad.status is Status.ERROR and "weight 'a' is 'high'" in bad.message
