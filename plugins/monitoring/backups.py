"""Backup and recovery: backups are recent and intact, and restores are drilled.

Plan lines 137-163 (Risk Management and Monitoring): "Backup and recovery" (RISK-11).

``logs/backups.jsonl`` records ``kind: backup`` and ``kind: restore_test`` entries with
``status: ok|failed``; backups may name a local ``path`` and its ``sha256``. The check reports
the age of the newest successful backup, the share of failed backups, re-hashes every local
backup file it can reach (a backup that is gone or altered is an integrity failure), and the
age of the newest successful restore test whose ``checksums_match`` is not false. Without
such a restore test recovery is not evidenced and the result is ``missing``.
"""
from __future__ import annotations

from golive.digest import file_sha256
from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status

from .observation import observe
from .opslog import PATH_PARAM, ArtifactError, age_seconds, days, guarded, hours, input_path, iso, iter_jsonl


@guarded
def backup_recovery(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    path = input_path(ctx, "backups", "logs/backups.jsonl")
    backups = restores = 0
    good, good_restores = [], []  # successful backups (the fields integrity needs) and restore times
    for e in iter_jsonl(path, required=("ts", "kind", "status")):  # streamed: only what is judged is kept
        if e["kind"] not in ("backup", "restore_test") or e["status"] not in ("ok", "failed"):
            raise ArtifactError(e.path, e.line, "kind must be backup|restore_test and status ok|failed")
        if e["kind"] == "backup":
            backups += 1
            if e["status"] == "ok":
                good.append({"_ts": e["_ts"], "where": e.where, "path": e.get("path"), "sha256": e.get("sha256"),
                             "offsite": e.get("offsite")})
        else:
            restores += 1
            # A restore only proves recovery when the restored data matched its checksums.
            if e["status"] == "ok" and e.get("checksums_match") is not False:
                good_restores.append(e["_ts"])
    ctx.record_artifact(path)
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
            integrity.append({"at": e["where"], "path": e["path"], "problem": "backup file not found"})
            continue
        checked += 1
        if file_sha256(local) != e["sha256"]:
            integrity.append({"at": e["where"], "path": e["path"], "problem": "sha256 differs from the backup log"})
    metrics = {"backup_age": hours(max(age_seconds(ctx, newest["_ts"]), 0.0)),
               "backups_failed_ratio": Quantity(round(1 - len(good) / backups, 6), "ratio"),
               "backup_integrity_failures": len(integrity), "backup_files_verified": checked}
    if good_restores:
        metrics["restore_drill_age"] = days(max(age_seconds(ctx, max(good_restores)), 0.0))
    return observe(CheckResult(
        metrics=metrics,
        # Recovery is half the requirement: without a restore that matched its checksums
        # the evidence for it does not exist.
        status=None if good_restores else Status.MISSING,
        message=f"newest backup {iso(newest['_ts'])}; "
                + (f"last restore drill {iso(max(good_restores))}" if good_restores
                   else "no successful restore drill recorded"),
        details={"backups": backups, "restore_tests": restores, "integrity": integrity[:50]},
    ), "successful backups and restore drills", [*(e["_ts"] for e in good), *good_restores])


SCHEMA = {"type": "object", "properties": {"backups": PATH_PARAM}, "additionalProperties": False}
