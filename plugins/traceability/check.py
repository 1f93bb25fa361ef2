"""The ``traceability.linked_tests`` check: judge a requirement by the team's own tests.

The engine runs it for every requirement without a ``check`` block, with ``ctx.tests`` holding
the records linked to the requirement. Statuses:

* ``missing`` -- no test or result file covers the requirement;
* ``fail`` -- a linked test's latest recorded outcome is ``failed`` or ``error`` (named);
* ``partial`` -- some linked tests have no recorded result (or were skipped), so the
  requirement is covered but not shown to hold; with ``min_pass_rate`` set, it is partial only
  when the share of linked tests that passed is below it;
* ``pass`` -- otherwise.

Metrics: ``tests``, ``passed``, ``failed`` (failed or error), ``skipped``, ``without_result``,
``pass_rate`` (passed / tests, a ratio). The test files and result files behind the verdict are
recorded as evidence artifacts.
"""
from __future__ import annotations

from pathlib import Path

from golive.model import CheckContext, CheckResult, CheckSpec, Requirement, Status, TestRecord
from golive.plugins.monitoring.observation import observe

PARAMS_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "min_pass_rate": {
            "type": "number", "minimum": 0, "maximum": 1,
            "description": "share of linked tests that must have a recorded pass (default: all)",
        },
    },
    "additionalProperties": False,
}
METRICS = ("tests", "passed", "failed", "skipped", "without_result", "pass_rate")
MAX_NAMED = 10  # tests named in a message before "and N more"


def _names(records: list[TestRecord]) -> str:
    shown = ", ".join(r.id for r in records[:MAX_NAMED])
    extra = len(records) - MAX_NAMED
    return f"{shown} and {extra} more" if extra > 0 else shown


def linked_tests(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    tests = list(ctx.tests)
    failed = [t for t in tests if t.outcome in ("failed", "error")]
    passed = [t for t in tests if t.outcome == "passed"]
    skipped = [t for t in tests if t.outcome == "skipped"]
    without = [t for t in tests if t.outcome is None]
    metrics = {
        "tests": len(tests), "passed": len(passed), "failed": len(failed), "skipped": len(skipped),
        "without_result": len(without), "pass_rate": (len(passed) / len(tests)) if tests else 0.0,
    }
    details = {"tests": [{"id": t.id, "kind": t.kind, "outcome": t.outcome} for t in tests]}
    if not tests:
        return CheckResult(status=Status.MISSING, metrics=metrics, details=details,
                           message="no test or result covers it")
    artifacts = _record_evidence(tests, ctx, requirement)
    if failed:
        status, message = Status.FAIL, f"{len(failed)} of {len(tests)} linked test(s) failed: {_names(failed)}"
    else:
        unproven = without + skipped
        min_rate = ctx.params.get("min_pass_rate")
        short = metrics["pass_rate"] < min_rate if min_rate is not None else bool(unproven)
        if short:
            parts = []
            if without:
                parts.append(f"{len(without)} without a recorded result: {_names(without)}")
            if skipped:
                parts.append(f"{len(skipped)} skipped: {_names(skipped)}")
            wanted = f" (needs {min_rate:.0%} passed)" if min_rate is not None else ""
            status = Status.PARTIAL
            message = f"{len(passed)} of {len(tests)} linked test(s) passed{wanted}; " + "; ".join(parts)
        else:
            status, message = Status.PASS, f"{len(passed)} of {len(tests)} linked test(s) passed"
    # the evidence is the recorded outcomes (results carry no reliable time: the period is not dated)
    return observe(CheckResult(status=status, metrics=metrics, message=message, artifacts=artifacts, details=details),
                   "recorded outcomes of linked tests", (), events=len(tests) - len(without))


def _record_evidence(tests: list[TestRecord], ctx: CheckContext, requirement: Requirement | None = None) -> list:
    """Hash the test sources and result files the verdict rests on, and the map file when it
    links one of them; files that vanished are left out (the records already say what was found)."""
    from .mapfile import load_for_target

    wanted: dict[str, str] = {}
    link_map = load_for_target(ctx.target) if requirement is not None else None
    if link_map is not None and link_map.path is not None and any(
            link_map.entry_covering(requirement.id, t) for t in tests):
        wanted[str(link_map.path)] = "input"
    for record in tests:
        # a pytest record's path is its source; every other record's path is a result file
        wanted.setdefault(record.path, "input" if record.kind == "pytest" else "test-result")
        for result_path in getattr(record, "result_files", ()):
            wanted.setdefault(result_path, "test-result")
    recorded = []
    for rel, role in wanted.items():
        full = Path(rel) if Path(rel).is_absolute() else ctx.target.root / rel
        if full.is_file():
            recorded.append(ctx.record_artifact(full, role=role))
    return recorded


LINKED_TESTS = CheckSpec(
    plugin="traceability", name="linked_tests", func=linked_tests,
    description="Judges a requirement by the latest recorded outcomes of the team's tests and result files linked to it",
    params_schema=PARAMS_SCHEMA, metrics=METRICS,
)
