"""Credential refresh: every credential in the inventory is rotated within its own period.

Plan lines 59-69: "Credential refresh" (PRE-CONF-06).

The inventory ``config/credentials.yaml`` lists ``credentials`` with a ``name`` and a
``rotate_days`` policy (the system's own; the plan's threshold, if any, applies to the
reported maximum age). ``logs/credential_events.jsonl`` records ``rotated``/``refreshed``
events (and ``refresh_failed``). A credential's age is the time since its last successful
rotation or refresh, or since ``issued`` in the inventory when it was never rotated.
``auth`` events carrying a ``key_version`` show whether a rotation was picked up without a
restart: an authentication with an older version more than ``grace_s`` after the rotation
is a stale-version use. Only names, versions and times are read; no credential value ever
is. Result fields avoid credential-like names (``key``, ``credential``...) because the ledger
masks values under such names.
"""
from __future__ import annotations

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status

from golive.plugins.monitoring.observation import observe
from golive.plugins.monitoring.opslog import (PATH_PARAM, ArtifactError, ArtifactMissing, age_seconds, guarded,
                                              input_path, iso, parse_ts, read_jsonl)

from . import configfiles

REFRESHED = {"rotated", "refreshed"}


def stale_version_uses(events, grace_s: float) -> list[dict]:
    """``auth`` events that used a key version older than the latest rotation, more than
    ``grace_s`` after it: the new key was not picked up."""
    found = []
    rotations = sorted((e for e in events if e["event"] in REFRESHED and e.get("key_version") is not None),
                       key=lambda e: e["_ts"])
    for auth in (e for e in events if e["event"] == "auth" and e.get("key_version") is not None):
        current = [r for r in rotations if r["credential"] == auth["credential"] and r["_ts"] + grace_s <= auth["_ts"]]
        if current and str(auth["key_version"]) != str(current[-1]["key_version"]):
            found.append({"name": auth["credential"], "at": auth.where, "ts": iso(auth["_ts"]),
                          "used_version": auth["key_version"], "current_version": current[-1]["key_version"]})
    return found


@guarded
def credential_refresh(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    inv_path = input_path(ctx, "inventory", "config/credentials.yaml")
    if not inv_path.is_file():
        raise ArtifactMissing(f"credential inventory {inv_path} not found")
    ctx.record_artifact(inv_path)
    doc = configfiles.load(inv_path)
    creds = doc.get("credentials") if isinstance(doc, dict) else None
    if not isinstance(creds, list) or not all(isinstance(c, dict) and "name" in c for c in creds):
        raise ArtifactError(inv_path, None, "expected a 'credentials' list of {name, rotate_days, issued?}")
    ev_path = input_path(ctx, "events", "logs/credential_events.jsonl")
    events = read_jsonl(ev_path, required=("ts", "credential", "event")) if ev_path.is_file() else []
    if ev_path.is_file():
        ctx.record_artifact(ev_path)
    known = {c["name"] for c in creds}
    for e in events:
        if e["credential"] not in known:
            raise ArtifactError(e.path, e.line, f"credential {e['credential']!r} is not in {inv_path.name}")
    rows, overdue, never = [], [], []
    for c in creds:
        last = max((e["_ts"] for e in events if e["credential"] == c["name"] and e["event"] in REFRESHED), default=None)
        basis = "last rotation"
        if last is None:
            never.append(c["name"])
            if c.get("issued") is None:
                rows.append({"name": c["name"], "age_d": None, "basis": "never rotated, issue date unknown"})
                overdue.append(c["name"])
                continue
            last, basis = parse_ts(str(c["issued"]), inv_path, None, f"{c['name']}.issued"), "issued"
        age_d = max(age_seconds(ctx, last), 0) / 86400
        policy = c.get("rotate_days")
        late = policy is not None and age_d > float(policy)
        if late:
            overdue.append(c["name"])
        rows.append({"name": c["name"], "age_d": round(age_d, 2), "rotate_days": policy, "basis": basis,
                     "since": iso(last), "overdue": late})
    failures = [e for e in events if e["event"] == "refresh_failed"]
    stale_uses = stale_version_uses(events, float(ctx.params.get("grace_s", 300)))
    ages = [r["age_d"] for r in rows if r["age_d"] is not None]
    if not creds:
        return CheckResult(status=Status.MISSING, message=f"{requirement.id}: {inv_path.name} lists no credentials")
    metrics = {"rotation_entries": len(creds), "rotation_overdue": len(overdue), "never_rotated": len(never),
               "refresh_failures": len(failures), "stale_version_uses": len(stale_uses)}
    if ages:
        metrics["rotation_max_age"] = Quantity(max(ages), "d")
    result = CheckResult(metrics=metrics,
                         message=f"{len(creds) - len(overdue)}/{len(creds)} credentials within their rotation period",
                         details={"inventory": rows, "overdue": overdue, "stale_version_uses": stale_uses[:50],
                                  "refresh_failures": [{"name": e["credential"], "ts": iso(e["_ts"])} for e in failures][:50]})
    return observe(result, "credentials in the inventory", (), events=len(creds))


SCHEMA = {"type": "object",
          "properties": {"inventory": PATH_PARAM, "events": PATH_PARAM, "grace_s": {"type": "number", "minimum": 0}},
          "additionalProperties": False}
