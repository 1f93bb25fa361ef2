"""Uptime from heartbeats: the 99.9 % availability SLA.

Plan lines 137-163: "99.9 % uptime SLA" (RISK-10).

A heartbeat (``logs/heartbeats.jsonl``: ``ts``, ``component``, ``interval_s``) vouches for
the ``interval_s`` that follows it. A gap between consecutive heartbeats of one component
longer than ``grace`` x interval (default 1.5, so scheduling jitter is not an outage) is an
outage of ``gap - interval`` seconds; a heartbeat with ``status: down`` starts an outage
too. The observed period runs from the first heartbeat to the last one plus its interval;
with ``period_days`` it is the last N days up to the run's clock, and silence before the
first or after the last heartbeat counts as downtime. uptime = 1 - downtime / period, per
component; the system's figure is its worst component's (``component`` selects one).
"""
from __future__ import annotations

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status

from .opslog import PATH_PARAM, ArtifactError, Record, guarded, input_path, iso, number, read_jsonl, seconds


def outages_of(beats: list[Record], grace: float, period: tuple[float, float] | None) -> tuple[list[dict], float, float]:
    """(outages, period start, period end) for one component's sorted heartbeats."""
    outages = []
    for prev, cur in zip(beats, beats[1:]):
        gap, interval = cur["_ts"] - prev["_ts"], float(prev["interval_s"])
        if prev.get("status") == "down":
            outages.append({"from": prev["_ts"], "to": cur["_ts"], "after": prev.where})
        elif gap > grace * interval:
            outages.append({"from": prev["_ts"] + interval, "to": cur["_ts"], "after": prev.where})
    start, end = beats[0]["_ts"], beats[-1]["_ts"] + float(beats[-1]["interval_s"])
    if period:
        begin, until = period
        if start > begin:
            outages.insert(0, {"from": begin, "to": start, "after": "period start"})
        if end < until:
            outages.append({"from": end, "to": until, "after": beats[-1].where})
        outages = [{**o, "from": max(o["from"], begin), "to": min(o["to"], until)} for o in outages
                   if o["to"] > begin and o["from"] < until]
        start, end = begin, until
    return outages, start, end


@guarded
def uptime(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    path = input_path(ctx, "heartbeats", "logs/heartbeats.jsonl")
    beats = read_jsonl(path, required=("ts", "interval_s"))
    ctx.record_artifact(path)
    wanted = ctx.params.get("component")
    groups: dict[str, list[Record]] = {}
    for b in beats:
        if number(b, "interval_s") <= 0:
            raise ArtifactError(b.path, b.line, "interval_s must be positive")
        name = str(b.get("component", "system"))
        if wanted is None or name == wanted:
            groups.setdefault(name, []).append(b)
    groups = {k: sorted(v, key=lambda b: b["_ts"]) for k, v in groups.items() if len(v) >= 2}
    if not groups:
        return CheckResult(status=Status.MISSING,
                           message=f"{requirement.id}: fewer than 2 heartbeats"
                                   + (f" for component {wanted!r}" if wanted else " for any component"))
    grace = float(ctx.params.get("grace", 1.5))
    period = None
    if ctx.params.get("period_days"):
        until = ctx.clock().timestamp()
        period = (until - float(ctx.params["period_days"]) * 86400, until)
    per = {}
    for name, items in groups.items():
        outages, start, end = outages_of(items, grace, period)
        span = end - start
        down = sum(o["to"] - o["from"] for o in outages)
        per[name] = {"uptime": 1 - down / span if span > 0 else 0.0, "downtime": down, "span": span,
                     "outages": outages, "start": start, "end": end}
    worst_name = min(per, key=lambda k: per[k]["uptime"])
    w = per[worst_name]
    longest = max((o["to"] - o["from"] for o in w["outages"]), default=0.0)
    shown = sorted(w["outages"], key=lambda o: o["from"] - o["to"])[:20]
    return CheckResult(
        metrics={"uptime": Quantity(round(w["uptime"], 6), "ratio"), "downtime": seconds(w["downtime"]),
                 "longest_outage": seconds(longest), "outages": len(w["outages"]),
                 "observed_period": Quantity(round(w["span"] / 86400, 4), "d")},
        message=f"{worst_name}: uptime {w['uptime']:.4%} over {w['span'] / 86400:.1f} d, "
                f"{len(w['outages'])} outage(s), longest {longest / 60:.1f} min",
        details={"rule": f"a heartbeat covers the interval after it; a gap > {grace:g} x interval is an outage "
                         "of (gap - interval); status 'down' counts as down until the next heartbeat"
                         + ("; silence at the period's edges counts" if period else ""),
                 "component": worst_name,
                 "components": {k: round(v["uptime"], 6) for k, v in per.items()},
                 "period": {"from": iso(w["start"]), "to": iso(w["end"])},
                 "outages": [{"from": iso(o["from"]), "to": iso(o["to"]), "minutes": round((o["to"] - o["from"]) / 60, 2),
                              "after": o["after"]} for o in shown]},
    )


SCHEMA = {
    "type": "object",
    "properties": {"heartbeats": PATH_PARAM, "component": {"type": "string"},
                   "grace": {"type": "number", "minimum": 1}, "period_days": {"type": "number", "exclusiveMinimum": 0}},
    "additionalProperties": False,
}
