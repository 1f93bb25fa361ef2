"""Audit trail logging is present and complete: fields, sequence, order and hash chain.

Plan lines 59-69: "Audit trail logging" (PRE-CONF-08).

``logs/audit.jsonl`` must hold one entry per audited action with ``seq`` (consecutive
integers), ``ts``, ``actor``, ``event`` and ``id`` (docs/ops-artifacts.md#audit). The check
reports the share of entries carrying every required field, gaps in ``seq`` (lost entries),
entries whose time goes backwards, event kinds the trail never records (``event_kinds``), and,
when entries carry ``hash``/``prev_hash``, breaks of the hash chain: ``hash`` must be the
sha256 of the entry's canonical JSON (sorted keys, no whitespace, UTF-8, without ``hash``)
and ``prev_hash`` the previous entry's ``hash``, so an edited or deleted entry shows.
"""
from __future__ import annotations

import hashlib
import json

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status

from golive.plugins.monitoring.observation import observe
from golive.plugins.monitoring.opslog import PATH_PARAM, guarded, input_path, iso, iter_jsonl

REQUIRED = ("seq", "ts", "actor", "event", "id")
# Security-relevant actions the plan names: logins, configuration and credential changes and
# trading state changes.
DEFAULT_KINDS = ["login", "config_change", "credential_change", "order_new", "position_change"]


def entry_hash(data: dict) -> str:
    body = {k: v for k, v in data.items() if k != "hash" and not k.startswith("_")}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()


@guarded
def audit_trail(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    path = input_path(ctx, "audit", "logs/audit.jsonl")
    # streamed twice: once to see whether the trail is hash-chained, once to check it
    chained = any("hash" in e.data for e in iter_jsonl(path))
    ctx.record_artifact(path)
    found = {"incomplete": Listed(), "gaps": Listed(), "out_of_order": Listed(), "chain_breaks": Listed()}
    entries, kinds, first, newest = 0, set(), None, None
    prev_seq = prev_ts = prev_hash = None
    for e in iter_jsonl(path):
        entries += 1
        kinds.add(str(e.get("event")))
        absent = [f for f in REQUIRED if e.get(f) in (None, "")]
        if absent:
            found["incomplete"].add({"at": e.where, "missing": absent})
        seq = e.get("seq")
        if isinstance(seq, int) and not isinstance(seq, bool):
            if prev_seq is not None and seq != prev_seq + 1:
                found["gaps"].add({"at": e.where, "expected": prev_seq + 1, "found": seq})
            prev_seq = seq
        ts = e.get("_ts")
        if ts is not None:
            if prev_ts is not None and ts < prev_ts:
                found["out_of_order"].add({"at": e.where, "ts": iso(ts)})
            prev_ts = max(ts, prev_ts or ts)
            first, newest = min(ts, first if first is not None else ts), max(ts, newest if newest is not None else ts)
        if chained:
            if e.get("hash") != entry_hash(e.data):
                found["chain_breaks"].add({"at": e.where, "problem": "hash does not match the entry's content"})
            elif prev_hash is not None and e.get("prev_hash") != prev_hash:
                found["chain_breaks"].add({"at": e.where, "problem": "prev_hash does not match the previous entry"})
            prev_hash = e.get("hash")
    if not entries:
        return CheckResult(status=Status.MISSING, message=f"{requirement.id}: the audit log {path.name} is empty")
    incomplete, gaps, backwards, breaks = (found[k].count for k in ("incomplete", "gaps", "out_of_order", "chain_breaks"))
    wanted = list(ctx.params.get("event_kinds", DEFAULT_KINDS))
    absent_kinds = [k for k in wanted if k not in kinds]
    metrics = {"audit_entries": entries,
               "audit_fields_complete_ratio": Quantity(round(1 - incomplete / entries, 6), "ratio"),
               "audit_sequence_gaps": gaps, "audit_out_of_order": backwards,
               "audit_event_kinds_missing": len(absent_kinds)}
    if chained:
        metrics["audit_chain_breaks"] = breaks
    result = CheckResult(
        metrics=metrics,
        # A broken chain means entries were altered or removed: the trail fails whatever
        # the other figures say.
        status=Status.FAIL if breaks else None,
        message=f"{entries} entries, {incomplete} incomplete, {gaps} sequence gap(s), "
                f"{backwards} out of order" + (f", {breaks} chain break(s)" if chained else ", not hash-chained"),
        details={"required_fields": list(REQUIRED), **{k: v.shown for k, v in found.items() if k != "chain_breaks"},
                 "chain": "verified" if chained else "absent",
                 "chain_breaks": found["chain_breaks"].shown, "event_kinds_missing": absent_kinds,
                 "from": iso(first) if first is not None else None},
    )
    return observe(result, "audit entries", [first, newest] if first is not None else [], events=entries)


class Listed:
    """A count of findings and the first 50 of them (what the details show)."""

    def __init__(self):
        self.count, self.shown = 0, []

    def add(self, item: dict) -> None:
        self.count += 1
        if len(self.shown) < 50:
            self.shown.append(item)


SCHEMA = {"type": "object",
          "properties": {"audit": PATH_PARAM, "event_kinds": {"type": "array", "items": {"type": "string"}}},
          "additionalProperties": False}
