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
from golive.plugins.monitoring.opslog import PATH_PARAM, guarded, input_path, iso, read_jsonl

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
    entries = read_jsonl(path)
    ctx.record_artifact(path)
    if not entries:
        return CheckResult(status=Status.MISSING, message=f"{requirement.id}: the audit log {path.name} is empty")
    incomplete, gaps, backwards, breaks = [], [], [], []
    prev_seq = prev_ts = prev_hash = None
    chained = any("hash" in e.data for e in entries)
    for e in entries:
        absent = [f for f in REQUIRED if e.get(f) in (None, "")]
        if absent:
            incomplete.append({"at": e.where, "missing": absent})
        seq = e.get("seq")
        if isinstance(seq, int) and not isinstance(seq, bool):
            if prev_seq is not None and seq != prev_seq + 1:
                gaps.append({"at": e.where, "expected": prev_seq + 1, "found": seq})
            prev_seq = seq
        ts = e.get("_ts")
        if ts is not None:
            if prev_ts is not None and ts < prev_ts:
                backwards.append({"at": e.where, "ts": iso(ts)})
            prev_ts = max(ts, prev_ts or ts)
        if chained:
            if e.get("hash") != entry_hash(e.data):
                breaks.append({"at": e.where, "problem": "hash does not match the entry's content"})
            elif prev_hash is not None and e.get("prev_hash") != prev_hash:
                breaks.append({"at": e.where, "problem": "prev_hash does not match the previous entry"})
            prev_hash = e.get("hash")
    kinds = {str(e.get("event")) for e in entries}
    wanted = list(ctx.params.get("event_kinds", DEFAULT_KINDS))
    absent_kinds = [k for k in wanted if k not in kinds]
    metrics = {"audit_entries": len(entries),
               "audit_fields_complete_ratio": Quantity(round(1 - len(incomplete) / len(entries), 6), "ratio"),
               "audit_sequence_gaps": len(gaps), "audit_out_of_order": len(backwards),
               "audit_event_kinds_missing": len(absent_kinds)}
    if chained:
        metrics["audit_chain_breaks"] = len(breaks)
    result = CheckResult(
        metrics=metrics,
        # A broken chain means entries were altered or removed: the trail fails whatever
        # the other figures say.
        status=Status.FAIL if breaks else None,
        message=f"{len(entries)} entries, {len(incomplete)} incomplete, {len(gaps)} sequence gap(s), "
                f"{len(backwards)} out of order" + (f", {len(breaks)} chain break(s)" if chained else ", not hash-chained"),
        details={"required_fields": list(REQUIRED), "incomplete": incomplete[:50], "gaps": gaps[:50],
                 "out_of_order": backwards[:50], "chain": "verified" if chained else "absent",
                 "chain_breaks": breaks[:50], "event_kinds_missing": absent_kinds,
                 "from": iso(min(e["_ts"] for e in entries if e.get("_ts") is not None))
                 if any(e.get("_ts") is not None for e in entries) else None},
    )
    return observe(result, "audit entries", [e.get("_ts") for e in entries], events=len(entries))


SCHEMA = {"type": "object",
          "properties": {"audit": PATH_PARAM, "event_kinds": {"type": "array", "items": {"type": "string"}}},
          "additionalProperties": False}
