"""The report's narrative from verification, not coverage alone (issue 14, point 2).

Bands, strengths and weaknesses, the risk paragraph, recommendations and the timeline all read
the requirement statuses after waivers:

* a category is **well covered** only when at least the plan's ``well`` share (75 %) of its
  requirements is *verified* and none of them fails, errors or is partial; a failing P1 puts it
  among the **major gaps** whatever its rate;
* every requirement that is not verified, waived or skipped is a work item: ``fix`` (fail,
  error, partial), ``implement`` (nothing covers it) or ``evidence`` (covered, but its evidence
  is missing, not exercised or stale). Recommendations and the timeline schedule all of them,
  failing P1s first, so "2 weeks for 2 unimplemented" can no longer hide 21 failing ones;
* no sentence says "no weakness" or "well covered" for a scope in which a requirement fails.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

from golive.report.analysis import plural
from golive.run.scoring import group_band

FAILING = ("fail", "error")
TROUBLED = ("fail", "error", "partial")
#: Assumed remediation pace for the timeline: requirements a team closes per week.
REQUIREMENTS_PER_WEEK = 8
WEEKS_PER_SLOT = 2
KINDS = ("fix", "implement", "evidence")
KIND_TITLES = {"fix": "Fix failing checks: {}", "implement": "Implement {}", "evidence": "Supply evidence: {}"}
KIND_VERBS = {"fix": "fix", "implement": "implement", "evidence": "evidence for"}
PRIORITY_HEADINGS = {"P1": "Critical Gaps to Address", "P2": "Important Gaps", "P3": "Nice-to-Have"}


@dataclass(frozen=True)
class Recommendation:
    priority: str
    heading: str
    title: str
    items: tuple[str, ...]
    requirement_ids: tuple[str, ...]
    kind: str = "implement"


@dataclass(frozen=True)
class Assessment:
    status_line: str
    summary: str
    strengths: tuple[str, ...]
    weaknesses: tuple[str, ...]
    risk: str


@dataclass(frozen=True)
class TimelineSlot:
    weeks: str
    items: tuple[str, ...]
    requirement_ids: tuple[str, ...]


def work_kind(row: Any) -> str | None:
    """What a requirement needs before go-live, or None when verified, waived or skipped."""
    if row.status in TROUBLED:
        return "fix"
    if row.status == "missing":
        return "evidence" if row.implemented else "implement"
    return None


def category_bands(by_category: Sequence[Any], rows: Sequence[Any], bands: Mapping[str, float]) -> tuple:
    """``by_category`` with each row's ``band`` judged on verification and failures."""
    out = []
    for c in by_category:
        members = [r for r in rows if r.category == c.id]
        failing_p1 = tuple(r.id for r in members if r.status in FAILING and r.priority == "P1")
        troubled = tuple(r.id for r in members if r.status in TROUBLED)
        band = group_band(c.verified / c.requirements if c.requirements else 0.0, len(troubled), 0, dict(bands),
                          failing_p1=len(failing_p1))  # the engine's rule: the console and JSON agree
        out.append(replace(c, band=band, failing=troubled, failing_p1=failing_p1))
    return tuple(out)


def _ids(rows: Sequence[Any], limit: int = 6) -> str:
    ids = [r.id for r in rows]
    return ", ".join(ids[:limit]) + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def assessment(categories: Sequence[Any], rows: Sequence[Any], verdict: Any, figures: Any) -> Assessment:
    well = [c for c in categories if c.band == "well"]
    strengths = tuple(f"{c.title}: {c.verified}/{c.requirements} verified, none failing" for c in well)
    weaknesses = []
    for c in sorted((c for c in categories if c.band != "well"), key=lambda c: (c.band != "major", c.title)):
        members = [r for r in rows if r.category == c.id]
        parts = [f"{c.verified}/{c.requirements} verified"]
        for label, picked in (("P1 failing", [r for r in members if r.id in c.failing_p1]),
                              ("failing", [r for r in members if r.status in TROUBLED and r.id not in c.failing_p1]),
                              ("not covered", [r for r in members if work_kind(r) == "implement"]),
                              ("without evidence", [r for r in members if work_kind(r) == "evidence"])):
            if picked:
                parts.append(f"{label}: {_ids(picked)}")
        weaknesses.append(f"{c.title}: {'; '.join(parts)}")
    failing = [r for r in rows if r.status in TROUBLED]
    gaps = [r for r in rows if work_kind(r) == "implement"]
    clauses = [f"verified requirements concentrate on {', '.join(c.title for c in well)}" if well
               else "no category is well covered (75 % verified with nothing failing)"]
    if failing:
        cats = sorted({r.category_title for r in failing})
        clauses.append(f"{plural(len(failing), 'requirement')} fail or are only partly met, in {', '.join(cats)}")
    if gaps:
        clauses.append(f"nothing covers {plural(len(gaps), 'requirement')} ({_ids(gaps, 4)})")
    summary = "; ".join(clauses)
    summary = summary[0].upper() + summary[1:] + "."
    p1 = {k: [r for r in rows if r.priority == "P1" and work_kind(r) == k] for k in KINDS}
    risk_parts = [f"{plural(len(p1['fix']), 'P1 requirement')} fail or are partial",
                  f"{len(p1['implement'])} have no test or evidence",
                  f"{len(p1['evidence'])} lack current evidence"]
    risk = f"Readiness: {verdict.state}. " + "; ".join(risk_parts) + ". "
    if any(p1.values()) or failing:
        risk += ("Before live deployment, every P1 must be verified: fix the failing checks, supply the "
                 "missing evidence, or waive with an approver and an expiry.")
    else:
        risk += "No P1 requirement is open; keep the evidence current with scheduled runs."
    status_line = f"{verdict.state}; {figures.headline}"
    return Assessment(status_line=status_line, summary=summary, strengths=strengths,
                      weaknesses=tuple(weaknesses), risk=risk)


