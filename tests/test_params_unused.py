"""Check params that no check reads: rejected by validation when undeclared, and an ``error``
at run time when a check returns a verdict without reading one (the plan asked for something
the verdict is not about)."""
from __future__ import annotations

import pickle
from pathlib import Path

from golive import hookimpl
from golive.model import CheckResult, CheckSpec, Status, Target
from golive.plan.validate import undeclared_params
from golive.run.params import ReadTracker, mark_read, unread_params
from golive.run.runner import RunOptions, run_plan

from enginehelpers import make_host, make_plan, req


def test_tracker_counts_every_way_of_reading():
    p = ReadTracker({"a": 1, "b": 2, "c": 3, "d": 4})
    assert p["a"] == 1 and p.get("b") == 2 and "c" in p and len(p) == 4
    assert p.unread() == ["d"]
    assert dict(p) == {"a": 1, "b": 2, "c": 3, "d": 4}  # passing the whole mapping on reads it all
    assert p.unread() == []


def test_tracker_survives_a_trip_to_another_process_and_back():
    p = ReadTracker({"files": ["x"], "instruments": ["ESZ6"]})
    p.get("files")
    copy = pickle.loads(pickle.dumps(p))
    assert copy.unread() == ["instruments"]
    copy["instruments"]
    mark_read(p, copy.read)
    assert unread_params(p) == [] and unread_params({"plain": 1}) == []


def test_an_undeclared_param_is_a_validation_problem_unless_the_schema_opts_in():
    closed_by_default = {"type": "object", "properties": {"files": {"type": "array"}}}
    assert undeclared_params(closed_by_default, {"files": [], "instrument": "ESZ6"}) == ["instrument"]
    assert undeclared_params({"type": "object"}, {"x": 1}) == ["x"]
    assert undeclared_params({"type": "object", "additionalProperties": True}, {"x": 1}) == []
    # additionalProperties: false is JSON Schema's to report (once)
    assert undeclared_params({"type": "object", "additionalProperties": False}, {"x": 1}) == []
    assert undeclared_params({"type": "object", "patternProperties": {"^x_": {}}}, {"x_1": 1, "y": 2}) == ["y"]


class Picky:
    """Checks that read some of their params, or stop early."""

    @hookimpl
    def golive_checks(self):
        schema = {"type": "object", "additionalProperties": True}
        return [CheckSpec("picky", "reads_files_only", self.files_only, params_schema=schema),
                CheckSpec("picky", "reads_all", self.reads_all, params_schema=schema),
                CheckSpec("picky", "stops_early", self.stops_early, params_schema=schema)]

    def files_only(self, requirement, ctx):
        ctx.params.get("files")
        return CheckResult(message="judged every instrument")

    def reads_all(self, requirement, ctx):
        return CheckResult(message=f"judged {ctx.params.get('files')} for {ctx.params['instruments']}")

    def stops_early(self, requirement, ctx):
        return CheckResult(status=Status.MISSING, message="no data files")


def test_a_verdict_that_ignored_a_param_is_an_error_naming_it(tmp_path: Path):
    params = {"files": ["data/*.dbn"], "instruments": ["ESZ6"]}
    plan = make_plan([req("A-01", check=("picky", "reads_files_only"), params=params),
                      req("A-02", check=("picky", "reads_all"), params=params),
                      req("A-03", check=("picky", "stops_early"), params=params)])
    report = run_plan(plan, Target(root=tmp_path), make_host(Picky()), RunOptions())
    out = {o.requirement.id: o for o in report.outcomes}
    assert out["A-01"].status is Status.ERROR
    assert "ignored the param(s) instruments of A-01" in out["A-01"].reason
    assert "would have said pass" in out["A-01"].reason
    assert out["A-02"].status is Status.PASS
    # nothing was judged: an unread param changes nothing
    assert out["A-03"].status is Status.MISSING
