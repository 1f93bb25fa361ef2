"""Failover testing: drills recover within their time objective, consistently.

Plan lines 137-163 (Risk Management and Monitoring): "Failover testing" (RISK-12).

``logs/dr_drills.jsonl`` records drills (``kind: failover``, ``started``, ``recovered``,
``rto_s`` = the drill's own recovery time objective, ``outcome``, ``positions_consistent``,
``orders_lost``, ``orders_duplicated``). A drill is within objective when it succeeded,
recovered within ``rto_s``, kept positions consistent and lost or duplicated no order. The
check reports whether the latest drill was, the share of all drills that were, the latest
and worst failover time, and the age of the last drill.

The failover time is always measured from the drill's own timestamps (recovered - started);
a drill that states no ``rto_s`` is judged against the plan's ``default_rto_s`` (a 3-hour
failover without an objective is not within one), and with neither it is not within
objective. No drill at all is ``missing`` ("not exercised").
"""
from __future__ import annotations

from golive.model import CheckContext, CheckResult, Quantity, Requirement

from .observation import not_exercised, observe
from .opslog import (PATH_PARAM, ArtifactError, age_seconds, days, guarded, input_path, iso, number,
                     iter_jsonl, seconds)


@guarded
def failover_drill(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    path = input_path(ctx, "drills", "logs/dr_drills.jsonl")
    drills = iter_jsonl(path, required=("ts", "kind"), ts_fields=("ts", "started", "recovered"))  # streamed: one kind kept
    ctx.record_artifact(path)
    kind = ctx.params.get("kind", "failover")
    drills = sorted((d for d in drills if d["kind"] == kind), key=lambda d: d["_ts"])
    if not drills:
        return not_exercised(f"{kind} drill", f"none recorded in {path.name}")
    default_rto = ctx.params.get("default_rto_s")
    timed, within, rows = [], 0, []
    for d in drills:
        if d.get("_started") is None or d.get("_recovered") is None:
            rows.append({"at": d.where, "ts": iso(d["_ts"]), "recovered": False})
            continue
        took = d["_recovered"] - d["_started"]
        if took < 0:
            raise ArtifactError(d.path, d.line, "recovered is before started")
        rto = number(d, "rto_s", allow_none=True)
        rto_from = "drill" if rto is not None else "plan default_rto_s" if default_rto is not None else "none"
        rto = rto if rto is not None else default_rto
        consistent = d.get("positions_consistent") is not False and not d.get("orders_lost") \
            and not d.get("orders_duplicated")
        ok = d.get("outcome", "ok") == "ok" and rto is not None and took <= rto and consistent
        within += ok
        timed.append(took)
        rows.append({"at": d.where, "ts": iso(d["_ts"]), "seconds": round(took, 3), "rto_s": rto, "rto_from": rto_from,
                     "consistent": consistent, "within": ok})
    metrics = {"drills": len(drills), "drill_age": days(max(age_seconds(ctx, drills[-1]["_ts"]), 0.0)),
               "last_drill_within_objective": int(bool(rows[-1].get("within"))),
               "drills_within_objective": Quantity(round(within / len(drills), 6), "ratio")}
    if timed:
        metrics |= {"failover_time_last": seconds(timed[-1]), "failover_time_max": seconds(max(timed))}
    last = rows[-1]
    why_not = "" if last.get("within") else "; latest drill " + (
        "has no started/recovered time" if "seconds" not in last else
        f"took {last['seconds']:g} s with no RTO (record rto_s or set default_rto_s)" if last["rto_s"] is None else
        f"took {last['seconds']:g} s against an RTO of {last['rto_s']:g} s ({last['rto_from']})"
        if last["seconds"] > last["rto_s"] else "failed or left positions/orders inconsistent")
    result = CheckResult(metrics=metrics,
                         message=f"{len(drills)} {kind} drill(s), {within} within objective{why_not}",
                         details={"rule": "a drill is within objective when outcome is ok, recovered - started "
                                          "<= its rto_s (else the plan's default_rto_s), positions stayed consistent "
                                          "and no order was lost or duplicated", "drills": rows[-20:]})
    return observe(result, f"{kind} drills", [d["_ts"] for d in drills])


SCHEMA = {"type": "object", "properties": {"drills": PATH_PARAM, "kind": {"type": "string"},
                                           "default_rto_s": {"type": "number", "exclusiveMinimum": 0}},
          "additionalProperties": False}
