"""Business checks on small hand-made records, each metric against a hand-computed value."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from golive.model import Requirement, Status
from golive.plugins.business import (
    ab_test, attribution, event_days, performance, pnl_reconciliation, roi, scaling, win_loss,
)
from golive.plugins.records import stats
from golive.plugins.records.common import standalone_context

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from examples.records_fixtures import write_csv  # noqa: E402

REQ = Requirement(id="BIZ-X", title="t", statement="", category="", priority="P2", plan_lines=(1, 1))
PNL_COLS = ["date", "strategy", "symbol", "signal_type", "realized", "unrealized", "fees"]


def write(root, name, rows, cols=None):
    write_csv(root / "records" / f"{name}.csv", rows, cols or list(dict.fromkeys(k for r in rows for k in r)))


def run(module, root, params=None):
    result = module.SPEC.func(REQ, standalone_context(root, params or {}))
    json.dumps(result.details, default=str)
    return result


def value(metric):
    return getattr(metric, "value", metric)


def pnl_row(day, realized, fees="0", unrealized="0", strategy="ifd", symbol="ESM5", signal_type="institutional_flow"):
    return {"date": day, "strategy": strategy, "symbol": symbol, "signal_type": signal_type, "realized": realized,
            "unrealized": unrealized, "fees": fees}


def test_pnl_reconciliation_with_position_carried_overnight(tmp_path):
    write(tmp_path, "instruments", [{"symbol": "ESM5", "tick_size": "0.25", "multiplier": "50"}])
    write(tmp_path, "fills", [
        {"ts": "2025-06-02T14:00:00Z", "fill_id": "F1", "order_id": "O1", "symbol": "ESM5", "side": "buy", "qty": 1,
         "price": "5000", "fees": "2.25"},
        {"ts": "2025-06-03T14:00:00Z", "fill_id": "F2", "order_id": "O2", "symbol": "ESM5", "side": "sell", "qty": 1,
         "price": "5020", "fees": "2.25"}])
    write(tmp_path, "positions", [{"ts": "2025-06-02T14:00:00Z", "symbol": "ESM5", "qty": 1, "mark_price": "5000"},
                                  {"ts": "2025-06-02T20:00:00Z", "symbol": "ESM5", "qty": 1, "mark_price": "5010"},
                                  {"ts": "2025-06-03T14:00:00Z", "symbol": "ESM5", "qty": 0, "mark_price": "5020"}])
    # day 1: -5000*50 + 1*5010*50 = +500 open; day 2: 5020*50 - 5010*50 = +500, realised 1000 in total
    write(tmp_path, "pnl", [pnl_row("2025-06-02", "0", "2.25", "500"), pnl_row("2025-06-03", "1000", "2.25", "0")])
    r = run(pnl_reconciliation, tmp_path)
    assert r.metrics["pnl_mismatches"] == 0 and value(r.metrics["pnl_max_abs_diff"]) == 0
    write(tmp_path, "pnl", [pnl_row("2025-06-02", "0", "2.25", "500"), pnl_row("2025-06-03", "1000.01", "2.50", "0")])
    r = run(pnl_reconciliation, tmp_path)
    assert r.metrics["pnl_mismatches"] == 1 and value(r.metrics["pnl_max_abs_diff"]) == 0.01
    assert value(r.metrics["fees_max_abs_diff"]) == 0.25
    assert r.details["differences"]["items"][0]["gross_diff"] == "0.01"


def test_performance_sharpe_and_drawdown(tmp_path):
    write(tmp_path, "pnl", [pnl_row("2025-06-02", "12", "2"), pnl_row("2025-06-03", "-20"),
                            pnl_row("2025-06-04", "30")])
    r = run(performance, tmp_path, {"capital": 1000})
    # returns 10/1000, -20/1010, 30/990; mean 0.0068337, sd 0.0252022 -> 0.271155 * sqrt(252) = 4.30445
    assert r.metrics["sharpe"] == pytest.approx(4.30445, rel=1e-5)
    # equity 1000, 1010, 990, 1020: drawdown 20 from the 1010 peak = 1.980 %
    assert value(r.metrics["max_drawdown"]) == 20 and value(r.metrics["max_drawdown_pct"]) == pytest.approx(0.019802,
                                                                                                          rel=1e-4)
    assert r.details["drawdown"] == {"peak": "2025-06-02", "trough": "2025-06-03"}
    assert value(r.metrics["total_pnl"]) == 20 and r.metrics["trading_days"] == 3
    assert "sqrt(252)" in r.details["formula"]


def test_performance_needs_two_days(tmp_path):
    write(tmp_path, "pnl", [pnl_row("2025-06-02", "12")])
    assert run(performance, tmp_path, {"capital": 1000}).status is Status.MISSING


def _signals_and_outcomes(root, rows):
    write(root, "signals", [{"ts": f"2025-06-{d:02d}T14:{i:02d}:00Z", "signal_id": f"S{i}", "symbol": "ESM5",
                             "strategy": "ifd", "strategy_version": v, "mode": m}
                            for i, (d, v, m, _, _) in enumerate(rows)])
    write(root, "outcomes", [{"signal_id": f"S{i}", "ts_resolved": "2025-06-30T00:00:00Z", "correct": c, "pnl": p}
                             for i, (_, _, _, c, p) in enumerate(rows)])


def test_win_loss_ratio(tmp_path):
    _signals_and_outcomes(tmp_path, [(2, "v2", "live", "true", "100"), (2, "v2", "live", "false", "-50"),
                                     (3, "v2", "limited", "true", "200"), (3, "v2", "live", "false", "-25"),
                                     (4, "v2", "shadow", "true", "999")])
    r = run(win_loss, tmp_path)
    # wins 100, 200 (mean 150); losses 50, 25 (mean 37.5); shadow is not traded -> 4.0
    assert r.metrics["win_loss_ratio"] == 4.0 and r.metrics["trades"] == 4
    assert r.metrics["profit_factor"] == 4.0 and value(r.metrics["expectancy"]) == 56.25


def test_ab_test_uses_welch_and_two_proportions(tmp_path):
    rows = [(2, "A", "live", "true", "100"), (2, "A", "live", "false", "-50"), (2, "A", "live", "true", "80"),
            (3, "B", "live", "true", "120"), (3, "B", "live", "true", "150"), (3, "B", "live", "false", "-40")]
    _signals_and_outcomes(tmp_path, rows)
    r = run(ab_test, tmp_path, {"versions": ["A", "B"]})
    t, df, p = stats.welch_t([120, 150, -40], [100, -50, 80])
    assert r.metrics["ab_pnl_p_value"] == pytest.approx(p) and r.metrics["ab_samples_min"] == 3
    assert value(r.metrics["ab_mean_pnl_diff"]) == pytest.approx(230 / 3 - 130 / 3, abs=0.01)
    assert value(r.metrics["ab_accuracy_diff"]) == 0.0 and r.metrics["ab_accuracy_p_value"] == pytest.approx(1.0)


def test_roi_improvement(tmp_path):
    write(tmp_path, "pnl", [pnl_row("2025-06-02", "100"), pnl_row("2025-06-03", "200")])
    write(tmp_path, "baseline_v1_pnl", [pnl_row("2025-03-03", "110", "10"), pnl_row("2025-03-04", "100")], PNL_COLS)
    r = run(roi, tmp_path, {"capital": 100000})
    # mean 150 vs 100 per day -> +50 %; annualised ROI 150*252/100000 = 37.8 %
    assert value(r.metrics["roi_improvement"]) == pytest.approx(0.5)
    assert value(r.metrics["roi_current"]) == pytest.approx(0.378)


def test_attribution_against_outcomes(tmp_path):
    write(tmp_path, "pnl", [pnl_row("2025-06-02", "300", "4.50"),
                            pnl_row("2025-06-02", "-100", "4.50", strategy="ev", signal_type="")])
    write(tmp_path, "signals", [{"ts": "2025-06-02T14:00:00Z", "signal_id": "S1", "strategy": "ifd", "symbol": "ESM5"},
                                {"ts": "2025-06-02T15:00:00Z", "signal_id": "S2", "strategy": "ev", "symbol": "ESM5"}])
    write(tmp_path, "outcomes", [{"signal_id": "S1", "correct": "true", "pnl": "295.50"},
                                 {"signal_id": "S2", "correct": "false", "pnl": "-100"}])
    r = run(attribution, tmp_path)
    assert value(r.metrics["total_pnl"]) == 191 and r.metrics["unattributed_rows"] == 1
    # ev: -100 - 4.50 attributed vs -100 from outcomes
    assert r.metrics["attribution_mismatches"] == 1 and value(r.metrics["attribution_max_diff"]) == 4.5
    assert r.details["by_strategy"] == {"ev": "-104.50", "ifd": "295.50"}


def test_scaling_steps(tmp_path):
    write(tmp_path, "positions", [{"ts": "2025-06-02T14:00:00Z", "symbol": "ESM5", "qty": 2},
                                  {"ts": "2025-06-10T14:00:00Z", "symbol": "ESM5", "qty": -2},
                                  {"ts": "2025-06-11T14:00:00Z", "symbol": "ESM5", "qty": 3}])
    r = run(scaling, tmp_path, {"steps": [{"from": "2025-06-10", "max_contracts": 2}]})
    assert r.metrics["scaling_violations"] == 2 and value(r.metrics["max_step_utilization"]) == 2.0
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "scaling_steps.json").write_text(json.dumps({"steps": [{"from": "June", "max_contracts": 2}]}))
    bad = run(scaling, tmp_path)
    assert bad.status is Status.ERROR and "config/scaling_steps.json" in bad.message


def test_event_days_calendar_from_data(tmp_path):
    write(tmp_path, "instruments", [{"symbol": "ESM5", "tick_size": "0.25", "multiplier": "50",
                                     "expiration": "2025-06-20"}])
    # 2025-06-20 is the third Friday of June and ESM5's expiration; 2025-06-19 is a normal day
    _signals_and_outcomes(tmp_path, [(19, "v", "live", "true", "100"), (20, "v", "live", "false", "-50"),
                                     (20, "v", "live", "true", "30")])
    write(tmp_path, "positions", [{"ts": "2025-06-20T14:00:00Z", "symbol": "ESM5", "qty": 2},
                                  {"ts": "2025-06-20T19:00:00Z", "symbol": "ESM5", "qty": 1}])
    r = run(event_days, tmp_path)
    assert r.metrics["event_days"] == 1 and r.metrics["event_day_trades"] == 2
    assert value(r.metrics["event_day_win_rate"]) == 0.5 and value(r.metrics["other_day_win_rate"]) == 1.0
    assert value(r.metrics["event_day_mean_pnl"]) == -10
    assert r.metrics["event_day_max_position"] == 2 and r.metrics["held_into_expiry"] == 1
    assert event_days.third_friday(2025, 6).isoformat() == "2025-06-20"


def test_regime_classification_hand_values():
    from golive.plugins.business import regimes

    paths = {"d1": [100.0, 104.0, 103.0],   # range 4 % of open, drift 3 of 4 -> trending
             "d2": [100.0, 101.0, 100.0],   # range 1 %, drift 0 -> ranging
             "d3": [100.0, 98.0, 102.0]}    # range 4 %, drift 2 of 4 = 0.5 -> trending
    # median range 4 %: only ranges above it are high volatility
    assert regimes.classify(paths, 0.5) == {"d1": "low_vol/trending", "d2": "low_vol/ranging",
                                           "d3": "low_vol/trending"}
    paths["d4"] = [100.0, 110.0, 100.5]      # range 10 % -> high; drift 0.5 of 10 -> ranging
    assert regimes.classify(paths, 0.5)["d4"] == "high_vol/ranging"


def test_regimes_per_regime_performance(tmp_path):
    from golive.plugins.business import regimes

    rows = [(2, "v", "live", "true", "100"), (2, "v", "live", "false", "-50"), (3, "v", "live", "true", "30")]
    _signals_and_outcomes(tmp_path, rows)
    sig = [{"ts": f"2025-06-0{d}T14:0{i}:00Z", "signal_id": f"S{k}", "symbol": "ESM5", "strategy": "ifd",
            "strategy_version": "v", "mode": "live", "entry_price": px}
           for k, (d, i, px) in enumerate([(2, 0, "100"), (2, 1, "104"), (3, 2, "100"), (3, 3, "100.5")])]
    write(tmp_path, "signals", sig)
    r = run(regimes, tmp_path)
    # day 2: range 4 %, trending; day 3: range 0.5 %, trending -> median 2.25 %: day 2 high, day 3 low
    assert r.details["days"] == {"2025-06-02": "high_vol/trending", "2025-06-03": "low_vol/trending"}
    assert r.metrics["regimes_observed"] == 2
    assert value(r.metrics["worst_regime_mean_pnl"]) == 25 and value(r.metrics["worst_regime_win_rate"]) == 0.5


def test_event_days_ignores_expirations_after_the_records(tmp_path):
    write(tmp_path, "instruments", [{"symbol": "ESM5", "tick_size": "0.25", "multiplier": "50",
                                     "expiration": "2025-09-19"}])
    _signals_and_outcomes(tmp_path, [(19, "v", "live", "true", "100")])
    write(tmp_path, "positions", [{"ts": "2025-06-19T14:00:00Z", "symbol": "ESM5", "qty": 1}])
    r = run(event_days, tmp_path)
    assert r.metrics["held_into_expiry"] == 0 and r.metrics["event_days"] == 0


def test_reporting_periods_and_figures(tmp_path):
    from golive.plugins.business import reporting

    # Fri 2025-05-30 and Mon/Tue 2025-06-02/03: weeks of 05-26 and 06-02; months 05 and 06
    write(tmp_path, "pnl", [pnl_row("2025-05-30", "10"), pnl_row("2025-06-02", "20", "1"), pnl_row("2025-06-03", "5")])
    reports = [("day", "2025-05-30", "10"), ("day", "2025-06-02", "19"), ("week", "2025-05-26", "10"),
               ("week", "2025-06-02", "24.00"), ("month", "2025-05-01", "10"), ("month", "2025-06-01", "25")]
    write(tmp_path, "reports", [{"period": p, "period_start": s, "net_pnl": v} for p, s, v in reports])
    r = run(reporting, tmp_path)
    # day 2025-06-03 has no report; June is 19 + 5 = 24, not 25
    assert r.metrics["periods_expected"] == 7 and r.metrics["reports_missing"] == 1
    assert r.details["missing"]["items"] == [{"period": "day", "start": "2025-06-03"}]
    assert r.metrics["report_mismatches"] == 1 and r.details["mismatched"]["items"][0]["from_pnl"] == "24"


def test_release_testing(tmp_path):
    from golive.plugins.business import release_testing

    def s(n, day, mode, version):
        return {"ts": f"2025-06-{day:02d}T14:00:0{n}Z", "signal_id": f"S{n}{day}", "mode": mode,
                "strategy_version": version}
    write(tmp_path, "signals", [s(1, 2, "shadow", "v2"), s(2, 3, "live", "v2"), s(3, 3, "live", "v3"),
                                s(4, 4, "shadow", "v3"), s(5, 5, "live", "v4")])
    write(tmp_path, "backtest_signals", [s(1, 1, "backtest", "v2"), s(2, 1, "backtest", "v3")])
    r = run(release_testing, tmp_path)
    # v2: backtested, shadowed on the 2nd before live on the 3rd; v3 shadowed only after going live; v4 neither
    assert r.metrics["versions_live"] == 3
    assert r.details["without_shadow"] == ["v3", "v4"] and r.details["without_backtest"] == ["v4"]


def test_kpis_presence_flags_and_values(tmp_path):
    from golive.plugins.business import kpis

    write(tmp_path, "pnl", [pnl_row("2025-06-02", "100"), pnl_row("2025-07-01", "50")])
    _signals_and_outcomes(tmp_path, [(2, "v", "live", "true", "100"), (2, "v", "live", "false", "-50"),
                                     (3, "v", "live", "true", "30")])
    write(tmp_path, "costs", [{"date": "2025-06-02", "category": "data", "amount": "7.25"}])
    rows = [("2025-06-01", "accuracy", 0.666667, 0.75, "true"),   # 2/3 misses 0.75 but is flagged met
            ("2025-06-01", "cost", 7.0, 200, "true"),             # the costs say 7.25
            ("2025-07-01", "accuracy", 0.8, 0.75, "true")]
    write(tmp_path, "kpis", [{"period": "month", "period_start": s, "kpi": k, "value": v, "target": t, "met": m}
                             for s, k, v, t, m in rows])
    r = run(kpis, tmp_path, {"kpis": {"accuracy": ">=", "cost": "<="}})
    assert r.metrics["kpis_missing"] == 1 and r.details["missing"]["items"] == [{"period_start": "2025-07-01",
                                                                                 "kpi": "cost"}]
    assert r.metrics["kpi_flags_wrong"] == 1 and r.details["wrong_flag"]["items"][0]["kpi"] == "accuracy"
    assert r.metrics["kpi_values_mismatched"] == 1 and r.details["mismatched"]["items"][0]["recomputed"] == 7.25
