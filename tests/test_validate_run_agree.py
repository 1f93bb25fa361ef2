"""Property: the validator and the engine agree on types.

Whatever requirement spec ``golive validate`` accepts -- any threshold value, unit, operator,
params, min_period/max_age -- ``run`` evaluates to a status for every requirement without an
exception, and the results document is written. A spec validate refuses is refused with the
file and the requirement's id. Checks report generated metrics of every kind (numbers, huge
integers, NaN/sNaN Decimals, strings, booleans, Quantities with any unit, None, lists), because
a check may report anything: an incomparable metric is that requirement's ``error``.
"""
from __future__ import annotations

import json
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path

import yaml
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from golive import hookimpl
from golive.model import CheckResult, CheckSpec, Quantity, Status, Target
from golive.plan.thresholds import OPS
from golive.plan.units import UNITS, duration_seconds
from golive.plan.validate import validate_plan
from golive.results import build_document, dumps
from golive.run.runner import RunOptions, run_plan

from enginehelpers import make_host

METRICS = ("m1", "m2", "m3")
SECTION_FILE = "1-pre-live/agree.yaml"
PLAN_YAML = {
    "plan": {"id": "agree", "title": "Agreement plan", "version": "1", "source_lines": 100},
    "phases": [{"number": 1, "id": "pre-live", "title": "Pre-live", "plan_lines": [1, 100]}],
    "categories": [{"id": "core", "title": "Core"}],
    "priorities": {"P1": "critical"},
    "bands": {"well": 0.75, "partial": 0.25},
    "sections": [SECTION_FILE],
}


class EchoChecks:
    """A check that reports exactly the metrics, status and observations its params describe;
    ``{"quantity": v, "unit": u}`` becomes a Quantity, ``{"decimal": "NaN"}`` a Decimal."""

    @hookimpl
    def golive_checks(self):
        schema = {"type": "object", "properties": {"metrics": {"type": "object"}, "status": {},
                                                    "observed": {}, "crash": {"type": "boolean"}},
                  "additionalProperties": False}
        return [CheckSpec("agree", "echo", self.echo, params_schema=schema, metrics=METRICS)]

    @staticmethod
    def _metric(spec):
        if isinstance(spec, dict) and "quantity" in spec:
            return Quantity(spec["quantity"], spec.get("unit"))
        if isinstance(spec, dict) and "decimal" in spec:
            return Decimal(spec["decimal"])
        return spec

    def echo(self, requirement, ctx):
        if ctx.params.get("crash"):
            import pandas as pd

            pd.DataFrame({"a": [1]})["signal_id"]  # a library raising on the check's mistake
        metrics = {k: self._metric(v) for k, v in (ctx.params.get("metrics") or {}).items()}
        observed = ctx.params.get("observed")
        return CheckResult(status=ctx.params.get("status"), metrics=metrics,
                           observed=observed if isinstance(observed, dict) else {})


_HOST = None


def host():
    global _HOST
    if _HOST is None:
        _HOST = make_host(EchoChecks())
    return _HOST


numbers = (st.integers(-(10**20), 10**20) | st.sampled_from([0, 1, -1, 2**63, 10**99])
           | st.floats(allow_nan=True, allow_infinity=True))
odd = st.sampled_from([10**400, None, [], {}]) | st.booleans() | st.dates()
texts = st.sampled_from(["zero", "0", "1e309", "", "closed", "nan", " 5 ", "true", "100 ms"]) | st.text(max_size=8)
scalars = st.none() | st.booleans() | numbers | texts | st.dates()
values = scalars | st.lists(scalars, max_size=3) | st.dictionaries(st.sampled_from(["a", "low"]), scalars, max_size=2)
units = st.none() | st.sampled_from(list(UNITS)) | st.sampled_from(["ms ", "mib", "USD/s", ""]) | st.integers(0, 3)
wild_threshold = st.fixed_dictionaries(
    {"metric": st.sampled_from(METRICS), "op": st.sampled_from(list(OPS) + ["=", "~"]), "value": values},
    optional={"unit": units, "description": st.text(max_size=5)},
)
# mostly specs a plan author could write, so most examples reach the engine
pair = st.lists(numbers, min_size=2, max_size=2).map(sorted)
plausible_threshold = st.sampled_from(OPS).flatmap(lambda op: st.fixed_dictionaries(
    {"metric": st.sampled_from(METRICS), "op": st.just(op),
     "value": pair if op == "between" else numbers | texts | st.booleans() if op == "==" else numbers},
    optional={"unit": st.sampled_from(list(UNITS))}))
