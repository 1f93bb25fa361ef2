"""The demo records: a clean set passes every records check, each injected fault is reported.

The checks run with the parameters and thresholds the plan gives them (kept here as ``CASES``,
mirrored by the ``check:`` blocks in ``requirements/``); thresholds are evaluated by the
engine's own ``golive.plan.thresholds.evaluate``, so the verdicts are the ones a run would give.
"""
from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

from golive.model import Requirement, Status, Threshold
from golive.plugins.records.common import standalone_context
from golive.plan.thresholds import evaluate

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from examples.records_fixtures import FAULTS, write_records  # noqa: E402

PRIORITY_RULES = [{"priority": 1, "min_confidence": 0.85, "min_notional": 1000000},
                  {"priority": 2, "min_confidence": 0.75, "min_notional": 0},
                  {"priority": 3, "min_confidence": 0.0, "min_notional": 0}]
T = Threshold
# requirement id: (family.check, params, thresholds)
CASES = {
    "PRE-ALGO-02": ("algorithm.backtest", {}, [T("weights_max_diff", "<=", 1e-6), T("weights_missing", "==", 0)]),
    "PRE-ALGO-03": ("algorithm.ev_thresholds", {}, [T("min_ev", ">=", 15, "USD"), T("min_probability", ">=", 0.6,
                    "ratio"), T("max_risk", "<=", 150, "USD")]),
    "PRE-ALGO-04": ("algorithm.quality_setups", {"strategy": "ev", "rules": {"min_ev": 15, "min_probability": 0.6,
                    "max_risk": 150}}, [T("quality_mismatches", "==", 0), T("emitted_non_quality", "==", 0)]),
    "PRE-ALGO-05": ("algorithm.risk_reward", {}, [T("rr_max_error", "<=", 0.01, "ratio"),
                    T("risk_max_error", "<=", 0.01, "USD"), T("ev_max_error", "<=", 0.01, "USD")]),
    "PRE-ALGO-06": ("algorithm.edge_cases", {}, [T("edge_cases_emitted", "==", 0)]),
    "PRE-ALGO-08": ("algorithm.mbo_pressure", {}, [T("pressure_max_error", "<=", 0.001),
                    T("direction_mismatches", "==", 0)]),
    "PRE-ALGO-09": ("algorithm.accuracy", {"strategy": "ifd", "window_days": 20},
                    [T("accuracy", ">", 75, "%"), T("accuracy_ci_low", ">=", 75, "%"), T("window_days", ">=", 20, "d")]),
    "PRE-ALGO-10": ("algorithm.pattern_recognition", {}, [T("pattern_accuracy", ">=", 75, "%")]),
    "PRE-ALGO-11": ("algorithm.confidence_calibration", {}, [T("confidence_out_of_range", "==", 0),
                    T("calibration_error", "<=", 0.10, "ratio")]),
    "PRE-ALGO-12": ("algorithm.volume_ratio", {}, [T("min_volume_ratio", ">=", 1.5), T("volume_ratio_max_error",
                    "<=", 0.001)]),
    "PRE-ALGO-13": ("algorithm.backtest", {}, [T("history_span", ">=", 6, "month")]),
    "PRE-ALGO-14": ("algorithm.institutional_size", {}, [T("min_notional", ">=", 100000, "USD")]),
    "LIVE-SHADOW-01": ("algorithm.shadow_duration", {}, [T("shadow_duration", ">=", 1, "week"),
                       T("shadow_orders", "==", 0)]),
    "LIVE-SHADOW-02": ("algorithm.shadow_agreement", {}, [T("match_rate", ">=", 95, "%")]),
    "LIVE-SHADOW-03": ("algorithm.signal_timing", {}, [T("delay_p99", "<", 100, "ms"), T("negative_delays", "==", 0)]),
    "LIVE-SHADOW-04": ("algorithm.accuracy", {"mode": "shadow"}, [T("false_positive_rate", "<", 25, "%")]),
    "LIVE-SHADOW-05": ("algorithm.priority", {"mode": "shadow", "rules": PRIORITY_RULES},
                       [T("priority_mismatches", "==", 0), T("priority_order_inversions", "==", 0)]),
    "LIVE-LIMITED-01": ("broker.position_max", {"mode": "limited"}, [T("max_position", "<=", 1, "contracts"),
                        T("max_position_from_fills", "<=", 1, "contracts")]),
    "LIVE-LIMITED-02": ("broker.order_lifecycle", {}, [T("orders_not_terminal", "==", 0), T("orphan_fills", "==", 0),
                        T("overfilled_orders", "==", 0), T("fill_order_mismatches", "==", 0)]),
    "LIVE-LIMITED-03": ("business.pnl_reconciliation", {}, [T("pnl_mismatches", "==", 0),
                        T("days_missing_pnl", "==", 0)]),
    "LIVE-LIMITED-04": ("broker.slippage", {"order_types": ["market"]}, [T("slippage_max_ticks", "<=", 4),
                        T("slippage_mean_ticks", "<=", 1)]),
    "LIVE-LIMITED-05": ("broker.stop_execution", {}, [T("stop_beyond_max_ticks", "<=", 2), T("stops_failed", "==", 0)]),
    "LIVE-LIMITED-06": ("broker.costs", {}, [T("daily_cost_max", "<=", 8, "USD")]),
    "LIVE-LIMITED-07": ("broker.costs", {}, [T("monthly_cost", "<=", 200, "USD"), T("month_projection", "<=", 200,
                        "USD")]),
    "OPS-01": ("business.scaling", {}, [T("scaling_violations", "==", 0)]),
    "OPS-02": ("risk.exposure", {}, [T("max_gross_exposure", "<=", 1500000, "USD")]),
    "OPS-03": ("risk.correlation", {}, [T("correlated_exposure_max", "<=", 1500000, "USD")]),
    "OPS-04": ("business.ab_test", {"mode": "live"}, [T("ab_samples_min", ">=", 30)]),
    "OPS-05": ("business.win_loss", {}, [T("win_loss_ratio", ">", 1.8, "ratio")]),
    "OPS-06": ("algorithm.accuracy", {"mode": "live"}, [T("accuracy", ">", 75, "%")]),
    "OPS-07": ("business.roi_improvement", {}, [T("roi_improvement", ">", 25, "%")]),
    "OPS-08": ("business.regimes", {}, [T("regimes_observed", ">=", 2), T("worst_regime_mean_pnl", ">", 0, "USD")]),
    "OPS-09": ("business.event_days", {}, [T("held_into_expiry", "==", 0)]),
    "RISK-01": ("risk.position_limits", {"limits": {"default": 2}, "total_limit": 4}, [T("limit_breaches", "==", 0)]),
    "RISK-02": ("risk.exposure", {}, [T("max_gross_exposure", "<=", 1500000, "USD")]),
    "RISK-03": ("risk.position_limits", {"limits": {"default": 2}, "total_limit": 4, "require_exercise": True},
                [T("unresolved_breaches", "==", 0), T("max_breach_duration", "<=", 60, "s")]),
    "RISK-04": ("risk.kill_switch", {}, [T("drills", ">=", 1), T("max_cancel_time", "<=", 1, "s"),
                T("orders_left_open", "==", 0), T("orders_during_stop", "==", 0), T("position_left", "==", 0)]),
    "BIZ-01": ("business.pnl_reconciliation", {}, [T("pnl_mismatches", "==", 0)]),
    "BIZ-03": ("business.performance", {"capital": 100000}, [T("sharpe", ">=", 1)]),
    "BIZ-04": ("business.performance", {"capital": 100000}, [T("max_drawdown_pct", "<=", 20, "%")]),
    "BIZ-05": ("business.attribution", {}, [T("unattributed_rows", "==", 0), T("attribution_mismatches", "==", 0)]),
    "BIZ-06": ("business.reporting", {}, [T("reports_missing", "==", 0), T("report_mismatches", "==", 0)]),
    "BIZ-07": ("business.kpis", {}, [T("kpis_missing", "==", 0), T("kpi_flags_wrong", "==", 0),
                                     T("kpi_values_mismatched", "==", 0)]),
    "BIZ-08": ("business.release_testing", {}, [T("versions_without_backtest", "==", 0),
                                                T("versions_without_shadow", "==", 0)]),
    "BIZ-09": ("broker.costs", {}, [T("monthly_cost", "<=", 200, "USD")]),
    "AUD-06": ("broker.reconciliation", {}, [T("breaks", "==", 0)]),
}
# fault -> (requirement whose check must now fail, ids the check's details must name)
EXPECTED = {
    "ev_below_min": "PRE-ALGO-03", "probability_below_min": "PRE-ALGO-03", "risk_above_max": "PRE-ALGO-03",
    "rr_mismatch": "PRE-ALGO-05", "edge_case_emitted": "PRE-ALGO-06", "quality_misclassified": "PRE-ALGO-04",
    "small_notional": "PRE-ALGO-14", "low_volume_ratio": "PRE-ALGO-12", "priority_wrong": "LIVE-SHADOW-05",
    "priority_order": "LIVE-SHADOW-05", "accuracy_drop": "PRE-ALGO-09", "backtest_short": "PRE-ALGO-13",
    "weights_mismatch": "PRE-ALGO-02", "shadow_short": "LIVE-SHADOW-01", "shadow_disagree": "LIVE-SHADOW-02",
    "slow_signal": "LIVE-SHADOW-03", "oversize_position": "LIVE-LIMITED-01", "order_no_terminal": "LIVE-LIMITED-02",
    "high_slippage": "LIVE-LIMITED-04", "stop_slipped": "LIVE-LIMITED-05", "cost_overrun": "LIVE-LIMITED-06",
    "broker_mismatch": "AUD-06", "limit_breach": "RISK-03", "kill_switch_slow": "RISK-04",
    "pnl_mismatch": "LIVE-LIMITED-03", "report_gap": "BIZ-06",
    "untested_version": "BIZ-08", "kpi_misflagged": "BIZ-07",
}


