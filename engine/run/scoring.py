"""Coverage, verification and failing figures, per requirement group, with the plan's bands.

Three figures, per requirement, never per test file (definitions in golive.run.readiness):
*covered* (a confirmed test, or check/attestation evidence it could judge -- a failing
requirement is covered), *verified* (passes its thresholds) and *failing* (fail or error).
A group's ``rate`` is its coverage rate (covered / requirements; the key ``implemented`` is the
covered count), ``verification_rate`` verified / requirements. The ``band`` grades
*verification*, never coverage alone: ``well`` needs the plan's ``bands.well`` verified and no
failing or partial requirement in the group. Requirements tailored out as not applicable are
left out of every denominator (and listed in the results as skipped).
"""
from __future__ import annotations

from collections import Counter
from typing import Callable, Iterable

from golive.model import Outcome, Plan, Status

FAILING = (Status.FAIL, Status.ERROR)


def band(rate: float, bands: dict[str, float]) -> str:
    """``well`` (>= 75 %), ``partial`` (>= 25 %) or ``major`` gap, with the plan's bands."""
    if rate >= bands.get("well", 0.75):
        return "well"
    if rate >= bands.get("partial", 0.25):
        return "partial"
    return "major"


def group_band(verification_rate: float, failing: int, partial: int, bands: dict[str, float],
               failing_p1: int = 0) -> str:
    """The band of a group: by its verification rate, never ``well`` while a requirement in it
    fails, errors or is partial, and ``major`` while a P1 in it fails or errors. The reports
    (golive.report.narrative.category_bands) use this same rule, so every format agrees."""
    if failing_p1:
        return "major"
    graded = band(verification_rate, bands)
    return "partial" if graded == "well" and (failing or partial) else graded


def _applicable(outcomes: Iterable[Outcome]) -> list[Outcome]:
    return [o for o in outcomes if not o.not_applicable]


def group_figures(gid: str, title: str, outcomes: list[Outcome], bands: dict[str, float]) -> dict:
    n = len(outcomes)
    covered = sum(o.covered for o in outcomes)
    verified = sum(o.verified for o in outcomes)
    failing = sum(o.status in FAILING for o in outcomes)
    partial = sum(o.status is Status.PARTIAL for o in outcomes)
    verification_rate = verified / n if n else 0.0
    return {
        "id": gid, "title": title, "requirements": n, "covered": covered, "implemented": covered,
        "verified": verified, "failing": failing, "partial": partial,
        "failing_ids": [o.requirement.id for o in outcomes if o.status in FAILING],
        "rate": round(covered / n, 4) if n else 0.0, "verification_rate": round(verification_rate, 4),
        "band": group_band(verification_rate, failing, partial, bands,
                           failing_p1=sum(o.status in FAILING and o.requirement.priority == "P1" for o in outcomes)),
    }


def _by(outcomes: list[Outcome], key: Callable[[Outcome], str], groups: list[tuple[str, str]], bands) -> list[dict]:
    items = []
    for gid, title in groups:
        members = [o for o in outcomes if key(o) == gid]
        if members:
            items.append(group_figures(gid, title, members, bands))
    return items


def coverage_by_phase(plan: Plan, outcomes: list[Outcome]) -> list[dict]:
    outs = _applicable(outcomes)
    groups = [(str(p.number), p.title) for p in plan.phases]
    return _by(outs, lambda o: str(o.requirement.phase), groups, plan.bands)


def coverage_by_section(plan: Plan, outcomes: list[Outcome]) -> list[dict]:
    outs = _applicable(outcomes)
    return _by(outs, lambda o: o.requirement.section, [(s.id, s.title) for s in plan.sections], plan.bands)


def coverage_by_category(plan: Plan, outcomes: list[Outcome]) -> list[dict]:
    outs = _applicable(outcomes)
    return _by(outs, lambda o: o.requirement.category, [(c.id, c.title) for c in plan.categories], plan.bands)


def coverage_by_priority(plan: Plan, outcomes: list[Outcome]) -> list[dict]:
    outs = _applicable(outcomes)
    return _by(outs, lambda o: o.requirement.priority, sorted(plan.priorities.items()), plan.bands)


HOW_COMPUTED = (
    "Counted per requirement (never per test file), over applicable requirements (tailored-out "
    "ones excluded): covered = a confirmed test links to it or its check/attestation produced "
    "evidence it could judge (pass, fail or partial; a failing requirement is covered); verified = "
    "passes its thresholds; waived = an unexpired waiver covers a non-passing result (never "
    "verified); failing = fail or error. coverage_rate = covered / applicable; verification_rate = "
    "verified / applicable. compliance_rate and implemented are deprecated aliases of coverage_rate "
    "and covered: they count failing requirements and are not a measure of compliance. The "
    "readiness verdict (summary.verdict) is the go/no-go."
)


def summary(outcomes: list[Outcome]) -> dict:
    outs = _applicable(outcomes)
    n = len(outs)
    covered = sum(o.covered for o in outs)
    verified = sum(o.verified for o in outs)
    counts = Counter(o.status.value for o in outcomes)
    coverage_rate = round(covered / n, 4) if n else 0.0
    return {
        "requirements": n,
        "not_applicable": len(outcomes) - n,
        "covered": covered,
        "implemented": covered,  # deprecated alias (schema 1 name)
        "verified": verified,
        "coverage_rate": coverage_rate,
        "compliance_rate": coverage_rate,  # deprecated alias (schema 1 name): coverage, not compliance
        "verification_rate": round(verified / n, 4) if n else 0.0,
        "by_status": {s.value: counts.get(s.value, 0) for s in Status},
        "how_computed": HOW_COMPUTED,
    }


def exit_code(results: list[dict]) -> int:
    """0 when every applicable requirement of a results document is verified (pass) or waived,
    1 otherwise (the CLI's contract for CI)."""
    ok = {Status.PASS.value, Status.WAIVED.value}
    return 0 if all(r["status"] in ok for r in results if not r.get("not_applicable")) else 1