threshold = st.one_of(*[plausible_threshold] * 7, wild_threshold)
metric_value = (scalars | st.lists(numbers, max_size=2)
                | st.fixed_dictionaries({"quantity": scalars, "unit": st.sampled_from(list(UNITS) + ["parsec"])})
                | st.fixed_dictionaries({"decimal": st.sampled_from(["NaN", "sNaN", "1e999999", "-0", "Infinity",
                                                                     "0.1"])}))
valid_durations = st.sampled_from(["5 d", "12 h", "30 d", "1 s"]) | st.floats(0.001, 1e9)
durations = st.one_of(*[valid_durations] * 5, st.sampled_from(["1 fortnight", "0 s", "-1 h", "1e400 s"]) | numbers | odd)
observed = st.none() | st.fixed_dictionaries({}, optional={
    "events": st.none() | st.integers(-2, 3) | st.floats() | st.text(max_size=3),
    "first": st.none() | st.sampled_from(["2026-01-01T00:00:00Z", "yesterday", "2026-13-40"]) | st.integers(),
    "newest": st.none() | st.sampled_from(["2026-12-01T00:00:00+00:00", "now"]) | st.integers(),
    "what": st.text(max_size=5)})
requirement = st.fixed_dictionaries(
    {"thresholds": st.lists(threshold, max_size=2),
     "params": st.fixed_dictionaries({}, optional={
         "metrics": st.dictionaries(st.sampled_from(METRICS + ("other",)), metric_value, max_size=4),
         "status": st.none() | st.sampled_from(["pass", "fail", "partial", "missing", "error", "skipped",
                                                "waived", "bogus"]) | st.integers(0, 2),
         "observed": observed})},
    optional={"min_period": durations, "max_age": durations, "timeout": st.one_of(*[st.floats(0.5, 30)] * 5, numbers | odd)},
)

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _write_plan(root: Path, specs: list[dict]) -> Path:
    requirements = []
    for i, spec in enumerate(specs, 1):
        item = {"id": f"AGR-{i:02d}", "title": f"Requirement {i}", "statement": "Generated.", "category": "core",
                "priority": "P1", "check": {"plugin": "agree", "name": "echo", "params": spec["params"]},
                "thresholds": spec["thresholds"]}
        if "timeout" in spec:
            item["check"]["timeout"] = spec["timeout"]
        item.update({k: spec[k] for k in ("min_period", "max_age") if k in spec})
        requirements.append(item)
    section = {"section": {"id": "AGR", "phase": 1, "title": "Agreement", "plan_lines": [1, 100]},
               "requirements": requirements}
    (root / "1-pre-live").mkdir(parents=True)
    (root / "plan.yaml").write_text(yaml.safe_dump(PLAN_YAML, sort_keys=False), encoding="utf-8")
    # allow_unicode=False keeps odd generated text a valid YAML escape rather than raw bytes
    (root / SECTION_FILE).write_text(yaml.safe_dump(section, sort_keys=False), encoding="utf-8")
    return root / "plan.yaml"


@given(st.lists(requirement, min_size=1, max_size=3))
@SETTINGS
@example([{"thresholds": [{"metric": "m1", "op": "==", "value": "zero", "unit": "count"}],
           "params": {"metrics": {"m1": 0}}}])
@example([{"thresholds": [{"metric": "m1", "op": "==", "value": "zero"}], "params": {"metrics": {"m1": 0}}}])
@example([{"thresholds": [], "params": {}, "min_period": 123456789, "max_age": 1e-300}])
@example([{"thresholds": [{"metric": "m1", "op": "<", "value": 5}], "params": {"metrics": {"m1": {"decimal": "sNaN"}}}}])
@example([{"thresholds": [{"metric": "m1", "op": "<", "value": 5, "unit": "ms"}],
           "params": {"metrics": {"m1": {"quantity": 10**400, "unit": "s"}}}}])
