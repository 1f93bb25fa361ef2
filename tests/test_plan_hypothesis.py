"""Property: whatever a section file or plan.yaml contains, loading gives a Plan or a PlanError.

Nothing else may escape ``load`` -- no YAML, schema, type, recursion or decoding error -- so
``golive validate`` can always print ``file:line: field: message`` and exit 2.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from golive.model import CheckResult, CheckSpec, Plan
from golive.plan import PlanError, load
from golive.plan.validate import validate_plan

GOOD = Path(__file__).parent / "data" / "good"
SECTION = "1-pre-live/feed.yaml"


def _never_run(requirement, ctx):
    return CheckResult()


CHECKS = {
    "feed.live_connection": CheckSpec("feed", "live_connection", _never_run, metrics=("connected",),
                                      params_schema={"type": "object", "properties": {"since": {"type": "string"}},
                                                     "additionalProperties": False}),
    "monitoring.pipeline_duration": CheckSpec("monitoring", "pipeline_duration", _never_run),
}
SETTINGS = settings(max_examples=70, deadline=None, suppress_health_check=[HealthCheck.too_slow])

FIELD_NAMES = [
    "section", "requirements", "id", "phase", "title", "plan_lines", "statement", "category", "priority",
    "check", "plugin", "name", "params", "timeout", "thresholds", "metric", "op", "value", "unit",
    "covered_by", "tests", "results", "markers", "manual", "references", "source", "clause", "schedule",
    "cron", "interval", "timezone", "calendar", "tags", "between", "<", "%", "PRE-FEED-01",
]
scalars = (
    st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30) | st.dates()
    | st.sampled_from(FIELD_NAMES + ["P1", "core-pipeline", "api-data-sources", "min", "between"])
)
keys = st.sampled_from(FIELD_NAMES) | st.text(max_size=12)
structures = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(keys, children, max_size=6),
    max_leaves=40,
)
requirement_like = st.fixed_dictionaries(
    {"id": st.sampled_from(["PRE-FEED-01", "PRE-FEED-02", "PRE-PIPE-04", "bad id"]) | scalars,
     "title": scalars, "statement": scalars, "category": st.sampled_from(["api-data-sources", "x"]),
     "priority": st.sampled_from(["P1", "P4"])},
    optional={"plan_lines": st.lists(st.integers(-5, 200), max_size=3) | scalars,
              "thresholds": st.lists(st.fixed_dictionaries(
                  {"metric": st.sampled_from(["connected", "a", "a"]),
                   "op": st.sampled_from(["<", ">=", "==", "between", "~"]),
                   "value": structures},
                  optional={"unit": st.sampled_from(["s", "%", "MiB", "parsec"]) | scalars}), max_size=3),
              "check": st.fixed_dictionaries({"plugin": st.sampled_from(["feed", "monitoring"]),
                                              "name": st.sampled_from(["live_connection", "x"])},
                                             optional={"params": structures, "timeout": scalars}),
              "manual": st.booleans() | scalars,
              "schedule": st.dictionaries(st.sampled_from(["cron", "interval", "timezone", "calendar"]),
                                          scalars, max_size=3),
              "covered_by": structures},
)
section_like = st.fixed_dictionaries(
    {"section": st.fixed_dictionaries(
        {"id": st.sampled_from(["PRE-FEED", "PRE-PIPE", "x"]), "phase": st.integers(-1, 3) | scalars,
         "title": scalars, "plan_lines": st.lists(st.integers(-5, 200), min_size=2, max_size=2) | scalars}),
     "requirements": st.lists(requirement_like, max_size=3) | structures},
)


def load_with(rel: str, content: bytes) -> None:
    """Load the good plan with ``rel`` replaced by ``content``; must give a Plan or PlanError."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "plan"
        shutil.copytree(GOOD, root)
        (root / rel).write_bytes(content)
        try:
            plan = load(root)
        except PlanError as exc:
            assert exc.problems, "a PlanError always names at least one problem"
            assert all(str(p) for p in exc.problems)
        else:
            assert isinstance(plan, Plan)
        checked, problems = validate_plan(root, CHECKS)  # the plugin checks must not crash either
        assert (checked is None) == bool(problems)


def dump(data) -> bytes:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode("utf-8")


@SETTINGS
@given(st.binary(max_size=400))
def test_arbitrary_bytes_as_a_section_file(content):
    load_with(SECTION, content)


@SETTINGS
@given(st.text(max_size=400))
def test_arbitrary_text_as_a_section_file(text):
    load_with(SECTION, text.encode("utf-8", "surrogatepass"))


@SETTINGS
@given(structures)
def test_arbitrary_structures_as_a_section_file(data):
    load_with(SECTION, dump(data))


@SETTINGS
@given(section_like)
def test_section_like_structures(data):
    load_with(SECTION, dump(data))


@SETTINGS
@given(structures)
def test_arbitrary_structures_as_plan_yaml(data):
    load_with("plan.yaml", dump(data))


@SETTINGS
@given(st.sampled_from(["plan.yaml", SECTION]), st.integers(0, 2000), st.binary(min_size=1, max_size=8))
def test_byte_corruption_of_valid_files(rel, offset, junk):
    original = (GOOD / rel).read_bytes()
    offset %= len(original)
    load_with(rel, original[:offset] + junk + original[offset + len(junk):])
