"""The readiness verdict (issue 14.1): READY / NOT READY / INCOMPLETE with reasons naming
requirement ids, from the plan's ``readiness`` policy."""
from __future__ import annotations

import pytest

from golive.run.readiness import INCOMPLETE, NOT_READY, READY, Policy, refresh_summary, verdict

DEFAULT = Policy()


def row(rid, status="pass", priority="P1", **extra):
    return {"requirement_id": rid, "status": status, "priority": priority, "reason": f"reason of {rid}",
            "manual": False, "not_applicable": None, "covered": status in ("pass", "fail", "partial"), **extra}


def judge(rows, policy=DEFAULT, signed=True, selection=(), plan_requirements=None):
    return verdict(rows, policy, signed=signed, selection=selection, plan_requirements=plan_requirements)


def test_everything_verified_signed_and_whole_is_ready():
    v = judge([row("A-01"), row("A-02", priority="P2")])
    assert v["state"] == READY and v["blocking"] == [] and v["pending"] == []
    assert v["reasons"][0].startswith("policy met for 2 requirements: every P1 requirement verified")
    assert v["policy"] == {"verified": ["P1"], "no_failing": "all", "manual_attested": True}


@pytest.mark.parametrize("status, priority, words", [
    ("fail", "P1", "A-02 (P1) fails: reason of A-02"),
    ("error", "P3", "A-02 (P3) errors: reason of A-02"),  # nothing fail/error, whatever the priority
    ("partial", "P1", "A-02 (P1) is partial: reason of A-02"),
    ("missing", "P1", "A-02 (P1) unverified: reason of A-02"),
])
def test_a_failing_or_unverified_p1_is_not_ready_and_named(status, priority, words):
    v = judge([row("A-01"), row("A-02", status, priority)])
    assert v["state"] == NOT_READY and v["blocking"] == ["A-02"]
    assert v["reasons"] == [words]


def test_lower_priorities_may_be_partial_or_missing_but_not_fail():
    assert judge([row("A-01"), row("B-01", "partial", "P2"), row("B-02", "missing", "P3")])["state"] == READY
    assert judge([row("A-01"), row("B-01", "fail", "P2")])["state"] == NOT_READY
    only_p1 = Policy.from_plan({"no_failing": ["P1"]})
    assert judge([row("A-01"), row("B-01", "fail", "P2")], only_p1)["state"] == READY


def test_what_the_run_could_not_decide_is_incomplete():
    v = judge([row("A-01"), row("A-02", "skipped", reason="no API key: DATABENTO_API_KEY is not set"),
               row("A-03", "missing", configure="expected_components in golive.toml [settings]"),
               row("A-04", "missing", reason="configure [paths] records in golive.toml"),
               row("M-01", "missing", "P2", manual=True)])
    assert v["state"] == INCOMPLETE and v["blocking"] == []
    assert v["pending"] == ["A-02", "A-03", "A-04", "M-01"]
    assert v["reasons"] == [
        "A-02 (P1) was skipped: no API key: DATABENTO_API_KEY is not set",
        "A-03 (P1) could not run: expected_components in golive.toml [settings]",
        "A-04 (P1) could not run: configure [paths] records in golive.toml",
        "M-01 (P2) awaits a signed attestation (manual requirement)",
    ]
    no_manual = Policy.from_plan({"manual_attested": False})
    assert judge([row("A-01"), row("M-01", "missing", "P2", manual=True)], no_manual)["state"] == READY


def test_partial_scope_and_unsigned_runs_are_never_ready():
    v = judge([row("RISK-10")], signed=False, selection=("RISK-10",), plan_requirements=94)
    assert v["state"] == INCOMPLETE
    assert v["reasons"][0] == "partial scope: 1 of 94 requirements selected (--only RISK-10)"
    assert v["reasons"][1].startswith("unsigned: no signed evidence ledger")
    whole = judge([row("A-01"), row("A-02", priority="P2")], selection=("P1,P2",), plan_requirements=2)
    assert whole["state"] == READY  # a selection naming every requirement is the whole plan


def test_not_ready_wins_and_still_lists_what_is_undecided_p1_first():
    v = judge([row("B-01", "fail", "P2"), row("A-01", "fail"), row("A-02", "skipped")], signed=False)
    assert v["state"] == NOT_READY and v["blocking"] == ["A-01", "B-01"]
    assert [r.split(" ", 1)[0] for r in v["reasons"]] == ["A-01", "B-01", "unsigned:", "A-02"]


def test_a_valid_waiver_accepts_a_failure_and_is_named_tailored_out_ones_do_not_count():
    v = judge([row("A-01"), row("A-02", "waived", recorded_status="fail"),
               row("A-03", "skipped", not_applicable="staging only")])
    assert v["state"] == READY
    assert v["reasons"][1] == "1 requirement(s) accepted by an unexpired waiver: A-02"
    assert v["reasons"][0].startswith("policy met for 2 requirements")


def test_refresh_summary_recomputes_after_waivers_with_the_recorded_policy():
    doc = {"run": {"selection": [], "ledger": {"size": 3, "head": "ab"}, "plan": {"requirements": 2}},
           "summary": {"selected": 2, "verdict": {"policy": {"verified": ["P1"], "no_failing": ["P1"]}}},
           "results": [row("A-01"), row("A-02", "fail")]}
    assert refresh_summary(doc)["state"] == NOT_READY
    doc["results"][1].update(status="waived", recorded_status="fail")
    assert refresh_summary(doc)["state"] == READY
    assert doc["summary"]["verdict"]["policy"]["no_failing"] == ["P1"]
    assert doc["summary"]["figures"]["waived"] == 1 and doc["summary"]["figures"]["verified"] == 1
    doc["run"]["ledger"] = None
    assert refresh_summary(doc)["state"] == INCOMPLETE
