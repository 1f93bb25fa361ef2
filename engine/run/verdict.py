"""From a check's result to a requirement's verdict (status, reason, thresholds).

Rules (DESIGN.md "Statuses" and "Truth contracts"), in this order:
- a check that says ``missing``, ``skipped`` or ``error`` keeps that status; thresholds are not
  evaluated on absent or corrupt input;
- otherwise every threshold is evaluated: all hold -> ``pass``, none -> ``fail``, some ->
  ``partial``; a check's own ``fail``/``partial`` (sub-checks that are not thresholds) is
  combined with the thresholds' verdict, the worse one winning;
- a metric that cannot be compared (not reported, wrong unit) is a checker/plan bug: ``error``;
- no pass without evidence: ``observed.events == 0`` -> ``missing`` ("not exercised: no <what>
  in the period"); the requirement's ``min_period`` and ``max_age`` are judged against
  ``observed.first`` / ``observed.newest`` at the run clock: a shorter period or stale newest
  observation -> ``missing`` with what was seen (the would-be verdict stays in the reason);
- a failing confirmed test (outcome failed/error) caps the requirement: ``partial`` when the
  checker passes, ``fail`` otherwise (``error`` stays ``error``); the team's test outcomes are
  listed in ``details["tests"]`` beside the checker's metrics.
A requirement is *covered* (``Outcome.implemented``) when a confirmed test links to it or its
check produced evidence it could judge (final status pass, fail or partial).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable

from golive.model import Artifact, CheckResult, Outcome, Requirement, Status, TestRecord
from golive.plan.thresholds import describe, evaluate
from golive.plan.units import UnitError, duration_seconds

_SEVERITY = {Status.PASS: 0, Status.PARTIAL: 1, Status.FAIL: 2}
TERMINAL = (Status.MISSING, Status.SKIPPED, Status.ERROR)
JUDGED = (Status.PASS, Status.FAIL, Status.PARTIAL)  # evidence was there to judge
TEST_FAILED = ("failed", "error")


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _when(text) -> datetime | None:
    """An ISO-8601 time from ``observed`` (``Z`` allowed; naive = UTC), or None."""
    if not text:
        return None
    moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _span(seconds: float) -> str:
    """A duration as a person reads it: "6.0 h", "2.5 d", "45 s"."""
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


FUTURE_TOLERANCE_S = 300  # clocks of the trading host and of the run's host may differ a little


def evidence_problem(req: Requirement, observed: dict, now: datetime) -> tuple[Status, str] | None:
    """Why the observations cannot support a verdict (status, reason), or None when they can.

    ``error`` when the observations themselves are malformed or the plan asks for a period the
    check does not report (a checker/plan mismatch); ``missing`` when too little was seen."""
    if not observed and not (req.min_period or req.max_age):
        return None
    what = observed.get("what") or "observations"
    events = observed.get("events")
    if events is not None and int(events) == 0:
        return Status.MISSING, f"not exercised: no {what} in the period"
    try:
        first, newest = _when(observed.get("first")), _when(observed.get("newest"))
    except ValueError as exc:
        return Status.ERROR, f"the check reported a malformed observation time ({exc})"
    if newest is not None and (newest - now).total_seconds() > FUTURE_TOLERANCE_S:
        # evidence from after the run is a wrong clock, a wrong time zone or made-up data
        return Status.ERROR, (f"observed {what} dated after the run: newest {newest:%Y-%m-%d %H:%M} UTC is "
                              f"{_span((newest - now).total_seconds())} after the run clock "
                              f"({now:%Y-%m-%d %H:%M} UTC); check the clocks and time zones of the records")
    if req.min_period:
        need = duration_seconds(req.min_period)
        if first is None or newest is None:
            return Status.ERROR, (f"{req.id} requires min_period {req.min_period}, but the check reported no "
                                  f"observation period (observed.first/newest)")
        got = (newest - first).total_seconds()
        if got < need:
            return Status.MISSING, (f"observed only {_span(got)} of {what} ({first:%Y-%m-%d %H:%M} to "
                                    f"{newest:%Y-%m-%d %H:%M} UTC) of the required {req.min_period}")
    if req.max_age:
        limit = duration_seconds(req.max_age)
        if newest is None:
            return Status.ERROR, (f"{req.id} requires max_age {req.max_age}, but the check reported no "
                                  f"newest observation (observed.newest)")
        age = (now - newest).total_seconds()
        if age > limit:
            return Status.MISSING, (f"evidence is stale: newest {what} {newest:%Y-%m-%d %H:%M} UTC is "
                                    f"{_span(age)} old, older than max_age {req.max_age}")
    return None


def tests_detail(tests: Iterable[TestRecord]) -> list[dict]:
    return [{"id": t.id, "kind": t.kind, "outcome": t.outcome} for t in tests]


def judge(req: Requirement, result: CheckResult, artifacts: list[Artifact], covered_by: list[str],
          evaluate_thresholds: bool = True, tests: Iterable[TestRecord] = (),
          now: datetime | None = None) -> Outcome:
    """``evaluate_thresholds=False`` is for requirements without a check block: they are judged
    from the team's tests, and the plan's thresholds wait for a checker (listed, not faked).
    ``tests`` are the confirmed test records covering ``req``; ``now`` the run clock."""
    tests = list(tests)
    outcome = _judge_check(req, result, artifacts, covered_by, evaluate_thresholds)
    outcome.observed = dict(result.observed or {})
    outcome.configure = result.configure or ""
    if outcome.status not in TERMINAL:
        try:
            problem = evidence_problem(req, outcome.observed, now or datetime.now(timezone.utc))
        except (UnitError, TypeError, ValueError) as exc:
            problem = Status.ERROR, f"cannot judge the observations of {req.id}: {exc}"
        if problem is not None:
            status, why = problem
            # what the check made of too little or stale data stays visible; of nothing, there is nothing
            judged_something = outcome.reason and not why.startswith("not exercised")
            was = f" (the check would have said {outcome.status.value}: {outcome.reason})" if judged_something else ""
            outcome.status, outcome.reason = status, why + was
    if tests:
        outcome.details.setdefault("tests", tests_detail(tests))
    cap_by_tests(outcome, tests)
    outcome.implemented = bool(covered_by) or outcome.status in JUDGED
    return outcome


def cap_by_tests(outcome: Outcome, tests: list[TestRecord]) -> None:
    """A failing confirmed test: the checker's pass becomes partial, anything else but error fail."""
    failed = [t for t in tests if t.outcome in TEST_FAILED]
    if not failed or outcome.status is Status.ERROR:
        return
    names = ", ".join(t.id for t in failed[:3]) + (f" and {len(failed) - 3} more" if len(failed) > 3 else "")
    note = f"{len(failed)} of {len(tests)} linked test(s) failed: {names}"
    if "linked test(s) failed" in outcome.reason:  # traceability.linked_tests already judged them
        return
    capped = Status.PARTIAL if outcome.status is Status.PASS else Status.FAIL
    checker = f"checker said {outcome.status.value}" + (f": {outcome.reason}" if outcome.reason else "")
    outcome.status = capped
    outcome.reason = f"{note}; {checker}"


