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

import json
from array import array

import numpy as np

from golive.model import CheckContext, CheckResult, Requirement, Status

from .observation import observe
from .latency import nearest_rank
from .opslog import PATH_PARAM, ArtifactError, guarded, input_path, iso, iter_jsonl, seconds

RELEVANT = {"connect", "disconnect", "reconnect"}


@guarded
def network_recovery(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    path = input_path(ctx, "events", "logs/feed_events.jsonl")
    # only what pairing needs, per relevant event: time, kind, source, reason, line (streamed)
    ts, kind, src, why, line = array("d"), array("B"), array("i"), array("i"), array("q")
    sources: dict[str, int] = {}
    causes: dict[str, int] = {}
    cause_values: list = []
    for e in iter_jsonl(path, required=("ts", "event")):
        if not isinstance(e["event"], str):
            raise ArtifactError(e.path, e.line, f"event must be a string, got {e['event']!r}")
        if e["event"] not in RELEVANT:
            continue
        reason = e.get("reason")
        key = json.dumps(reason, sort_keys=True, default=str)
        if key not in causes:
            causes[key] = len(cause_values)
            cause_values.append(reason)
        ts.append(e["_ts"])
        kind.append(e["event"] == "disconnect")
        src.append(sources.setdefault(str(e.get("source", "feed")), len(sources)))
        why.append(causes[key])
        line.append(e.line)
    ctx.record_artifact(path)
    names = list(sources)
    reasons = set(ctx.params.get("reasons") or [])
    open_drops: dict[int, int] = {}  # source -> row of its pending disconnect
    rec_s, rec_row = array("d"), array("q")  # recovery seconds and the disconnect's row
    stamps = np.frombuffer(ts, dtype=np.float64) if len(ts) else np.zeros(0)
    kinds, srcs, whys = kind.tolist(), src.tolist(), why.tolist()
    for r in np.argsort(stamps, kind="stable").tolist():
        if kinds[r]:  # a disconnect
            if reasons and cause_values[whys[r]] not in reasons:
                continue
            open_drops.setdefault(srcs[r], r)
        elif srcs[r] in open_drops:
            drop = open_drops.pop(srcs[r])
            rec_s.append(ts[r] - ts[drop])
            rec_row.append(drop)
    # A disconnect never followed by a reconnect has lasted at least until the log ends: that
    # lower bound enters the recovery times, so an unrecovered feed cannot look fast.
    log_end = float(stamps.max()) if len(stamps) else 0.0
    unrecovered = [{"source": names[s], "down": iso(ts[d]), "at": f"{path.name}:{line[d]}",
                    "down_for_at_least_s": log_end - ts[d]} for s, d in open_drops.items()]
    durations = np.frombuffer(rec_s, dtype=np.float64) if len(rec_s) else np.zeros(0)
    slowest = [{"source": names[src[d]], "down": iso(ts[d]), "seconds": float(durations[k]),
                "reason": cause_values[why[d]]}
               for k, d in ((k, rec_row[k]) for k in np.argsort(-durations, kind="stable")[:20].tolist())]
    dropped = [ts[d] for d in rec_row] + [ts[d] for d in open_drops.values()]
    recoveries = durations
    if not len(recoveries) and not unrecovered:
        return CheckResult(status=Status.MISSING,
                           message=f"{requirement.id}: no disconnect"
                                   + (f" with reason in {sorted(reasons)}" if reasons else "")
                                   + " in the feed log, so recovery is not evidenced")
    times = np.sort(np.concatenate([durations, [u["down_for_at_least_s"] for u in unrecovered]]))
    metrics = {"disconnects": len(recoveries) + len(unrecovered), "unrecovered": len(unrecovered)}
    if len(times):
        metrics |= {"recovery_time_max": seconds(float(times[-1])), "recovery_time_p95": seconds(nearest_rank(times, 95))}
    return observe(CheckResult(
        metrics=metrics,
        message=f"{len(recoveries)} recoveries" + (f", max {durations.max():.1f} s" if len(recoveries) else "")
                + (f", {len(unrecovered)} never recovered" if unrecovered else ""),
        details={"rule": "recovery = first connect/reconnect of the same source after a disconnect",
                 "slowest": slowest, "unrecovered": unrecovered},
    ), "disconnects", [min(dropped), max(dropped)] if dropped else [], events=len(dropped))


SCHEMA = {
    "type": "object",
    "properties": {"events": PATH_PARAM, "reasons": {"type": "array", "items": {"type": "string"}}},
    "additionalProperties": False,
}
