"""Coverage and verification figures, per requirement group, with the reference report's bands.

*Coverage* ("implemented", the reference report's "compliance rate") counts requirements that
tests or evidence cover; *verification* counts requirements whose check passed. Both are
computed per requirement, never per test file, and never forced: a group's rate is
implemented / requirements of that group. Requirements tailored out as not applicable are left
out of every denominator (and listed in the results as skipped).
"""
from __future__ import annotations

from collections import Counter
from typing import Callable, Iterable

from golive.model import Outcome, Plan, Status


def band(rate: float, bands: dict[str, float]) -> str:
    """``well`` (>= 75 %), ``partial`` (>= 25 %) or ``major`` gap, with the plan's bands."""
    if rate >= bands.get("well", 0.75):
        return "well"
    if rate >= bands.get("partial", 0.25):
        return "partial"
    return "major"


def _applicable(outcomes: Iterable[Outcome]) -> list[Outcome]:
    return [o for o in outcomes if not o.not_applicable]


def group_figures(gid: str, title: str, outcomes: list[Outcome], bands: dict[str, float]) -> dict:
    n = len(outcomes)
    implemented = sum(o.implemented for o in outcomes)
    verified = sum(o.verified for o in outcomes)
    rate = implemented / n if n else 0.0
    return {
        "id": gid, "title": title, "requirements": n, "implemented": implemented, "verified": verified,
        "rate": round(rate, 4), "verification_rate": round(verified / n, 4) if n else 0.0,
        "band": band(rate, bands),
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


def summary(outcomes: list[Outcome]) -> dict:
    outs = _applicable(outcomes)
    n = len(outs)
    implemented = sum(o.implemented for o in outs)
    verified = sum(o.verified for o in outs)
    counts = Counter(o.status.value for o in outcomes)
    return {
        "requirements": n,
        "not_applicable": len(outcomes) - n,
        "implemented": implemented,
        "verified": verified,
        "compliance_rate": round(implemented / n, 4) if n else 0.0,
        "verification_rate": round(verified / n, 4) if n else 0.0,
        "by_status": {s.value: counts.get(s.value, 0) for s in Status},
        "how_computed": (
            "compliance_rate = requirements implemented (covered by at least one test, result or "
            "check evidence) / applicable requirements; verification_rate = requirements whose "
            "check passed / applicable requirements. Counted per requirement, not per test file."
        ),
    }


def exit_code(results: list[dict]) -> int:
    """0 when every applicable requirement of a results document is verified (pass) or waived,
    1 otherwise (the CLI's contract for CI)."""
    ok = {Status.PASS.value, Status.WAIVED.value}
    return 0 if all(r["status"] in ok for r in results if not r.get("not_applicable")) else 1
