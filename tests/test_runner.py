"""The runner: isolation, timeouts, selection, verdicts, observers."""
from __future__ import annotations

from pathlib import Path

import pytest

from golive import hookimpl
from golive.model import Quantity, Status, Target
from golive.run.runner import RunOptions, run_plan
from golive.run.selection import SelectionError, select

from enginehelpers import FakeChecks, make_host, make_plan, req


def _run(reqs, *plugins, tmp_path: Path, **opts):
    plan = make_plan(reqs)
    host = make_host(FakeChecks(), *plugins)
    return run_plan(plan, Target(root=tmp_path), host, RunOptions(**opts))


def by_id(report):
    return {o.requirement.id: o for o in report.outcomes}


def test_thresholds_decide_pass_partial_fail(tmp_path):
    reqs = [
        req("A-01", check=("fake", "metrics"), params={"metrics": {"latency_p99": 80, "uptime": 99.95}},
            thresholds=[("latency_p99", "<", 100, "ms"), ("uptime", ">=", 99.9, "%")]),
        req("A-02", check=("fake", "metrics"), params={"metrics": {"latency_p99": 120, "uptime": 99.95}},
            thresholds=[("latency_p99", "<", 100, "ms"), ("uptime", ">=", 99.9, "%")]),
        req("A-03", check=("fake", "metrics"), params={"metrics": {"latency_p99": 120, "uptime": 99}},
            thresholds=[("latency_p99", "<", 100, "ms"), ("uptime", ">=", 99.9, "%")]),
    ]
    out = by_id(_run(reqs, tmp_path=tmp_path))
    assert out["A-01"].status is Status.PASS and out["A-01"].implemented
    assert out["A-02"].status is Status.PARTIAL
    assert "latency_p99 = 120 ms, needs < 100 ms" in out["A-02"].reason
    assert out["A-03"].status is Status.FAIL
    assert [t.passed for t in out["A-03"].thresholds] == [False, False]


def test_crash_panic_wrong_type_and_timeout_become_errors_and_the_run_goes_on(tmp_path):
    reqs = [
        req("B-01", check=("fake", "boom")),
        req("B-02", check=("fake", "panic")),
        req("B-03", check=("fake", "wrong_type")),
        req("B-04", check=("fake", "hang"), timeout=0.3),
        req("B-05", check=("fake", "metrics"), params={"metrics": {"cost": 3}}, thresholds=[("cost", "<=", 8, "USD")]),
    ]
    report = _run(reqs, tmp_path=tmp_path, jobs=2)
    out = by_id(report)
    assert out["B-01"].status is Status.ERROR and "RuntimeError: checker exploded" in out["B-01"].reason
    assert "fake.boom on B-01" in out["B-01"].reason
    assert out["B-02"].status is Status.ERROR and "rust panicked" in out["B-02"].reason
    assert out["B-03"].status is Status.ERROR and "not CheckResult" in out["B-03"].reason
    assert out["B-04"].status is Status.ERROR and "timed out after 0.3 s" in out["B-04"].reason
    assert out["B-05"].status is Status.PASS
    assert [o.requirement.id for o in report.outcomes] == ["B-01", "B-02", "B-03", "B-04", "B-05"]


def test_missing_metric_and_declared_statuses(tmp_path):
    reqs = [
        req("C-01", check=("fake", "metrics"), params={"metrics": {}}, thresholds=[("cost", "<=", 8, "USD")]),
        req("C-02", check=("fake", "declared"), params={"status": "missing"}, thresholds=[("cost", "<=", 8, "USD")]),
        req("C-03", check=("fake", "declared"), params={"status": "skipped"}),
        req("C-04", check=("fake", "declared"), params={"status": "waived"}),
        req("C-05", check=("fake", "declared"), params={"status": "fail"}),
    ]
    out = by_id(_run(reqs, tmp_path=tmp_path))
    assert out["C-01"].status is Status.ERROR and "reported no metric 'cost'" in out["C-01"].reason
    assert out["C-02"].status is Status.MISSING and not out["C-02"].implemented
    assert out["C-03"].status is Status.SKIPPED and out["C-03"].reason == "declared"
    assert out["C-04"].status is Status.ERROR and "only an approver" in out["C-04"].reason
    assert out["C-05"].status is Status.FAIL


