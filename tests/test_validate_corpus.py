"""The malformed-plan corpus: every case must produce exactly the problems it expects.

Each folder under ``tests/data/malformed/`` holds the files that differ from the valid plan in
``tests/data/good/`` plus ``expected.yaml``. The test copies the good plan, lays the case's files
over it and validates it against a small set of plugin checks (``FAKE_CHECKS``); the problems
must match ``expected.yaml`` one for one: same file, line and field, message containing the
expected text.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from golive.model import CheckResult, CheckSpec
from golive.plan import PlanError
from golive.plan.validate import format_problems, load_validated, requirements_per_phase, validate_plan

DATA = Path(__file__).parent / "data"
GOOD = DATA / "good"
MALFORMED = DATA / "malformed"
CASES = sorted(p.name for p in MALFORMED.iterdir() if p.is_dir())


def _never_run(requirement, ctx):  # the validator resolves checks; it never calls them
    return CheckResult(message="validation does not run checks")


FAKE_CHECKS = {
    spec.key: spec
    for spec in [
        CheckSpec(
            plugin="monitoring", name="pipeline_duration", func=_never_run,
            params_schema={
                "type": "object",
                "properties": {"runs": {"type": "string"}, "window": {"type": "integer", "minimum": 1}},
                "required": ["runs"],
                "additionalProperties": False,
            },
            metrics=("duration_p95", "rss_slope", "runs"),
        ),
        CheckSpec(plugin="monitoring", name="heartbeat_uptime", func=_never_run),
        CheckSpec(plugin="feed", name="live_connection", func=_never_run,
                  params_schema={"type": "object", "additionalProperties": True}, metrics=("connected", "latency_p99")),
    ]
}


def build_case(case_dir: Path, tmp: Path) -> Path:
    """The good plan with the case's files laid over it; returns the plan folder."""
    root = tmp / "plan"
    shutil.copytree(GOOD, root)
    for src in sorted(case_dir.rglob("*")):
        if src.is_dir() or src.name == "expected.yaml":
            continue
        dest = root / src.relative_to(case_dir)
        for parent in reversed(dest.relative_to(root).parents):
            if (root / parent).is_file():  # the case puts a folder where the good plan has a file
                (root / parent).unlink()
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    return root


def test_corpus_is_large_enough():
    assert len(CASES) >= 20
    for name in CASES:
        assert (MALFORMED / name / "expected.yaml").is_file(), f"{name} has no expected.yaml"


def test_good_plan_is_valid_with_checks():
    plan, problems = validate_plan(GOOD, FAKE_CHECKS)
    assert problems == []
    assert plan is not None and plan.id == "test-go-live"
    assert requirements_per_phase(plan) == {1: 4, 2: 2}


@pytest.mark.parametrize("name", CASES)
def test_malformed_case(name, tmp_path):
    case_dir = MALFORMED / name
    expected = yaml.safe_load((case_dir / "expected.yaml").read_text(encoding="utf-8"))
    root = build_case(case_dir, tmp_path)
    plan, problems = validate_plan(root, FAKE_CHECKS)
    assert plan is None
    got = [(Path(p.file).relative_to(root).as_posix(), p.line, p.field, p.message) for p in problems]
    want = expected["problems"]
    assert len(got) == len(want), f"{name}: expected {len(want)} problems, got:\n{format_problems(problems)}"
    for (file, line, field, message), exp in zip(got, want):
        assert (file, line, field) == (exp["file"], exp["line"], exp["field"]), f"{name}: {file}:{line}: {field}: {message}"
        assert exp["message"] in message, f"{name}: {message!r} lacks {exp['message']!r}"
    with pytest.raises(PlanError) as raised:
        load_validated(root, FAKE_CHECKS)
    assert raised.value.problems == problems
    assert str(raised.value) == "\n".join(str(p) for p in problems)