def _specs():
    specs = {}
    for family in ("algorithm", "broker", "risk", "business"):
        for spec in importlib.import_module(f"golive.plugins.{family}").golive_checks():
            specs[spec.key] = spec
    return specs


SPECS = _specs()


def run_case(root: Path, req_id: str):
    key, params, thresholds = CASES[req_id]
    req = Requirement(id=req_id, title=req_id, statement="", category="", priority="P1", plan_lines=(1, 1),
                      thresholds=tuple(thresholds))
    result = SPECS[key].func(req, standalone_context(root, params))
    evaluated, problems = evaluate(thresholds, result.metrics)
    return result, evaluated, problems


# two seeds: the verdicts must follow from the generator's design, not from one lucky draw
@pytest.fixture(scope="module", params=[7, 3])
def clean(request, tmp_path_factory):
    root = tmp_path_factory.mktemp("clean")
    return root, write_records(root, seed=request.param)


@pytest.fixture(scope="module", params=[7, 3])
def faulty(request, tmp_path_factory):
    root = tmp_path_factory.mktemp("faulty")
    return root, write_records(root, FAULTS, seed=request.param)


def test_every_fault_has_an_expectation():
    assert set(EXPECTED) == set(FAULTS)


# clean records hold no limit breach: RISK-03 (automatic reduction) is not exercised without a drill
NOT_EXERCISED_ON_CLEAN = {"RISK-03": "not exercised: no limit breach in the period"}


