"""Network connectivity recovery times, from the feed event log.

Plan lines 97-109: "Network connectivity recovery" (LIVE-REL-03).

``logs/feed_events.jsonl`` (contract shared with the feed family, docs/feed-artifacts.md)
records ``connect``, ``disconnect``, ``reconnect``, ``backfill`` and other events, optionally
per ``source`` (default ``feed``); only connects, disconnects and reconnects matter here, other
event kinds are left to the feed checks. Each disconnect (optionally only those whose ``reason`` is in
``reasons``, e.g. network) is paired with the next ``connect``/``reconnect`` of the same
source; recovery time is the difference. A disconnect with no later reconnect is
unrecovered and listed; the time it has lasted until the log's last event enters the recovery
times as a lower bound.
"""
from __future__ import annotations

from golive.model import CheckContext, CheckResult, Requirement, Status

from .observation import observe
from .opslog import PATH_PARAM, ArtifactError, guarded, input_path, iso, percentile, read_jsonl, seconds

RELEVANT = {"connect", "disconnect", "reconnect"}


@guarded
def network_recovery(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    path = input_path(ctx, "events", "logs/feed_events.jsonl")
    events = read_jsonl(path, required=("ts", "event"))
    ctx.record_artifact(path)
    for e in events:
        if not isinstance(e["event"], str):
            raise ArtifactError(e.path, e.line, f"event must be a string, got {e['event']!r}")
    events = [e for e in events if e["event"] in RELEVANT]
    reasons = set(ctx.params.get("reasons") or [])
    events.sort(key=lambda e: e["_ts"])
    open_drops: dict[str, object] = {}
    recoveries, unrecovered, drop_times = [], [], []
    for e in events:
        src = str(e.get("source", "feed"))
        if e["event"] == "disconnect":
            if reasons and e.get("reason") not in reasons:
                continue
            open_drops.setdefault(src, e)
        elif e["event"] in ("connect", "reconnect") and src in open_drops:
            drop = open_drops.pop(src)
            drop_times.append(drop["_ts"])
            recoveries.append({"source": src, "down": iso(drop["_ts"]), "seconds": e["_ts"] - drop["_ts"],
                               "reason": drop.get("reason")})
    # A disconnect never followed by a reconnect has lasted at least until the log ends: that
    # lower bound enters the recovery times, so an unrecovered feed cannot look fast.
    log_end = max((e["_ts"] for e in events), default=0.0)
    unrecovered = [{"source": s, "down": iso(d["_ts"]), "at": d.where, "down_for_at_least_s": log_end - d["_ts"]}
                   for s, d in open_drops.items()]
    if not recoveries and not unrecovered:
        return CheckResult(status=Status.MISSING,
                           message=f"{requirement.id}: no disconnect"
                                   + (f" with reason in {sorted(reasons)}" if reasons else "")
                                   + " in the feed log, so recovery is not evidenced")
    times = [r["seconds"] for r in recoveries] + [u["down_for_at_least_s"] for u in unrecovered]
    metrics = {"disconnects": len(recoveries) + len(unrecovered), "unrecovered": len(unrecovered)}
    if times:
        metrics |= {"recovery_time_max": seconds(max(times)), "recovery_time_p95": seconds(percentile(times, 95))}
    return observe(CheckResult(
        metrics=metrics,
        message=f"{len(recoveries)} recoveries" + (f", max {max(r['seconds'] for r in recoveries):.1f} s" if recoveries else "")
                + (f", {len(unrecovered)} never recovered" if unrecovered else ""),
        details={"rule": "recovery = first connect/reconnect of the same source after a disconnect",
                 "slowest": sorted(recoveries, key=lambda r: -r["seconds"])[:20], "unrecovered": unrecovered},
    ), "disconnects", [*drop_times, *(d["_ts"] for d in open_drops.values())])


SCHEMA = {
    "type": "object",
    "properties": {"events": PATH_PARAM, "reasons": {"type": "array", "items": {"type": "string"}}},
    "additionalProperties": False,
}