def test_whatever_validate_accepts_run_evaluates(specs):
    root = Path(tempfile.mkdtemp(prefix="golive-agree-"))
    try:
        plan_path = _write_plan(root / "plan", specs)
        plan, problems = validate_plan(plan_path, host().checks())
        event("refused by validate" if plan is None else "accepted by validate")
        if plan is None:
            # refused: every problem names its file and, inside a requirement, the requirement's id
            assert problems
            for p in problems:
                assert p.file.endswith((".yaml", ".yml")), p
                if p.field.startswith("requirements["):
                    assert p.field.startswith("requirements[AGR-"), p
            return
        for accepted in plan.requirements:  # the engine reads the durations validate accepted
            for text in (accepted.min_period, accepted.max_age):
                if text is not None:
                    assert duration_seconds(text) > 0
        (root / "target").mkdir()
        report = run_plan(plan, Target(root=root / "target"), host(), RunOptions(jobs=2, timeout_s=30))
        assert [o.requirement.id for o in report.outcomes] == [r.id for r in plan.requirements]
        for outcome in report.outcomes:
            event(f"run: {outcome.status.value}")
            assert isinstance(outcome.status, Status)
            assert outcome.status is not Status.WAIVED  # only an approver waives
            if outcome.status is Status.ERROR:
                assert outcome.reason, outcome
        document = json.loads(dumps(build_document(report)))
        assert len(document["results"]) == len(specs)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_a_word_for_a_counted_threshold_is_refused_with_file_and_requirement(tmp_path):
    """The reported case: ``value: "zero"`` with a unit passed validate, then a TypeError ended the
    whole run without results."""
    plan_path = _write_plan(tmp_path, [{"thresholds": [{"metric": "m1", "op": "==", "value": "zero", "unit": "count"}],
                                        "params": {"metrics": {"m1": 0}}}])
    plan, problems = validate_plan(plan_path, host().checks())
    assert plan is None and len(problems) == 1
    assert problems[0].file.endswith(SECTION_FILE)
    assert problems[0].field == "requirements[AGR-01].thresholds[0].value"
    assert "'zero' is not a number" in problems[0].message and problems[0].line


def test_a_text_threshold_on_a_numeric_metric_is_that_requirements_error_only(tmp_path):
    plan_path = _write_plan(tmp_path / "plan", [
        {"thresholds": [{"metric": "m1", "op": "==", "value": "zero"}], "params": {"metrics": {"m1": 0}}},
        {"thresholds": [{"metric": "m1", "op": "<", "value": 5}], "params": {"metrics": {"m1": 1}}},
    ])
    plan, problems = validate_plan(plan_path, host().checks())
    assert problems == []
    (tmp_path / "target").mkdir()
    report = run_plan(plan, Target(root=tmp_path / "target"), host(), RunOptions(jobs=1))
    first, second = report.outcomes
    assert first.status is Status.ERROR and "'zero', which is not a number" in first.reason
    assert second.status is Status.PASS


def test_an_unjudgeable_result_is_an_error_naming_the_requirement(tmp_path):
    """A checker status the engine does not know (a plugin bug) costs that requirement only."""
    plan_path = _write_plan(tmp_path / "plan", [{"thresholds": [], "params": {"status": "bogus"}},
                                                {"thresholds": [], "params": {"metrics": {"m1": 1}}}])
    plan, problems = validate_plan(plan_path, host().checks())
    assert problems == []
    (tmp_path / "target").mkdir()
    report = run_plan(plan, Target(root=tmp_path / "target"), host(), RunOptions(jobs=1))
    first, second = report.outcomes
    assert first.status is Status.ERROR and "agree.echo on AGR-01" in first.reason and "bogus" in first.reason
    assert second.status is Status.PASS


def test_a_crash_inside_a_library_names_the_checks_line(tmp_path):
    """The reason points at the check's own line (where to fix it), then the library frame."""
    plan_path = _write_plan(tmp_path / "plan", [{"thresholds": [], "params": {"crash": True}}])
    plan, problems = validate_plan(plan_path, host().checks())
    assert problems == []
    (tmp_path / "target").mkdir()
    outcome, = run_plan(plan, Target(root=tmp_path / "target"), host(), RunOptions(jobs=1)).outcomes
    assert outcome.status is Status.ERROR
    assert "KeyError: 'signal_id' at test_validate_run_agree.py:" in outcome.reason
    assert "(in pandas " in outcome.reason


def test_a_boolean_threshold_on_a_0_1_metric_compares_as_python_does(tmp_path):
    """``connected == true`` with a check reporting ``connected: 1`` passes (True == 1), as before."""
    plan_path = _write_plan(tmp_path / "plan", [
        {"thresholds": [{"metric": "m1", "op": "==", "value": True}], "params": {"metrics": {"m1": 1}}},
        {"thresholds": [{"metric": "m1", "op": "==", "value": True}], "params": {"metrics": {"m1": 0}}},
    ])
    plan, problems = validate_plan(plan_path, host().checks())
    assert problems == []
    (tmp_path / "target").mkdir()
    first, second = run_plan(plan, Target(root=tmp_path / "target"), host(), RunOptions(jobs=1)).outcomes
    assert first.status is Status.PASS and second.status is Status.FAIL