# records alone hold no DBN MBO data: MBO pressure and volume ratio cannot be recounted from the
# events, so they are "team figures only" (tests/test_shallow_mbo_recompute.py covers the recount;
# tests/test_demo_ifd_recount.py the demo, whose recording and IFD window let them pass)
NOT_RECOMPUTED = ("PRE-ALGO-08", "PRE-ALGO-12")


@pytest.mark.parametrize("req_id", sorted(CASES))
def test_clean_records_pass(clean, req_id):
    result, evaluated, problems = run_case(clean[0], req_id)
    if req_id in NOT_RECOMPUTED:
        assert result.status is Status.MISSING and "team figures only, not recomputed (no DBN data" in result.message
        return
    if req_id in NOT_EXERCISED_ON_CLEAN:
        assert result.status is Status.MISSING and NOT_EXERCISED_ON_CLEAN[req_id] in result.message
        assert result.observed["events"] == 0
        return
    assert result.status is None, result.message
    assert not problems
    failed = [(t.metric, t.observed) for t in evaluated if not t.passed]
    assert not failed, f"{req_id}: {failed}"
    json.dumps(result.details)


@pytest.mark.parametrize("fault", FAULTS)
def test_injected_fault_is_reported(faulty, fault):
    root, truth = faulty
    result, evaluated, problems = run_case(root, EXPECTED[fault])
    if EXPECTED[fault] in NOT_RECOMPUTED:  # not recounted, but the team's own records prove the fault
        assert result.status is Status.MISSING and "below the minimum volume ratio" in result.message
        assert all(str(w) in result.message for w in truth.injected[fault]), result.message
        return
    assert result.status is None, result.message
    assert not problems
    assert any(not t.passed for t in evaluated), f"{fault} not detected by {EXPECTED[fault]}"
    text = json.dumps(result.details, default=str)
    for where in truth.injected[fault]:
        if isinstance(where, tuple):
            where = where[1]
        if fault in ("accuracy_drop", "backtest_short", "shadow_short", "limit_breach"):
            continue  # located by period, asserted below
        assert str(where) in text, f"{fault}: {where} not named in the details"


def test_period_faults_are_located(faulty):
    root, truth = faulty
    result, _, _ = run_case(root, "RISK-03")
    breach = result.details["breaches"]["items"][0]
    assert breach["limit_on"] == "ESZ6" and breach["peak"] == 3 and breach["duration_s"] == pytest.approx(540)
    result, _, _ = run_case(root, "LIVE-SHADOW-01")
    assert result.details["shadow_days"] == [str(d) for d in truth.shadow_days]
    result, _, _ = run_case(root, "PRE-ALGO-13")
    assert result.metrics["history_span"].value == pytest.approx(90 + (truth.days[-1] - truth.days[0]).days, abs=1)


def test_faults_leave_other_checks_running(faulty):
    """Every check still produces metrics (no crash, no error) on the faulty set."""
    root, _ = faulty
    for req_id in (r for r in CASES if r not in NOT_RECOMPUTED):
        result, _, problems = run_case(root, req_id)
        assert result.status is None and not problems, (req_id, result.message, problems)


def test_clean_pnl_matches_the_generators_truth(clean):
    root, truth = clean
    result, _, _ = run_case(root, "BIZ-03")
    daily = {row["date"]: row["pnl"] for row in result.details["daily"]}
    assert daily == {d: str(v) for d, v in truth.daily_net_pnl.items()}


def test_unknown_fault_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown fault"):
        write_records(tmp_path, ("no_such_fault",))


def test_missing_records_folder_gives_missing(tmp_path):
    result, _, _ = run_case(tmp_path, "PRE-ALGO-03")
    assert result.status is Status.MISSING and "records/signals.csv" in result.message