def test_manual_requirement_is_missing_never_pass(tmp_path):
    out = by_id(_run([req("D-01", manual=True)], tmp_path=tmp_path))
    assert out["D-01"].status is Status.MISSING and "attestation" in out["D-01"].reason
    assert not out["D-01"].verified


def test_unknown_check_is_an_error_naming_it(tmp_path):
    out = by_id(_run([req("E-01", check=("nosuch", "thing"))], tmp_path=tmp_path))
    assert out["E-01"].status is Status.ERROR and "nosuch.thing" in out["E-01"].reason


def test_observers_see_every_outcome_and_a_crashing_observer_is_ignored(tmp_path):
    seen = []

    class Observer:
        @hookimpl
        def golive_result(self, outcome, run):
            seen.append(outcome.requirement.id)

        @hookimpl
        def golive_run_finished(self, run, outcomes):
            seen.append(("finished", len(outcomes)))

    class Broken:
        @hookimpl
        def golive_result(self, outcome, run):
            raise ValueError("observer bug")

    reqs = [req(f"F-0{i}", check=("fake", "metrics"), params={"metrics": {}}) for i in range(1, 4)]
    report = _run(reqs, Observer(), Broken(), tmp_path=tmp_path)
    assert sorted(seen[:-1]) == ["F-01", "F-02", "F-03"] and seen[-1] == ("finished", 3)
    assert any("observer bug" in w for w in report.warnings)


def test_jobs_run_checks_in_parallel_threads(tmp_path):
    import threading
    barrier = threading.Barrier(3, timeout=5)

    class Parallel:
        @hookimpl
        def golive_checks(self):
            from golive.model import CheckResult, CheckSpec
            def wait(r, c):
                barrier.wait()  # only returns if 3 checks are running at the same time
                return CheckResult()
            return [CheckSpec("par", "wait", wait)]

    reqs = [req(f"G-0{i}", check=("par", "wait")) for i in range(1, 4)]
    out = by_id(_run(reqs, Parallel(), tmp_path=tmp_path, jobs=3))
    assert all(o.status is Status.PASS for o in out.values())


def test_selection_by_id_glob_section_phase_plugin_priority_category():
    plan = make_plan([
        req("PRE-A-01", section="PRE-A", phase=1, priority="P1", category="cat-a", check=("fake", "metrics")),
        req("PRE-A-02", section="PRE-A", phase=1, priority="P2", category="cat-b"),
        req("LIVE-B-01", section="LIVE-B", phase=2, priority="P3", category="cat-b", manual=True),
    ])
    ids = lambda sel: [r.id for r in select(plan, sel)]
    assert ids([]) == ["PRE-A-01", "PRE-A-02", "LIVE-B-01"]
    assert ids(["pre-a-02"]) == ["PRE-A-02"]
    assert ids(["PRE-A-*"]) == ["PRE-A-01", "PRE-A-02"]
    assert ids(["LIVE-B"]) == ["LIVE-B-01"]
    assert ids(["phase:2"]) == ["LIVE-B-01"] and ids(["two"]) == ["LIVE-B-01"]
    assert ids(["plugin:fake"]) == ["PRE-A-01"] and ids(["manual"]) == ["LIVE-B-01"]
    assert ids(["P2,P3"]) == ["PRE-A-02", "LIVE-B-01"]
    assert ids(["category:cat-b"]) == ["PRE-A-02", "LIVE-B-01"]
    with pytest.raises(SelectionError, match="NOPE"):
        select(plan, ["NOPE"])


def test_quantity_metrics_are_converted(tmp_path):
    reqs = [req("H-01", check=("fake", "metrics"), params={"metrics": {"latency_p99": Quantity(0.05, "s")}},
                thresholds=[("latency_p99", "<", 100, "ms")])]
    o = by_id(_run(reqs, tmp_path=tmp_path))["H-01"]
    assert o.status is Status.PASS and o.thresholds[0].observed == pytest.approx(50)
