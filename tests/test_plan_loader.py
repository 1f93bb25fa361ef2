"""golive.plan / golive.plan.validate: building the model, the digest, problem reporting, the packaged plan."""
from __future__ import annotations

import csv
import hashlib
import shutil
from pathlib import Path

import pytest

from golive.model import CheckSpec, Plan
from golive import plan as plan_module
from golive.plan import PlanError, Problem, default_plan_path, load, read_plan, resolve_plan_path
from golive.plan.validate import format_problems, load_validated, requirements_per_phase, validate_plan
from golive.yamlsafe import parse_yaml

TESTS = Path(__file__).parent
GOOD = TESTS / "data" / "good"
SECTIONS = ["1-pre-live/pipeline.yaml", "1-pre-live/feed.yaml", "2-live/shadow.yaml"]


@pytest.fixture
def plan_dir(tmp_path: Path) -> Path:
    root = tmp_path / "plan"
    shutil.copytree(GOOD, root)
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_builds_the_model_from_the_files():
    plan = load(GOOD)
    assert (plan.id, plan.title, plan.version, plan.source_lines) == ("test-go-live", "Test Go-Live Plan", "1.0", 120)
    assert [p.number for p in plan.phases] == [1, 2] and plan.phases[1].plan_lines == (70, 120)
    assert [c.id for c in plan.categories] == ["core-pipeline", "api-data-sources", "live-trading-operations"]
    assert plan.priorities["P2"] == "Important gaps" and plan.bands == {"well": 0.75, "partial": 0.25}
    assert [s.file for s in plan.sections] == SECTIONS
    assert plan.root == GOOD

    timing = plan.requirement("PRE-PIPE-04")
    assert (timing.section, timing.phase, timing.plan_lines) == ("PRE-PIPE", 1, (7, 7))
    assert timing.check.plugin == "monitoring" and timing.check.name == "pipeline_duration"
    assert timing.check.params == {"runs": "logs/pipeline_runs.jsonl"} and timing.check.timeout_s == 60.0
    between = timing.thresholds[1]
    assert (between.metric, between.op, between.value, between.unit) == ("rss_slope", "between", (-1, 1), "MiB")
    assert timing.schedule["timezone"] == "America/New_York"
    assert timing.references[0].source == "MiFID II RTS 6" and timing.references[0].clause == "Art. 7"
    assert timing.tags == ("timing",)
    assert (timing.source.file, timing.source.line) == ("1-pre-live/pipeline.yaml", 15)

    connection = plan.requirement("PRE-FEED-01")
    assert connection.plan_lines == (16, 30), "plan_lines default to the section's range"
    assert connection.covered_by.markers == ("FEED-LIVE",)
    assert connection.thresholds[0].value is True
    assert plan.requirement("LIVE-SHADOW-02").manual is True
    assert requirements_per_phase(plan) == {1: 4, 2: 2}


def test_folder_and_plan_yaml_path_load_the_same_plan():
    assert resolve_plan_path(GOOD) == GOOD / "plan.yaml"
    assert load(GOOD).digest == load(GOOD / "plan.yaml").digest == load(str(GOOD)).digest


def test_digest_is_the_sha256_of_the_file_manifest(plan_dir):
    manifest = "".join(
        f"{hashlib.sha256((plan_dir / rel).read_bytes()).hexdigest()}  {rel}\n"
        for rel in ["plan.yaml", *SECTIONS]
    )
    assert load(plan_dir).digest == hashlib.sha256(manifest.encode()).hexdigest()
    assert load(plan_dir).digest == load(GOOD).digest, "the digest does not depend on where the plan lives"
    before = load(plan_dir).digest
    edit(plan_dir / "2-live/shadow.yaml", "section:", "# a comment changes the bytes\nsection:")
    assert load(plan_dir).digest != before


def test_problems_are_collected_across_files_and_sorted(plan_dir):
    edit(plan_dir / "2-live/shadow.yaml", "priority: P2", "priority: P9")
    edit(plan_dir / "2-live/shadow.yaml", "category: live-trading-operations", "category: nope")
    edit(plan_dir / "1-pre-live/pipeline.yaml", "unit: MiB", "unit: mb")
    edit(plan_dir / "1-pre-live/pipeline.yaml", "priority: P1", "priority: P7")
    edit(plan_dir / "plan.yaml", "bands: {well: 0.75, partial: 0.25}", "bands: {well: 0.2, partial: 0.25}")
    plan, problems = validate_plan(plan_dir)
    assert plan is None
    where = [(Path(p.file).name, p.line, p.field) for p in problems]
    assert where == [
        ("plan.yaml", 18, "bands.partial"),
        ("pipeline.yaml", 11, "requirements[PRE-PIPE-01].priority"),
        ("pipeline.yaml", 28, "requirements[PRE-PIPE-04].thresholds[1].unit"),
        ("shadow.yaml", 10, "requirements[LIVE-SHADOW-01].category"),
        ("shadow.yaml", 17, "requirements[LIVE-SHADOW-02].priority"),
    ]
    assert "did you mean 'MiB'" in problems[2].message


