"""Assemble a framework's :class:`~golive.assess.model.Assessment` from a store: verify the
ledger, pick the period's runs, read their evidence, conclude every catalog item and gather the
sign-off pages."""
from __future__ import annotations

from datetime import datetime, timezone

from golive.assess import ledger
from golive.assess.conclude import assess_item
from golive.assess.model import Assessment, SignoffPage
from golive.assess.period import Period
from golive.ledger.store import Store
from golive.model import Plan
from golive.plan.catalog import Framework
from golive.plan.framework_coverage import CONCLUSIONS
from golive.report.signoff_view import signoff_view

#: framework id -> (document title, what the document is and is not)
DOCUMENTS = {
    "sec-15c3-5": (
        "SEC Rule 15c3-5: annual review pack",
        "The evidence for the firm's regular review of its market access risk management controls and "
        "supervisory procedures (Rule 15c3-5(e)(1)), on which the chief executive officer's annual "
        "certification (Rule 15c3-5(e)(2)) rests. This pack certifies nothing and records no certification: "
        "the certification is the CEO's own act, made outside golive."),
    "rts6": (
        "MiFID II RTS 6: self-assessment",
        "The firm's self-assessment of its algorithmic trading against Commission Delegated Regulation (EU) "
        "2017/589 (Art. 9 and Annex I), each conclusion linked to the signed evidence it rests on. Its "
        "validation by the risk management function and approval by senior management are not recorded "
        "here; the sign-off page shows only what the evidence ledger holds."),
    "finra-15-09": (
        "FINRA Regulatory Notice 15-09: self-assessment",
        "The firm's assessment of its algorithmic trading against the effective practices of FINRA "
        "Regulatory Notice 15-09 (guidance, not a rule), each conclusion linked to the signed evidence it "
        "rests on."),
}


class NoRunsInPeriod(LookupError):
    """No finished, checkpointed run started in the period."""


def document_kind(framework: Framework) -> tuple[str, str]:
    return DOCUMENTS.get(framework.id, (f"{framework.title}: self-assessment",
                                        f"A self-assessment against {framework.source}, each conclusion linked "
                                        "to the signed evidence it rests on."))


def build_assessment(store: Store, plan: Plan, framework: Framework, period: Period,
                     written: datetime | None = None) -> Assessment:
    """The assessment, or :class:`ledger.LedgerRefused` (the ledger does not verify) or
    :class:`NoRunsInPeriod`."""
    facts = ledger.verify(store)
    selection = ledger.select_runs(store, period)
    if not selection.used:
        held = (f"the ledger holds {selection.recorded} finished run(s), started {selection.first_last[0]} to "
                f"{selection.first_last[1]}" if selection.recorded else "the ledger holds no finished run")
        unfinished = (f"; {len(selection.unfinished)} run(s) in the period never finished and were not signed"
                      if selection.unfinished else "")
        raise NoRunsInPeriod(f"no finished, checkpointed run started in {period}: {held}{unfinished}; "
                             "choose another --period or run `golive run` first")
    groups = [ledger.TargetRuns(runs, lambda run: ledger.run_evidence(store, run, plan.bands))
              for runs in selection.groups.values()]
    attestations = ledger.attestations(store, period, {run.target_key for run in selection.used})
    items = tuple(assess_item(item, plan, groups, attestations) for item in framework.items)
    used_for: dict[str, set[str]] = {run.run_id: set() for run in selection.used}
    for item in items:
        for line in item.requirements:
            used_for.setdefault(line.run_id, set()).add(line.requirement_id)
    selection.runs = ledger.run_refs(selection, used_for)
    evidence = [group.evidence(run) for group in groups for run in group.runs if run.run_id in used_for]
    pages = []
    for ev in evidence:
        document, entries = ledger.signoff(store, ev)
        pages.append(SignoffPage(ev.run.run_id, ev.run.target_label, signoff_view(document), entries))
    notes = [f"run {ev.run.run_id} used plan digest {digest[:16]}; the catalog maps to plan digest "
             f"{plan.digest[:16]}: requirement ids are matched as they are"
             for ev in evidence if (digest := str(((ev.document.get("run") or {}).get("plan") or {}).get("digest")
                                                  or "")) and plan.digest and digest != plan.digest]
    notes += [f"run {rid} started in the period but never finished; its entries are not used"
              for rid in selection.unfinished]
    title, purpose = document_kind(framework)
    written = (written or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return Assessment(
        framework_id=framework.id, framework_title=framework.title, source=framework.source, url=framework.url,
        title=title, purpose=purpose, period=str(period), written=written.isoformat(timespec="seconds"),
        plan=f"{plan.id} v{plan.version} (digest {plan.digest[:16]})", ledger=facts, runs=tuple(selection.runs),
        items=items, signoffs=tuple(pages), notes=tuple(notes),
        counts={c: sum(1 for i in items if i.conclusion == c) for c in CONCLUSIONS})
