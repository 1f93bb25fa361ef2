"""End to end: the real plan's records requirements, run by the engine on the demo records.

The plan validates with the algorithm, broker, risk and business families registered (their
params and metrics match the ``check:`` blocks), every records requirement passes on the clean
demo set, and on the faulty set each injected fault fails the requirement that covers it.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

import golive.plugins.algorithm
import golive.plugins.broker
import golive.plugins.business
import golive.plugins.risk
from golive.model import Status, Target
from golive.pluginmanager import create_host
from golive.run.runner import RunOptions, run_plan
from golive.plan.validate import format_problems, validate_plan

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from examples.records_fixtures import FAULTS, write_records  # noqa: E402

FAMILIES = {"algorithm": golive.plugins.algorithm, "broker": golive.plugins.broker, "risk": golive.plugins.risk,
            "business": golive.plugins.business}
PLAN = Path(__file__).resolve().parents[1] / "requirements"
# fault -> requirements that must not pass on the faulty set
FAILS = {
    "ev_below_min": ["PRE-ALGO-03"], "rr_mismatch": ["PRE-ALGO-05"], "edge_case_emitted": ["PRE-ALGO-06"],
    "quality_misclassified": ["PRE-ALGO-04"], "small_notional": ["PRE-ALGO-14"], "low_volume_ratio": ["PRE-ALGO-12"],
    "priority_order": ["LIVE-SHADOW-05"], "accuracy_drop": ["PRE-ALGO-09", "OPS-06"], "backtest_short": ["PRE-ALGO-13"],
    "weights_mismatch": ["PRE-ALGO-02"], "shadow_short": ["LIVE-SHADOW-01"], "shadow_disagree": ["LIVE-SHADOW-02"],
    "slow_signal": ["LIVE-SHADOW-03"], "oversize_position": ["LIVE-LIMITED-01", "OPS-01"],
    "order_no_terminal": ["LIVE-LIMITED-02"], "high_slippage": ["LIVE-LIMITED-04"], "stop_slipped": ["LIVE-LIMITED-05"],
    "cost_overrun": ["LIVE-LIMITED-06"], "broker_mismatch": ["AUD-06"], "limit_breach": ["RISK-01", "RISK-03"],
    "kill_switch_slow": ["RISK-04"], "pnl_mismatch": ["LIVE-LIMITED-03", "BIZ-01", "BIZ-05"],
    "report_gap": ["BIZ-06"], "untested_version": ["BIZ-08"],
    "kpi_misflagged": ["BIZ-07"],
}


@pytest.fixture(scope="module")
def host():
    h = create_host()
    for name, module in FAMILIES.items():
        if name not in h.plugins:  # until the entry points are declared in pyproject.toml
            h.register(module, name)
    return h


@pytest.fixture(scope="module")
def plan(host):
    plan, problems = validate_plan(PLAN, host.checks())
    assert not problems, format_problems(problems)
    return plan


def records_ids(plan) -> tuple[str, ...]:
    return tuple(r.id for r in plan.requirements if r.check and r.check.plugin in FAMILIES)


def run(plan, host, root):
    report = run_plan(plan, Target(root=root), host, RunOptions(only=records_ids(plan), jobs=2))
    return {o.requirement.id: o for o in report.outcomes}


def test_records_requirements_have_checks(plan):
    ids = records_ids(plan)
    assert len(ids) >= 40
    for rid in ("PRE-ALGO-03", "PRE-ALGO-09", "LIVE-SHADOW-01", "LIVE-LIMITED-06", "RISK-04", "OPS-07", "AUD-06"):
        assert rid in ids


# Clean records that still must not pass (issue 14, no pass without evidence):
# RISK-03 -- no limit breach and no reduction drill (the drill log is the ops generator's);
# PRE-ALGO-08/12 -- records alone hold no DBN MBO data to recount the windows from (the demo,
# which adds the recording and the IFD window, passes them: tests/test_demo_ifd_recount.py).
NOT_PASSING_ON_CLEAN = {"RISK-03": (Status.MISSING, "not exercised: no limit breach in the period"),
                        "PRE-ALGO-08": (Status.MISSING, "team figures only, not recomputed (no DBN data"),
                        "PRE-ALGO-12": (Status.MISSING, "team figures only, not recomputed (no DBN data")}


def test_clean_demo_records_pass(plan, host, tmp_path):
    write_records(tmp_path)
    outcomes = run(plan, host, tmp_path)
    failing = {rid: (str(o.status), o.reason) for rid, o in outcomes.items()
               if o.status is not Status.PASS and rid not in NOT_PASSING_ON_CLEAN}
    assert not failing
    for rid, (status, reason) in NOT_PASSING_ON_CLEAN.items():
        assert outcomes[rid].status is status and reason in outcomes[rid].reason, (rid, outcomes[rid].reason)


RECOUNT_ONLY_FROM_DBN = {"PRE-ALGO-12": "below the minimum volume ratio"}


def test_faulty_demo_records_fail_where_the_faults_are(plan, host, tmp_path):
    assert set(FAILS) | {"probability_below_min", "risk_above_max", "priority_wrong"} == set(FAULTS)
    write_records(tmp_path, FAULTS)
    outcomes = run(plan, host, tmp_path)
    for fault, rids in FAILS.items():
        for rid in rids:
            if rid in RECOUNT_ONLY_FROM_DBN:  # not recounted without DBN data; the team's own violation is named
                assert outcomes[rid].status is Status.MISSING, (fault, rid, outcomes[rid].reason)
                assert RECOUNT_ONLY_FROM_DBN[rid] in outcomes[rid].reason, (fault, rid, outcomes[rid].reason)
                continue
            assert outcomes[rid].status in (Status.FAIL, Status.PARTIAL), (fault, rid, outcomes[rid].reason)
    assert all(o.status is not Status.ERROR for o in outcomes.values())


def test_missing_records_are_missing_not_errors(plan, host, tmp_path):
    outcomes = run(plan, host, tmp_path)
    assert {o.status for o in outcomes.values()} == {Status.MISSING}
