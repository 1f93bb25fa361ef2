"""No pass without evidence, on operations logs and history (issue 14.3): heartbeats (RISK-05,
RISK-10), AUD-03 parameter approvals, RISK-12 failover drills.

Each requirement runs through the engine with the real plan (its min_period / max_age
included) on a small workspace: without evidence, or with too little or too old, the verdict is
``missing`` with its reason; with the evidence, it passes or fails on what it shows.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from golive.model import Status
from vacuous_helpers import NOW, commit, outcome, settings, write_jsonl

COMPONENTS = ["trading_system", "broker"]


def heartbeats(root, start: datetime, hours: float, interval_s: int = 300, down: tuple | None = None,
               last_status: str = "ready"):
    rows, t, end = [], start.timestamp(), start.timestamp() + hours * 3600
    while t < end:
        for c in COMPONENTS:
            if not (down and down[0] <= t < down[1]):
                rows.append({"ts": t, "component": c, "interval_s": interval_s, "status": "ready"})
        t += interval_s
    rows[-1]["status"] = last_status
    write_jsonl(root / "logs/heartbeats.jsonl", rows)


MARCH_2020 = datetime(2020, 3, 10, 14, 0, tzinfo=timezone.utc)


# --- RISK-10 uptime and RISK-05 health: six hours from March 2020 are no evidence --------------

def test_six_old_hours_of_heartbeats_do_not_pass_uptime_or_health(tmp_path):
    heartbeats(tmp_path, MARCH_2020, 6)
    settings(tmp_path, expected_components=COMPONENTS)
    uptime = outcome(tmp_path, "RISK-10")
    assert uptime.status is Status.MISSING and uptime.reason.startswith("observed only 5.9 h of heartbeats")
    assert "required 28 d" in uptime.reason
    health = outcome(tmp_path, "RISK-05")
    assert health.status is Status.MISSING and "of the required 5 d" in health.reason


def test_recent_but_short_and_long_but_stale_heartbeats_are_missing(tmp_path):
    settings(tmp_path, expected_components=COMPONENTS)
    heartbeats(tmp_path, NOW - timedelta(days=2), 48)  # recent, 2 days only
    assert "of the required 5 d" in outcome(tmp_path, "RISK-05").reason
    heartbeats(tmp_path, NOW - timedelta(days=40), 24 * 30)  # 30 days, ended 10 days ago
    stale = outcome(tmp_path, "RISK-05")
    assert stale.status is Status.MISSING and stale.reason.startswith("evidence is stale")


def test_no_heartbeat_is_missing(tmp_path):
    settings(tmp_path, expected_components=COMPONENTS)
    write_jsonl(tmp_path / "logs/heartbeats.jsonl", [])
    for rid in ("RISK-05", "RISK-10"):
        o = outcome(tmp_path, rid)
        assert o.status is Status.MISSING, (rid, o.reason)


def test_a_month_of_heartbeats_is_judged(tmp_path):
    settings(tmp_path, expected_components=COMPONENTS)
    start = NOW - timedelta(days=30)
    heartbeats(tmp_path, start, 24 * 30)
    assert outcome(tmp_path, "RISK-10").status is Status.PASS
    health = outcome(tmp_path, "RISK-05")
    assert health.status is Status.PASS and health.observed["events"] > 8000
    # a 45-minute outage inside a New York session fails the 99.9 % SLA
    session = datetime(2026, 11, 12, 15, 0, tzinfo=timezone.utc).timestamp()
    heartbeats(tmp_path, start, 24 * 30, down=(session, session + 45 * 60))
    assert outcome(tmp_path, "RISK-10").status is Status.FAIL
    heartbeats(tmp_path, start, 24 * 30, last_status="down")
    down = outcome(tmp_path, "RISK-05")
    assert down.status is Status.PARTIAL and "components_not_ready = 1" in down.reason


def test_health_without_configured_components_says_configure(tmp_path):
    heartbeats(tmp_path, NOW - timedelta(days=30), 24 * 30)
    o = outcome(tmp_path, "RISK-05")
    assert o.status is Status.MISSING and "configure expected_components" in o.reason
    assert "seen: broker, trading_system" in o.reason and o.configure


# --- AUD-03 parameter changes need approvals, additions too -------------------------------------

def parameters_repo(root, register: str, message: str = "CHG-0001: initial go-live parameters for the desk"):
    (root / "config").mkdir(parents=True)
    (root / "config/strategy.yaml").write_text("ev: {min_ev: 15, max_risk: 150}\n")
    (root / "compliance").mkdir()
    (root / "compliance/approvals.yaml").write_text(register)
    commit(root, message)


def test_aud03_additions_with_an_empty_register_fail(tmp_path):
    parameters_repo(tmp_path, "approvals: []\n")
    o = outcome(tmp_path, "AUD-03")
    assert o.status is Status.FAIL, o.reason
    assert o.metrics["parameter_changes"] == 2 and o.metrics["parameter_changes_undocumented"] == 2
    assert "2 of them additions" in o.reason and "0 approval(s) in the register" in o.reason
    assert {u["change"] for u in o.details["undocumented"]} == {"added"}


def test_aud03_approved_additions_pass(tmp_path):
    parameters_repo(tmp_path, "approvals:\n  - {id: CHG-0001, approved_by: carol, date: 2026-11-01, "
                              "reason: go-live, parameters: ['ev.*']}\n")
    o = outcome(tmp_path, "AUD-03")
    assert o.status is Status.PASS, o.reason
    assert o.observed["events"] == 2 and o.observed["newest"] == "2026-11-10T10:00:00Z"


def test_aud03_no_parameter_in_the_history_is_not_exercised(tmp_path):
    (tmp_path / "compliance").mkdir()
    (tmp_path / "compliance/approvals.yaml").write_text("approvals: []\n")
    (tmp_path / "README.md").write_text("no configuration yet\n")
    commit(tmp_path, "first commit of the repository")
    o = outcome(tmp_path, "AUD-03")
    assert o.status is Status.MISSING
    assert o.reason.startswith("not exercised: no parameter change or addition in the period")


# --- RISK-12 failover drills: the RTO is measured, not taken on trust ---------------------------

def drill(root, seconds: float | None, **extra):
    started = (NOW - timedelta(days=10)).timestamp()
    row = {"ts": started, "kind": "failover", "started": started, "outcome": "ok", "positions_consistent": True,
           "orders_lost": 0, "orders_duplicated": 0, **extra}
    if seconds is not None:
        row["recovered"] = started + seconds
    write_jsonl(root / "logs/dr_drills.jsonl", [row])


def test_risk12_a_three_hour_failover_without_rto_fails(tmp_path):
    drill(tmp_path, 3 * 3600)
    o = outcome(tmp_path, "RISK-12")
    assert o.status is Status.PARTIAL and o.metrics["last_drill_within_objective"] == 0
    assert "took 10800 s against an RTO of 300 s (plan default_rto_s)" in o.reason


@pytest.mark.parametrize("seconds, extra, status", [(95, {}, Status.PASS), (600, {"rto_s": 900}, Status.PASS),
                                                     (600, {"rto_s": 300}, Status.PARTIAL)])
def test_risk12_drills_are_judged_against_their_objective(tmp_path, seconds, extra, status):
    drill(tmp_path, seconds, **extra)
    o = outcome(tmp_path, "RISK-12")
    assert o.status is status, o.reason
    assert o.observed["events"] == 1 and o.observed["what"] == "failover drills"


def test_risk12_no_failover_drill_is_not_exercised(tmp_path):
    write_jsonl(tmp_path / "logs/dr_drills.jsonl", [{"ts": NOW.timestamp() - 86400, "kind": "bcp", "outcome": "ok"}])
    o = outcome(tmp_path, "RISK-12")
    assert o.status is Status.MISSING
    assert o.reason.startswith("not exercised: no failover drill in the period")
