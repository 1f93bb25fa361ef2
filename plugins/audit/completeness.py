"""Every signal, order and position change in the records has an audit-log entry.

Plan lines 191-217 (Compliance and Audit): "Trading signal logging" (AUD-01).

For each stream (``streams`` param; by default signals and orders) the records file's key
(``signal_id``, ``order_id``) is looked up among the audit log's entries of the stream's
event (``signal``, ``order_new``). The completeness ratio is audited / recorded; missing ids
are listed. Entries whose id is in no record are reported as orphans (an audit trail that
mentions trades the books never saw is a reconciliation problem of its own).
"""
from __future__ import annotations

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status
from golive.plugins.monitoring.observation import observe
from golive.plugins.records.checkutil import Tally, TimeSpan
from golive.plugins.records.stream import scan

from . import auditlog

DEFAULT_STREAMS = [{"records": "signals", "event": "signal", "id_column": "signal_id"},
                   {"records": "orders", "event": "order_new", "id_column": "order_id"}]


@auditlog.records_guarded
def audit_completeness(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    streams = ctx.params.get("streams", DEFAULT_STREAMS)
    entries = auditlog.load(ctx, (s["event"] for s in streams))
    total = audited = 0
    rows, metrics, span = [], {}, TimeSpan()
    for stream in streams:
        records = scan(ctx, stream["records"], need=[stream["id_column"]], optional=["ts"])  # validated now
        logged = auditlog.by_id(entries, stream["event"])
        missing, found = Tally(keep=100), set()  # ids without an entry (counted, first 100); logged ids seen
        for frame in records:  # chunk by chunk: a large records file is not held
            span.add(frame["ts"])
            for i in map(str, frame[stream["id_column"]]):
                if i in logged:
                    found.add(i)
                else:
                    missing.add(i)
        orphans = sorted(set(logged) - found)
        ids = len(records)
        total += ids
        audited += ids - missing.count
        rows.append({"records": stream["records"], "event": stream["event"], "recorded": ids,
                     "audited": ids - missing.count, "missing_ids": missing.items[:100],
                     "orphan_ids": orphans[:100]})
        metrics[f"{stream['records']}_missing_audit"] = missing.count
    if total == 0:
        return CheckResult(status=Status.MISSING, message=f"{requirement.id}: the records hold nothing to audit")
    metrics["audit_completeness"] = Quantity(round(audited / total, 6), "ratio")
    metrics["audit_missing"] = total - audited
    metrics["audit_orphans"] = sum(len(r["orphan_ids"]) for r in rows)
    message = "; ".join(f"{r['records']}: {r['audited']}/{r['recorded']} audited" for r in rows)
    return observe(CheckResult(metrics=metrics, message=message,
                               details={"streams": rows,
                                        "formula": "audit_completeness = records with an audit entry / records"}),
                   "records looked up in the audit log", span.ends, events=total)


SCHEMA = {
    "type": "object",
    "properties": {
        "audit": {"type": "string"},
        "files": {"type": "object", "additionalProperties": {"type": "string"}},
        "streams": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["records", "event", "id_column"],
            "properties": {"records": {"enum": ["signals", "orders", "fills"]},
                           "event": {"type": "string"}, "id_column": {"type": "string"}},
            "additionalProperties": False}},
    },
    "additionalProperties": False,
}
METRICS = ("audit_completeness", "audit_missing", "audit_orphans", "signals_missing_audit",
           "orders_missing_audit", "fills_missing_audit")
