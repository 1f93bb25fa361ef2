"""No pass without evidence (issue 14.3): the engine judges ``CheckResult.observed`` and the
plan's ``min_period`` / ``max_age``; a failing confirmed test caps its requirement."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from golive import hookimpl
from golive.model import Status, Target
from golive.model import TestRecord as Record  # not collected by pytest
from golive.plan.load import PlanError, load
from golive.run.runner import RunOptions, run_plan

from enginehelpers import FakeChecks, make_host, make_plan, req

NOW = datetime(2026, 11, 4, 12, 0, tzinfo=timezone.utc)


def _run(reqs, *plugins, tmp_path: Path):
    return {o.requirement.id: o for o in run_plan(make_plan(reqs), Target(root=tmp_path),
                                                   make_host(FakeChecks(), *plugins),
                                                   RunOptions(clock=lambda: NOW)).outcomes}


def observed_req(rid, observed, *, metrics=None, thresholds=(("cost", "<=", 8, "USD"),), **kw):
    params = {"observed": observed, "metrics": {"cost": 3} if metrics is None else metrics}
    params.update({k: kw.pop(k) for k in ("status", "message") if k in kw})
    return req(rid, check=("fake", "observed"), params=params, thresholds=thresholds, **kw)


def seen(events, first, newest, what="limit breaches"):
    return {"events": events, "first": first, "newest": newest, "what": what}


def test_nothing_observed_is_missing_never_pass(tmp_path):
    out = _run([observed_req("R-01", seen(0, None, None)),
                observed_req("R-02", seen(2, "2026-11-01T10:00:00Z", "2026-11-03T10:00:00Z"))], tmp_path=tmp_path)
    assert out["R-01"].status is Status.MISSING
    assert out["R-01"].reason == "not exercised: no limit breaches in the period"
    assert not out["R-01"].covered and not out["R-01"].verified
    assert out["R-02"].status is Status.PASS and out["R-02"].covered
    assert out["R-02"].observed["events"] == 2


def test_a_check_that_already_said_skipped_or_error_keeps_it(tmp_path):
    out = _run([observed_req("R-01", seen(0, None, None), status="skipped", message="no API key"),
                observed_req("R-02", seen(0, None, None), status="error", message="corrupt log")], tmp_path=tmp_path)
    assert (out["R-01"].status, out["R-01"].reason) == (Status.SKIPPED, "no API key")
    assert (out["R-02"].status, out["R-02"].reason) == (Status.ERROR, "corrupt log")


def test_min_period_shorter_is_missing_with_what_was_seen(tmp_path):
    six_hours = seen(4000, "2020-03-02T09:00:00Z", "2020-03-02T15:00:00Z", "heartbeats")
    six_days = seen(9000, "2026-10-28T09:00:00Z", "2026-11-03T09:00:00Z", "heartbeats")
    out = _run([observed_req("H-01", six_hours, min_period="5 d"),
                observed_req("H-02", six_days, min_period="5 d")], tmp_path=tmp_path)
    assert out["H-01"].status is Status.MISSING
    assert out["H-01"].reason.startswith("observed only 6.0 h of heartbeats (2020-03-02 09:00 to 2020-03-02 15:00 UTC) "
                                         "of the required 5 d")
    assert "would have said pass" in out["H-01"].reason
    assert out["H-02"].status is Status.PASS


def test_max_age_is_judged_at_the_run_clock(tmp_path):
    stale = seen(9000, "2026-10-01T00:00:00Z", "2026-10-20T00:00:00Z", "heartbeats")
    fresh = seen(9000, "2026-10-01T00:00:00Z", "2026-11-03T12:00:00Z", "heartbeats")
    out = _run([observed_req("H-01", stale, max_age="7 d"), observed_req("H-02", fresh, max_age="7 d"),
                observed_req("H-03", stale, max_age="7 d", metrics={"cost": 20})], tmp_path=tmp_path)
    assert out["H-01"].status is Status.MISSING
    assert out["H-01"].reason.startswith("evidence is stale: newest heartbeats 2026-10-20 00:00 UTC is 15.5 d old, "
                                         "older than max_age 7 d")
    assert out["H-02"].status is Status.PASS
    # a failure seen in stale data says nothing about today either; the reason keeps it
    assert out["H-03"].status is Status.MISSING and "would have said fail: cost = 20 USD" in out["H-03"].reason


def test_evidence_dated_after_the_run_is_an_error(tmp_path):
    future = seen(30, "2026-11-01T00:00:00Z", "2026-11-16T13:05:00Z", "cache requests")
    skew = seen(30, "2026-11-01T00:00:00Z", "2026-11-04T12:04:00Z", "cache requests")  # 4 min: clock skew
    out = _run([observed_req("C-01", future), observed_req("C-02", skew)], tmp_path=tmp_path)
    assert out["C-01"].status is Status.ERROR
    assert out["C-01"].reason.startswith("observed cache requests dated after the run: newest 2026-11-16 13:05 UTC "
                                         "is 12.0 d after the run clock (2026-11-04 12:00 UTC)")
    assert out["C-02"].status is Status.PASS


def test_a_plan_period_the_check_cannot_date_is_an_error(tmp_path):
    out = _run([observed_req("H-01", {}, min_period="5 d"), observed_req("H-02", {"events": 3}, max_age="1 d")],
               tmp_path=tmp_path)
    assert out["H-01"].status is Status.ERROR and "requires min_period 5 d" in out["H-01"].reason
    assert out["H-02"].status is Status.ERROR and "requires max_age 1 d" in out["H-02"].reason


class FakeTests:
    """Test records as a traceability plugin reports them, linked by marker."""

    def __init__(self, records):
        self.records = records

    @hookimpl
    def golive_test_sources(self, target):
        return list(self.records)


def test_a_failing_linked_test_caps_the_requirement_checker_or_not(tmp_path):
    records = FakeTests([
        Record("tests/test_risk.py::test_reduce", "tests/test_risk.py", "pytest", outcome="failed",
                   requirements=("C-01", "C-02", "C-03")),
        Record("tests/test_risk.py::test_limits", "tests/test_risk.py", "pytest", outcome="passed",
                   requirements=("C-01", "C-04")),
    ])
    reqs = [observed_req("C-01", {}),  # the checker passes
            observed_req("C-02", {}, metrics={"cost": 20}),  # the checker fails
            req("C-03"),  # no checker: judged from the tests
            observed_req("C-04", {})]
    out = _run(reqs, records, tmp_path=tmp_path)
    assert out["C-01"].status is Status.PARTIAL
    assert out["C-01"].reason.startswith("1 of 2 linked test(s) failed: tests/test_risk.py::test_reduce; "
                                         "checker said pass")
    assert {t["id"]: t["outcome"] for t in out["C-01"].details["tests"]} == {
        "tests/test_risk.py::test_reduce": "failed", "tests/test_risk.py::test_limits": "passed"}
    assert out["C-02"].status is Status.FAIL and "checker said fail: cost = 20 USD" in out["C-02"].reason
    assert out["C-03"].status is Status.FAIL and "test_reduce" in out["C-03"].reason
    assert out["C-04"].status is Status.PASS and out["C-04"].details["tests"][0]["outcome"] == "passed"


PLAN_YAML = """
plan: {id: p, title: P, version: "1", source_lines: 10}
phases: [{number: 1, id: one, title: One, plan_lines: [1, 10]}]
categories: [{id: cat, title: Cat}]
priorities: {P1: critical}
bands: {well: 0.75, partial: 0.25}
%s
sections: [s.yaml]
"""
SECTION_YAML = """
section: {id: SEC, phase: 1, title: S, plan_lines: [1, 10]}
requirements:
  - id: SEC-01
    title: uptime
    statement: uptime over five days of heartbeats, at most a week old
    category: cat
    priority: P1
    %s
