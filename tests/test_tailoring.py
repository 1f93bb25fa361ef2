"""Tailoring: overrides on top of the plan, recorded, loosened thresholds flagged."""
from __future__ import annotations

import pytest

from golive.model import Status, Target
from golive.run.runner import RunOptions, run_plan
from golive.plan.tailoring import TailoringError, load_tailoring

from enginehelpers import FakeChecks, make_host, make_plan, req


def _plan():
    return make_plan([
        req("T-01", check=("fake", "metrics"), params={"metrics": {"latency_p99": 130}},
            thresholds=[("latency_p99", "<", 100, "ms")]),
        req("T-02", check=("fake", "metrics"), params={"metrics": {"latency_p99": 130}},
            thresholds=[("latency_p99", "<", 100, "ms")]),
        req("T-03", check=("fake", "metrics"), params={"metrics": {}}),
    ])


def write(tmp_path, text):
    p = tmp_path / "tailoring.yaml"
    p.write_text(text)
    return p


def test_overrides_apply_are_recorded_and_loosening_is_flagged(tmp_path):
    path = write(tmp_path, """
tailoring: {id: staging, title: Staging}
overrides:
  - requirement: T-01
    reason: staging hardware is slower
    thresholds: [{metric: latency_p99, op: "<", value: 150, unit: ms}]
  - requirement: T-02
    reason: tighter in staging
    thresholds: [{metric: latency_p99, op: "<", value: 50, unit: ms}]
  - requirement: T-03
    not_applicable: no such component in staging
""")
    tailoring = load_tailoring(path)
    plan = _plan()
    report = run_plan(plan, Target(root=tmp_path), make_host(FakeChecks()), RunOptions(tailoring=tailoring))
    out = {o.requirement.id: o for o in report.outcomes}
    assert out["T-01"].status is Status.PASS and out["T-01"].thresholds[0].loosened
    assert out["T-02"].status is Status.FAIL and not out["T-02"].thresholds[0].loosened
    assert out["T-03"].status is Status.SKIPPED and out["T-03"].not_applicable == "no such component in staging"
    kinds = [(c.requirement, c.kind, c.loosened) for c in tailoring.changes]
    assert kinds == [("T-01", "threshold", True), ("T-02", "threshold", False), ("T-03", "not_applicable", False)]
    assert tailoring.changes[0].before == "latency_p99 < 100 ms" and tailoring.changes[0].after == "latency_p99 < 150 ms"
    assert len(tailoring.digest) == 64 and report.run["tailoring_digest"] == tailoring.digest
    # the plan itself is untouched
    assert plan.requirement("T-01").thresholds[0].value == 100


@pytest.mark.parametrize("text,message", [
    ("overrides: [{requirement: NOPE-01, reason: x}]", "no such requirement"),
    ("overrides: [{requirement: T-01}]", "give a 'reason'"),
    ("overrides: [{requirement: T-01, reason: x, thresholds: [{metric: other, op: '<', value: 1}]}]",
     "no threshold on metric 'other'"),
    ("overrides: [{requirement: T-01, reason: x, thresholds: [{metric: latency_p99, op: '<', value: 1, unit: s}]}]",
     "keep the plan's operator and unit"),
    ("overrides: [{requirement: T-01, colour: red}]", "Additional properties"),
    ("overrides: [unclosed", "not valid YAML"),
    ("signoff: {roles: [risk]}\noverrides: []", "'reason' is a required property"),
    ("signoff: {roles: [Risk Team], reason: x}\noverrides: []", "signoff.roles"),
    ("signoff: {roles: [risk, compliance], quorum: 3, reason: x}\noverrides: []", "give at most the 2 roles"),
    ("signoff: {roles: {risk: 2}, quorum: 1, reason: x}\noverrides: []", "no quorum with a count per role"),
])
def test_bad_tailoring_names_file_and_problem(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(TailoringError, match="tailoring.yaml") as exc:
        load_tailoring(path).apply(_plan())
    assert message in str(exc.value)


def test_a_signoff_block_replaces_the_plans_policy_and_is_recorded(tmp_path):
    from golive.results import build_document

    path = write(tmp_path, "signoff: {roles: [risk, compliance], quorum: 1, reason: the desk's approvers}\n"
                           "overrides: []\n")
    tailoring = load_tailoring(path)
    plan = _plan()
    report = run_plan(plan, Target(root=tmp_path), make_host(FakeChecks()), RunOptions(tailoring=tailoring))
    [change] = tailoring.changes
    assert (change.requirement, change.kind, change.before, change.after) == (
        "(plan)", "signoff", "no sign-off", "sign-off by 1 of risk, compliance")
    assert report.plan.signoff == {"roles": ["risk", "compliance"], "quorum": 1} and plan.signoff == {}
    policy = build_document(report, tailoring=tailoring.summary())["summary"]["verdict"]["policy"]
    assert policy["signoff"] == {"roles": ["risk", "compliance"], "quorum": 1}  # what the sign-off reads
