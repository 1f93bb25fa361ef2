"""One catalog concluded against the runs an assessment uses: per item a conclusion, the
requirement results and ledger entries it rests on, waivers, attestations, open actions and
what needs people.

Each mapped requirement is read, per target, from the newest run of the period that recorded it
(a run of a few requirements never hides the others' evidence). The conclusion of an item is
:func:`golive.plan.framework_coverage.conclude` over the states of those results (the rule
``golive frameworks --results`` applies,
stated in :data:`golive.assess.model.CONCLUSION_RULES`). A requirement satisfied for one target
and not observed for another therefore makes the item partly met, and any failing one not met.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from golive.assess.ledger import RunEvidence, TargetRuns
from golive.assess.model import (Action, AttestationLine, ItemAssessment, RequirementLine, WaiverLine)
from golive.assess.period import moment
from golive.model import Plan
from golive.plan.catalog import CatalogItem
from golive.plan.framework_coverage import FAILING, MET, NO_EVIDENCE, SATISFIED, conclude, requirement_state

UNASSIGNED, NO_DATE = "unassigned", "none"


def owner_of(requirement: Any) -> str:
    """The role the plan names as the requirement's owner (its own ``owner``, else its section's),
    else ``unassigned``."""
    owner = getattr(requirement, "owner", None)
    return str(owner).strip() if owner and str(owner).strip() else UNASSIGNED


def _line(rid: str, plan_titles: Mapping[str, Any], ev: RunEvidence) -> RequirementLine:
    results = {str(r.get("requirement_id")): r for r in ev.document.get("results") or ()}
    result = results.get(rid)
    at = moment(ev.document["run"].get("finished")) or moment(ev.document["run"].get("started"))
    state, why = requirement_state(result, at)
    req = plan_titles.get(rid)
    title = getattr(req, "title", None) or (result or {}).get("title") or rid
    manual = bool(getattr(req, "manual", False) or (result or {}).get("manual"))
    status = str(result.get("status")) if result else "not run"
    reason = "" if state == SATISFIED and status == "pass" else str((result or {}).get("reason") or "")
    return RequirementLine(rid, str(title), ev.run.run_id, ev.run.target_label, status, state, why, manual,
                           reason, ev.result_entries.get(rid) if result else None)


def _basis(conclusion: str, item: CatalogItem, lines: list[RequirementLine], runs: int) -> str:
    if item.is_gap:
        return "no plan requirement evidences this item (a gap in the catalog)"
    failing = [f"{l.requirement_id} ({l.status})" for l in lines if l.state == FAILING]
    satisfied = [l for l in lines if l.state == SATISFIED]
    unobserved = sorted({l.requirement_id for l in lines if l.state == NO_EVIDENCE})
    of = f"{len(lines)} requirement result(s) over {runs} run(s)"
    if conclusion == MET:
        return f"every one of {of} is satisfied, each by a signed result entry"
    if failing:
        return f"failing: {', '.join(failing)}; {len(satisfied)} of {of} satisfied"
    parts = [f"{len(satisfied)} of {of} satisfied"]
    if unobserved:
        parts.append(f"no evidence for {', '.join(unobserved)}")
    if item.uncovered and satisfied:
        parts.append("part of the item is not evidenced by any requirement (see 'uncovered')")
    return "; ".join(parts)


def _actions(item: CatalogItem, lines: list[RequirementLine], evidence: list[RunEvidence],
             plan_reqs: Mapping[str, Any]) -> list[Action]:
    by_run = {ev.run.run_id: ev for ev in evidence}
    actions = []
    for line in lines:
        ev = by_run[line.run_id]
        result = next((r for r in ev.document.get("results") or () if r.get("requirement_id") == line.requirement_id), {})
        waiver = result.get("waiver") if isinstance(result.get("waiver"), Mapping) else None
        owner = owner_of(plan_reqs.get(line.requirement_id))
        due = str(waiver.get("expires")) if waiver and waiver.get("expires") else NO_DATE
        if line.state == FAILING:
            what = f"make {line.requirement_id} pass on {line.target} (recorded {result.get('recorded_status') or line.status})"
        elif line.status == "waived":
            what = (f"resolve {line.requirement_id} on {line.target} before its waiver expires (recorded "
                    f"{result.get('recorded_status')})")
        elif line.manual and line.state == NO_EVIDENCE and line.status != "not run":
            what = f"record a signed attestation for {line.requirement_id} (golive attest {line.requirement_id} --by NAME --note ...)"
        elif line.status in ("missing", "skipped", "error"):
            what = f"produce evidence for {line.requirement_id} on {line.target} ({line.status})"
        elif line.status == "not run":  # no run of the period recorded it: never a silent gap
            what = f"run {line.requirement_id} on {line.target} (no run of the period recorded it)"
        else:
            continue
        actions.append(Action((item.id,), line.requirement_id, what, owner, due, line.citation))
    return actions


def _needs_people(item: CatalogItem, lines: list[RequirementLine], attested: list[AttestationLine]) -> list[str]:
    needs = []
    if item.gap:
        needs.append(f"no check can show this; a person must state and evidence it: {item.gap}")
    if item.uncovered:
        needs.append("the uncovered part of the item (above) needs a person's review and evidence: no check shows it")
    for rid in dict.fromkeys(l.requirement_id for l in lines if l.manual):
        signed = [a for a in attested if a.requirement_id == rid and not a.supporting]
        who = (f"attested by {signed[-1].attested_by} on {signed[-1].time[:10]}" if signed
               else "no attestation recorded by the end of the period")
        needs.append(f"{rid} is verified only by a person's signed attestation: {who}")
    return needs


def assess_item(item: CatalogItem, plan: Plan, evidence: list[RunEvidence] | list[TargetRuns],
                attestations: Iterable[Mapping[str, Any]]) -> ItemAssessment:
    """``evidence``: per target its runs (:class:`TargetRuns`), or read runs to group by target."""
    reqs = {r.id: r for r in plan.requirements}
    groups = evidence if all(isinstance(g, TargetRuns) for g in evidence) else TargetRuns.of_evidence(evidence)
    lines = [_line(rid, reqs, group.for_requirement(rid)) for rid in item.requirements for group in groups]
    used_ids = {l.run_id for l in lines}
    evidence = [ev for group in groups for ev in group.read if ev.run.run_id in used_ids]
    conclusion = conclude(item, [l.state for l in lines])
    if conclusion == MET and not all(l.citation for l in lines):
        conclusion = NO_EVIDENCE  # never reached (a satisfied result is an entry); kept as the rule's guard
    waivers = []
    for line in lines:
        ev = next(e for e in evidence if e.run.run_id == line.run_id)
        w = ev.waivers.get(line.requirement_id)
        if line.status == "waived" and w:
            waivers.append(WaiverLine(line.requirement_id, line.run_id, str(w.get("approver") or ""),
                                      str(w.get("expires") or ""), str(w.get("reason") or ""), w["citation"]))
    used = set().union(*(ev.attestation_seqs for ev in evidence)) if evidence else set()
    attested = [AttestationLine(str(a.get("requirement_id")), str(a.get("attested_by") or ""), str(a.get("role") or ""),
                                str(a.get("statement") or ""), str(a.get("time") or ""), str(a.get("expires") or "none"),
                                bool(a.get("supporting")), int(a["seq"]) in used, a["citation"])
                for a in attestations if a.get("requirement_id") in item.requirements]
    return ItemAssessment(
        id=item.id, reference=item.reference, title=item.title, text=item.text, conclusion=conclusion,
        basis=_basis(conclusion, item, lines, len(used_ids)), requirements=tuple(lines), waivers=tuple(waivers),
        attestations=tuple(attested), actions=tuple(_actions(item, lines, evidence, reqs)),
        needs_people=tuple(_needs_people(item, lines, attested)), uncovered=item.uncovered, gap=item.gap)
