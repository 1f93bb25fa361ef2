"""How far a run's results meet each framework item (the conclusion of a self-assessment line).

Each mapped requirement's result counts as:

- **satisfied**: ``pass``, or ``waived`` with a waiver that had not expired when the run finished;
- **failing**: ``fail``, ``partial`` or ``error`` (a waiver past its expiry date falls back to the
  status it covered, ``recorded_status``);
- **no evidence**: ``missing``, ``skipped``, or not in the run at all (tailored out, ``--only``).

An item is then **not met** when any of its requirements fails; **met** when all are satisfied
and the catalog names no uncovered part; **partly met** when some are satisfied (or all are but
part of the item is uncovered); **no evidence** when none was observed -- and a gap item is
always **no evidence**. Nothing is ever "met" without a satisfied requirement behind it.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Iterable, Mapping

from golive.plan.catalog import CatalogItem, Framework

MET, PARTLY_MET, NOT_MET, NO_EVIDENCE = "met", "partly met", "not met", "no evidence"
CONCLUSIONS = (MET, PARTLY_MET, NOT_MET, NO_EVIDENCE)
SATISFIED, FAILING, UNOBSERVED = "satisfied", "failing", "no evidence"
FAILING_STATUSES = frozenset({"fail", "partial", "error"})


def _moment(text: Any) -> datetime | None:
    """An ISO date or date-time as an aware datetime; a bare date means the end of that day."""
    if not isinstance(text, str) or not text:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=timezone.utc)
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def waiver_valid(result: Mapping[str, Any], at: datetime | None) -> bool:
    """A waived result's waiver has an expiry that is not before ``at`` (the run's end)."""
    waiver = result.get("waiver")
    expires = _moment(waiver.get("expires")) if isinstance(waiver, Mapping) else None
    return expires is not None and at is not None and expires >= at


def _status_state(status: Any) -> str:
    if status == "pass":
        return SATISFIED
    return FAILING if status in FAILING_STATUSES else UNOBSERVED


def requirement_state(result: Mapping[str, Any] | None, at: datetime | None) -> tuple[str, str]:
    """(state, why) of one requirement's result; None is a requirement the run did not judge."""
    if result is None:
        return UNOBSERVED, "not in this run"
    status = result.get("status")
    if status == "waived":
        if waiver_valid(result, at):
            return SATISFIED, "waived"
        recorded = result.get("recorded_status")
        return _status_state(recorded), f"waiver expired or undated (recorded status {recorded or 'unknown'})"
    return _status_state(status), str(status)


def conclude(item: CatalogItem, states: Iterable[str]) -> str:
    """The item's conclusion from its requirements' states (see the module docstring)."""
    states = list(states)
    if item.is_gap or not states:
        return NO_EVIDENCE
    if FAILING in states:
        return NOT_MET
    satisfied = states.count(SATISFIED)
    if satisfied == len(states):
        return PARTLY_MET if item.uncovered else MET
    return PARTLY_MET if satisfied else NO_EVIDENCE


def framework_coverage(frameworks: Iterable[Framework], document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per framework: the count of items per conclusion, and per item its conclusion and each
    mapped requirement's status in the results ``document`` (``golive run --json``)."""
    results = {r["requirement_id"]: r for r in document.get("results", [])
               if isinstance(r, Mapping) and isinstance(r.get("requirement_id"), str)}
    run = document.get("run") or {}
    at = _moment(run.get("finished")) or _moment(run.get("started"))
    out = []
    for fw in frameworks:
        items = []
        for item in fw.items:
            judged = [(rid, *requirement_state(results.get(rid), at)) for rid in item.requirements]
            items.append({
                "id": item.id, "reference": item.reference, "title": item.title,
                "conclusion": conclude(item, [state for _, state, _ in judged]),
                "requirements": [{"id": rid, "state": state, "status": why} for rid, state, why in judged],
                "uncovered": item.uncovered, "gap": item.gap,
            })
        counts = {c: sum(1 for i in items if i["conclusion"] == c) for c in CONCLUSIONS}
        out.append({"id": fw.id, "title": fw.title, "run": run.get("id"), "items": len(items),
                    "conclusions": counts, "entries": items})
    return out
