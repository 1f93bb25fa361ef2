"""Disaster recovery: backups are recent and restorable, failover drills meet their objective.

Plan lines 137-163: "Backup and recovery" (RISK-11) and "Failover testing" (RISK-12).

``backup_recovery`` reads ``logs/backups.jsonl`` (``kind: backup`` or ``restore_test``,
``status: ok|failed``; backups may name a local ``path`` and ``sha256``). It reports the age
of the newest successful backup, the age of the newest successful restore drill, the share of
failed backups (a restore drill counts only if ``checksums_match`` is not false), and re-hashes every local backup file it can reach (a backup that is gone or
altered is an integrity failure). ``failover_drill`` reads ``logs/dr_drills.jsonl``
(``kind: failover``, ``started``, ``recovered``, ``rto_s`` = the drill's own recovery time
objective, ``outcome``, ``positions_consistent``, ``orders_lost``, ``orders_duplicated``)
and reports the latest and worst failover time, the share of drills
that recovered within their objective, and the age of the last drill.
"""
from __future__ import annotations

from golive.digest import file_sha256
from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status

from .opslog import (PATH_PARAM, ArtifactError, age_seconds, guarded, input_path, iso, number,
                     read_jsonl, seconds)


def hours(value: float) -> Quantity:
    return Quantity(round(value / 3600, 4), "h")


def days(value: float) -> Quantity:
    return Quantity(round(value / 86400, 4), "d")


@guarded
def backup_recovery(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    path = input_path(ctx, "backups", "logs/backups.jsonl")
    entries = read_jsonl(path, required=("ts", "kind", "status"))
    ctx.record_artifact(path)
    for e in entries:
        if e["kind"] not in ("backup", "restore_test") or e["status"] not in ("ok", "failed"):
            raise ArtifactError(e.path, e.line, "kind must be backup|restore_test and status ok|failed")
    backups = [e for e in entries if e["kind"] == "backup"]
    restores = [e for e in entries if e["kind"] == "restore_test"]
    good = [e for e in backups if e["status"] == "ok"]
    if not good:
        return CheckResult(status=Status.MISSING, message=f"{requirement.id}: no successful backup recorded in {path.name}")
    newest = max(good, key=lambda e: e["_ts"])
    integrity = []
    checked = 0
    for e in good:
        if not e.get("path") or not e.get("sha256"):
            continue
        local = ctx.target.root / e["path"]
        if not local.is_file():
            if e.get("offsite"):
                continue  # copies held elsewhere cannot be re-hashed from here
            integrity.append({"at": e.where, "path": e["path"], "problem": "backup file not found"})
            continue
        checked += 1
        if file_sha256(local) != e["sha256"]:
            integrity.append({"at": e.where, "path": e["path"], "problem": "sha256 differs from the backup log"})
    metrics = {"backup_age": hours(max(age_seconds(ctx, newest["_ts"]), 0.0)),
               "backups_failed_ratio": Quantity(round(1 - len(good) / len(backups), 6), "ratio"),
               "backup_integrity_failures": len(integrity), "backup_files_verified": checked}
    # A restore only proves recovery when the restored data matched its checksums.
    good_restores = [e for e in restores if e["status"] == "ok" and e.get("checksums_match") is not False]
    if good_restores:
        metrics["restore_drill_age"] = days(max(age_seconds(ctx, max(e["_ts"] for e in good_restores)), 0.0))
    return CheckResult(
        metrics=metrics,
        # Recovery is half the requirement: without a restore that matched its checksums
        # the evidence for it does not exist.
        status=None if good_restores else Status.MISSING,
        message=f"newest backup {iso(newest['_ts'])}; "
                + (f"last restore drill {iso(max(e['_ts'] for e in good_restores))}" if good_restores
                   else "no successful restore drill recorded"),
        details={"backups": len(backups), "restore_tests": len(restores), "integrity": integrity[:50]},
    )


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


BACKUP_SCHEMA = {"type": "object", "properties": {"backups": PATH_PARAM}, "additionalProperties": False}
DRILL_SCHEMA = {"type": "object", "properties": {"drills": PATH_PARAM, "kind": {"type": "string"}},
                "additionalProperties": False}
