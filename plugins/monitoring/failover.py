"""Failover testing: drills recover within their time objective, consistently.

Plan lines 137-163 (Risk Management and Monitoring): "Failover testing" (RISK-12).

``logs/dr_drills.jsonl`` records drills (``kind: failover``, ``started``, ``recovered``,
``rto_s`` = the drill's own recovery time objective, ``outcome``, ``positions_consistent``,
``orders_lost``, ``orders_duplicated``). A drill is within objective when it succeeded,
recovered within ``rto_s``, kept positions consistent and lost or duplicated no order. The
check reports whether the latest drill was, the share of all drills that were, the latest
and worst failover time, and the age of the last drill.
"""
from __future__ import annotations

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status

from .opslog import (PATH_PARAM, ArtifactError, age_seconds, days, guarded, input_path, iso, number,
                     read_jsonl, seconds)


@guarded
def failover_drill(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    path = input_path(ctx, "drills", "logs/dr_drills.jsonl")
    drills = read_jsonl(path, required=("ts", "kind"), ts_fields=("ts", "started", "recovered"))
    ctx.record_artifact(path)
    kind = ctx.params.get("kind", "failover")
    drills = sorted((d for d in drills if d["kind"] == kind), key=lambda d: d["_ts"])
    if not drills:
        return CheckResult(status=Status.MISSING, message=f"{requirement.id}: no {kind} drill recorded in {path.name}")
    timed, within, rows = [], 0, []
    for d in drills:
        if d.get("_started") is None or d.get("_recovered") is None:
            rows.append({"at": d.where, "ts": iso(d["_ts"]), "recovered": False})
            continue
        took = d["_recovered"] - d["_started"]
        if took < 0:
            raise ArtifactError(d.path, d.line, "recovered is before started")
        rto = number(d, "rto_s", allow_none=True)
        consistent = d.get("positions_consistent") is not False and not d.get("orders_lost") \
            and not d.get("orders_duplicated")
        ok = d.get("outcome", "ok") == "ok" and (rto is None or took <= rto) and consistent
        within += ok
        timed.append(took)
        rows.append({"at": d.where, "ts": iso(d["_ts"]), "seconds": round(took, 3), "rto_s": rto,
                     "consistent": consistent, "within": ok})
    metrics = {"drills": len(drills), "drill_age": days(max(age_seconds(ctx, drills[-1]["_ts"]), 0.0)),
               "last_drill_within_objective": int(bool(rows[-1].get("within"))),
               "drills_within_objective": Quantity(round(within / len(drills), 6), "ratio")}
    if timed:
        metrics |= {"failover_time_last": seconds(timed[-1]), "failover_time_max": seconds(max(timed))}
    return CheckResult(metrics=metrics,
                       message=f"{len(drills)} {kind} drill(s), {within} within objective",
                       details={"rule": "a drill is within objective when outcome is ok, recovered - started "
                                        "<= its rto_s, positions stayed consistent and no order was lost or "
                                        "duplicated", "drills": rows[-20:]})


SCHEMA = {"type": "object", "properties": {"drills": PATH_PARAM, "kind": {"type": "string"}},
          "additionalProperties": False}