def test_a_broken_section_does_not_hide_problems_in_the_others(plan_dir):
    (plan_dir / "1-pre-live/feed.yaml").write_text("section: [\n", encoding="utf-8")
    edit(plan_dir / "2-live/shadow.yaml", "priority: P2", "priority: P9")
    _, problems = validate_plan(plan_dir)
    assert [Path(p.file).name for p in problems] == ["feed.yaml", "shadow.yaml"]


def test_problem_and_plan_error_text():
    problem = Problem("requirements/x.yaml", 12, "requirements[A-01].unit", "unknown unit 'sec'")
    assert str(problem) == "requirements/x.yaml:12: requirements[A-01].unit: unknown unit 'sec'"
    assert str(Problem("plan.yaml", None, "", "file not found")) == "plan.yaml: file not found"
    error = PlanError([problem, Problem("b.yaml", 1, "id", "bad")])
    assert isinstance(error, ValueError)
    assert str(error) == f"{problem}\nb.yaml:1: id: bad"
    assert format_problems(error.problems) == str(error)
    assert format_problems([]) == ""


@pytest.mark.parametrize("make, message", [
    (lambda tmp: tmp / "nowhere", "file not found"),
    (lambda tmp: tmp, "file not found"),  # a folder without plan.yaml
    (lambda tmp: (tmp / "plan.yaml").mkdir() or tmp, "is a directory"),  # plan.yaml is a folder
])
def test_missing_plan_is_a_plan_error(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(PlanError) as raised:
        load(path)
    assert message in str(raised.value)


def test_plan_yaml_schema_errors_stop_before_semantics(plan_dir):
    edit(plan_dir / "plan.yaml", "  source_lines: 120\n", "")
    with pytest.raises(PlanError) as raised:
        load(plan_dir)
    [problem] = raised.value.problems
    assert (Path(problem.file).name, problem.line, problem.field) == ("plan.yaml", 2, "plan.source_lines")
    assert problem.message == "required field is missing"


def test_aliases_and_merge_keys_within_budget_are_read(plan_dir):
    # a section file has no free field for shared defaults, so the anchor sits on a requirement
    (plan_dir / "2-live/shadow.yaml").write_text(
        "section: {id: LIVE-SHADOW, phase: 2, title: Shadow, plan_lines: [72, 90]}\n"
        "requirements:\n"
        "  - &first\n"
        "    id: LIVE-SHADOW-01\n"
        "    title: One\n"
        "    statement: First.\n"
        "    category: live-trading-operations\n"
        "    priority: P1\n"
        "    tags: &tags [shadow, week]\n"
        "  - <<: *first\n"
        "    id: LIVE-SHADOW-02\n"
        "    title: Two\n"
        "    tags: *tags\n",
        encoding="utf-8",
    )
    plan = load(plan_dir)
    second = plan.requirement("LIVE-SHADOW-02")
    assert (second.title, second.statement, second.priority, second.tags) == ("Two", "First.", "P1", ("shadow", "week"))
    assert second.source.line == 10


def test_line_of_falls_back_to_the_nearest_parent():
    doc = parse_yaml("a:\n  b:\n    - x\n    - {c: 1}\n", "t.yaml")
    assert doc.line_of(("a", "b", 1, "c")) == 4
    assert doc.line_of(("a", "b", 1, "missing")) == 4
    assert doc.line_of(("a", "nope")) == 1
    assert doc.line_of(()) == 1


def _noop(requirement, ctx):
    raise AssertionError("validation must not run checks")


def test_plugin_checks_are_only_resolved_when_checks_are_given():
    assert validate_plan(GOOD, None)[1] == []
    _, problems = validate_plan(GOOD, {})
    assert {p.field for p in problems} == {"requirements[PRE-PIPE-04].check.plugin", "requirements[PRE-FEED-01].check.plugin"}
    assert all("installed plugins: none" in p.message and "golive plugins" in p.message for p in problems)


def test_plan_module_offers_load_validated_too():
    checks = {"feed.live_connection": CheckSpec("feed", "live_connection", _noop)}
    with pytest.raises(PlanError, match="unknown plugin 'monitoring'"):
        plan_module.load_validated(GOOD, checks)


def test_an_invalid_params_schema_is_reported_as_a_plugin_bug():
    checks = {
        "monitoring.pipeline_duration": CheckSpec("monitoring", "pipeline_duration", _noop, params_schema={"type": 5}),
        "feed.live_connection": CheckSpec("feed", "live_connection", _noop),
    }
    with pytest.raises(PlanError) as raised:
        load_validated(GOOD, checks)
    [problem] = raised.value.problems
    assert problem.field == "requirements[PRE-PIPE-04].check"
    assert "invalid params schema (a plugin bug)" in problem.message


def test_params_errors_name_the_nested_param_path():
    schema = {"type": "object", "properties": {"runs": {"type": "object", "properties": {"path": {"type": "integer"}}}}}
    checks = {
        "monitoring.pipeline_duration": CheckSpec("monitoring", "pipeline_duration", _noop, params_schema=schema),
        "feed.live_connection": CheckSpec("feed", "live_connection", _noop),
    }
    _, problems = validate_plan(GOOD, checks)
    [problem] = problems
    assert problem.field == "requirements[PRE-PIPE-04].check.params.runs"
    assert problem.message.startswith("expected mapping, got string")


def test_packaged_plan_loads_with_every_indexed_requirement():
    assert default_plan_path().name == "plan.yaml"
    plan = load()
    assert isinstance(plan, Plan) and len(plan.digest) == 64
    index = TESTS / "reference" / "requirements_index.tsv"
    with index.open(encoding="utf-8") as f:
        rows = [row for row in csv.reader(f, delimiter="\t") if row and not row[0].startswith("#")]
    # the firm's plan is the index; section REG holds what the regulations add (source: regulation)
    own = [r.id for s in plan.sections if s.origin == "plan" for r in s.requirements]
    added = [r.id for s in plan.sections if s.origin == "regulation" for r in s.requirements]
    assert sorted(own) == sorted(row[0] for row in rows)
    assert [s.id for s in plan.sections if s.origin == "regulation"] == ["REG"] and len(added) == 6
    assert sum(requirements_per_phase(plan).values()) == len(rows) + len(added)
    assert read_plan().complete


def test_owner_is_the_sections_role_unless_a_requirement_names_its_own(plan_dir):
    """``owner`` (a role, never a person) on a section is its requirements' default; a
    requirement's own ``owner`` overrides it; without either the requirement has none."""
    shadow = plan_dir / "2-live/shadow.yaml"
    edit(shadow, "  plan_lines: [72, 90]\n", "  plan_lines: [72, 90]\n  owner: head-of-trading\n")
    edit(shadow, "    priority: P1\n", "    priority: P1\n    owner: operations\n")
    plan = load(plan_dir)
    owners = {r.id: r.owner for r in plan.requirements}
    assert owners["LIVE-SHADOW-01"] == "operations"
    assert {owners[r.id] for r in plan.requirements if r.section == "LIVE-SHADOW" and r.id != "LIVE-SHADOW-01"} \
        == {"head-of-trading"}
    assert {owners[r.id] for r in plan.requirements if r.section != "LIVE-SHADOW"} == {""}
    assert next(s for s in plan.sections if s.id == "LIVE-SHADOW").owner == "head-of-trading"


@pytest.mark.parametrize("owner", ["Alice Risk", "", "risk\nteam", "head_of_trading"])
def test_an_owner_that_is_not_a_role_name_is_refused_with_its_line(plan_dir, owner):
    edit(plan_dir / "2-live/shadow.yaml", "  plan_lines: [72, 90]\n", f"  plan_lines: [72, 90]\n  owner: {owner!r}\n")
    plan, problems = validate_plan(plan_dir)
    assert plan is None
    found = [p for p in problems if p.field == "section.owner"]
    assert found and found[0].line == 6 and "a role, not a person" in found[0].message, problems


def test_every_section_of_the_packaged_plan_names_an_owner_role():
    plan = load(None)
    assert all(s.owner for s in plan.sections), [s.id for s in plan.sections if not s.owner]
    owners = {r.owner for r in plan.requirements}
    assert owners <= {"head-of-trading", "risk", "compliance", "operations", "engineering"}, owners
    assert next(r for r in plan.requirements if r.id == "RISK-06").owner == "operations"  # overrides its section
    assert next(r for r in plan.requirements if r.id == "RISK-01").owner == "risk"