"""


def _plan(tmp_path, section_extra, plan_extra=""):
    (tmp_path / "plan.yaml").write_text(PLAN_YAML % plan_extra)
    (tmp_path / "s.yaml").write_text(SECTION_YAML % section_extra)
    return tmp_path / "plan.yaml"


def test_plan_fields_load_and_bad_durations_name_the_field(tmp_path):
    plan = load(_plan(tmp_path, "min_period: 5 d\n    max_age: 604800"))
    r = plan.requirement("SEC-01")
    assert (r.min_period, r.max_age) == ("5 d", "604800 s")
    with pytest.raises(PlanError) as exc:
        load(_plan(tmp_path, "min_period: soon"))
    assert "requirements[SEC-01].min_period" in str(exc.value) and "5 d" in str(exc.value)
    with pytest.raises(PlanError) as exc:
        load(_plan(tmp_path, "max_age: 3 USD"))
    assert "requirements[SEC-01].max_age" in str(exc.value) and "not a time unit" in str(exc.value)


def test_readiness_policy_loads_and_unknown_priorities_are_named(tmp_path):
    plan = load(_plan(tmp_path, "", "readiness: {verified: [P1], no_failing: [P1], manual_attested: false}"))
    assert plan.readiness == {"verified": ["P1"], "no_failing": ["P1"], "manual_attested": False}
    with pytest.raises(PlanError) as exc:
        load(_plan(tmp_path, "", "readiness: {verified: [P7]}"))
    assert "readiness.verified[0]" in str(exc.value) and "unknown priority 'P7'" in str(exc.value)
    with pytest.raises(PlanError) as exc:
        load(_plan(tmp_path, "", "readiness: {no_failing: some}"))
    assert "readiness.no_failing" in str(exc.value)