def _priority_number(p: str) -> str:
    return p[1:] if p[:1] == "P" and p[1:].isdigit() else p


def _subject(title: str) -> str:
    return title if title.lower().endswith(("testing", "tests")) else f"{title} tests"


def recommendations(rows: Sequence[Any], section_titles: Mapping[str, str],
                    priorities: Mapping[str, str]) -> tuple[Recommendation, ...]:
    """One recommendation per (priority, kind, section) of open work: P1 first, within a
    priority failing checks first, then unimplemented, then missing evidence; larger groups
    first."""
    groups: dict[tuple[str, int, str], list[Any]] = {}
    order: dict[str, int] = {}
    for r in rows:
        kind = work_kind(r)
        if kind is not None:
            groups.setdefault((r.priority, KINDS.index(kind), r.section), []).append(r)
            order.setdefault(r.section, len(order))
    recs = []
    for (priority, k, section), reqs in sorted(groups.items(), key=lambda kv: (
            kv[0][0], kv[0][1], -len(kv[1]), order[kv[0][2]])):
        kind = KINDS[k]
        heading = PRIORITY_HEADINGS.get(priority) or priorities.get(priority) or priority
        title = KIND_TITLES[kind].format(_subject(section_titles.get(section, section)))
        if kind == "implement":
            items = tuple(r.title for r in reqs)
        else:
            items = tuple(f"{r.id} {r.title}: {r.status}" + (f" ({r.reason})" if r.reason else "") for r in reqs)
        recs.append(Recommendation(priority=priority, heading=f"{heading} (Priority {_priority_number(priority)})",
                                   title=title, items=items, requirement_ids=tuple(r.id for r in reqs), kind=kind))
    return tuple(recs)


def timeline(rows: Sequence[Any], section_titles: Mapping[str, str],
             per_week: int = REQUIREMENTS_PER_WEEK) -> tuple[TimelineSlot, ...]:
    """Schedule every open requirement by priority, then failing before unimplemented before
    missing evidence, then plan order, at ``per_week`` requirements a week."""
    work = [r for r in rows if work_kind(r) is not None]
    section_rank: dict[str, int] = {}
    for r in work:
        section_rank.setdefault(r.section, len(section_rank))
    queue = sorted(work, key=lambda r: (r.priority, KINDS.index(work_kind(r)), r.phase, section_rank[r.section]))
    per_slot = per_week * WEEKS_PER_SLOT
    slots = []
    for i in range(math.ceil(len(queue) / per_slot)):
        chunk = queue[i * per_slot:(i + 1) * per_slot]
        counts: dict[tuple[str, str, str], int] = {}
        for r in chunk:
            key = (KIND_VERBS[work_kind(r)], r.priority, r.section)
            counts[key] = counts.get(key, 0) + 1
        items = tuple(f"{verb.capitalize()} {section_titles.get(s, s)} ({p}, {plural(n, 'requirement')})"
                      for (verb, p, s), n in counts.items())
        first = i * WEEKS_PER_SLOT + 1
        slots.append(TimelineSlot(weeks=f"Week {first}-{first + WEEKS_PER_SLOT - 1}",
                                  items=items, requirement_ids=tuple(r.id for r in chunk)))
    return tuple(slots)


def open_work(rows: Sequence[Any]) -> dict[str, int]:
    """Open requirements by kind (``fix``, ``implement``, ``evidence``), for the timeline note."""
    counts = {k: 0 for k in KINDS}
    for r in rows:
        kind = work_kind(r)
        if kind:
            counts[kind] += 1
    return counts