def _judge_check(req: Requirement, result: CheckResult, artifacts: list[Artifact], covered_by: list[str],
                 evaluate_thresholds: bool) -> Outcome:
    """The check's own verdict against the plan's thresholds (rules 1-3 of the docstring)."""
    arts = list(artifacts) + [a for a in result.artifacts if a not in artifacts]
    base = Outcome(
        requirement=req, status=Status.ERROR, covered_by=list(covered_by), metrics=dict(result.metrics),
        artifacts=arts, details=dict(result.details),
    )
    declared = Status(result.status) if result.status is not None else None
    message = result.message
    if declared is Status.WAIVED:  # waivers come from the ledger, never from a checker
        declared = Status.ERROR
        message = f"checker claimed 'waived' for {req.id}, which only an approver can grant"
    if declared in TERMINAL:
        base.status = declared
        base.reason = message or {
            Status.MISSING: "the evidence this check needs does not exist",
            Status.SKIPPED: "not applicable now",
            Status.ERROR: "the check failed without a message",
        }[declared]
        return base

    thresholds = req.thresholds if evaluate_thresholds else ()
    if req.thresholds and not evaluate_thresholds:
        base.details["thresholds_pending"] = [describe(t) for t in req.thresholds]
    evaluated, problems = evaluate(thresholds, result.metrics)
    base.thresholds = evaluated
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
    parts = [message] if message else []
    if failing:
        parts.append("; ".join(failing))
    elif evaluated and verdict is Status.PASS:
        parts.append(f"all {len(evaluated)} threshold(s) hold")
    if base.details.get("thresholds_pending"):
        parts.append("not yet measured by a checker: " + ", ".join(base.details["thresholds_pending"]))
    base.reason = "; ".join(p for p in parts if p)
    return base
