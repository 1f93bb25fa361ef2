"""From a check's result to a requirement's verdict (status, reason, thresholds).

Rules (DESIGN.md "Statuses"):
- a check that says ``missing``, ``skipped`` or ``error`` keeps that status; thresholds are not
  evaluated on absent or corrupt input;
- otherwise every threshold is evaluated: all hold -> ``pass``, none -> ``fail``, some ->
  ``partial``; a check's own ``fail``/``partial`` (sub-checks that are not thresholds) is
  combined with the thresholds' verdict, the worse one winning;
- a metric that cannot be compared (not reported, wrong unit) is a checker/plan bug: ``error``.
A requirement is *implemented* when tests cover it or its check found evidence to judge.
"""
from __future__ import annotations

from golive.model import Artifact, CheckResult, Outcome, Requirement, Status
from golive.plan.thresholds import describe, evaluate

_SEVERITY = {Status.PASS: 0, Status.PARTIAL: 1, Status.FAIL: 2}
TERMINAL = (Status.MISSING, Status.SKIPPED, Status.ERROR)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def judge(req: Requirement, result: CheckResult, artifacts: list[Artifact], covered_by: list[str],
          evaluate_thresholds: bool = True) -> Outcome:
    """``evaluate_thresholds=False`` is for requirements without a check block: they are judged
    from the team's tests, and the plan's thresholds wait for a checker (listed, not faked)."""
    arts = list(artifacts) + [a for a in result.artifacts if a not in artifacts]
    base = Outcome(
        requirement=req, status=Status.ERROR, covered_by=list(covered_by), metrics=dict(result.metrics),
        artifacts=arts, details=dict(result.details),
    )
    declared = Status(result.status) if result.status is not None else None
    if declared is Status.WAIVED:  # waivers come from the ledger, never from a checker
        declared = Status.ERROR
        result.message = f"checker claimed 'waived' for {req.id}, which only an approver can grant"
    if declared in TERMINAL:
        base.status = declared
        base.reason = result.message or {
            Status.MISSING: "the evidence this check needs does not exist",
            Status.SKIPPED: "not applicable now",
            Status.ERROR: "the check failed without a message",
        }[declared]
        base.implemented = bool(covered_by) or declared is Status.ERROR and bool(arts)
        return base

    thresholds = req.thresholds if evaluate_thresholds else ()
    if req.thresholds and not evaluate_thresholds:
        base.details["thresholds_pending"] = [describe(t) for t in req.thresholds]
    evaluated, problems = evaluate(thresholds, result.metrics)
    base.thresholds = evaluated
    base.implemented = True
    if problems:
        base.status = Status.ERROR
        base.reason = "; ".join(problems)
        return base

    if evaluated:
        passed = sum(t.passed for t in evaluated)
        verdict = Status.PASS if passed == len(evaluated) else Status.FAIL if passed == 0 else Status.PARTIAL
    else:
        verdict = Status.PASS
    if declared is not None and _SEVERITY.get(declared, 0) > _SEVERITY[verdict]:
        verdict = declared
    base.status = verdict

    failing = [f"{t.metric} = {_fmt(t.observed)}{' ' + t.unit if t.unit else ''}, needs {describe(t).split(' ', 1)[1]}"
               for t in evaluated if not t.passed]
    parts = [result.message] if result.message else []
    if failing:
        parts.append("; ".join(failing))
    elif evaluated and verdict is Status.PASS:
        parts.append(f"all {len(evaluated)} threshold(s) hold")
    if base.details.get("thresholds_pending"):
        parts.append("not yet measured by a checker: " + ", ".join(base.details["thresholds_pending"]))
    base.reason = "; ".join(p for p in parts if p)
    return base
