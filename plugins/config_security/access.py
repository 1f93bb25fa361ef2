"""Access control: an access list exists, every account has one accountable owner, no sharing.

Plan lines 59-69: "Access control" (PRE-CONF-07).

``config/access.yaml`` lists ``accounts`` (``id``, ``kind: person|service``, ``roles``,
``owner`` for services). An account is shared when it says so (``shared: true``), when it
names more than one person in ``people``, or when a person account has a generic name
(admin, root, trader, ops...). A service account without an owner has nobody accountable.
Every ``actor`` in the audit log (``logs/audit.jsonl``) must be an account of the list, and
refused attempts must be logged there (``event: access_denied``).
"""
from __future__ import annotations

from golive.model import CheckContext, CheckResult, Requirement

from golive.plugins.monitoring.observation import observe
from golive.plugins.monitoring.opslog import PATH_PARAM, ArtifactError, ArtifactMissing, guarded, input_path, iter_jsonl

from . import configfiles

GENERIC = {"admin", "administrator", "root", "shared", "team", "trader", "traders", "ops", "desk", "test",
           "guest", "user", "dev", "support", "trading"}


@guarded
def access_control(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    path = input_path(ctx, "acl", "config/access.yaml")
    if not path.is_file():
        raise ArtifactMissing(f"access control list {path} not found")
    ctx.record_artifact(path)
    doc = configfiles.load(path)
    accounts = doc.get("accounts") if isinstance(doc, dict) else None
    if not isinstance(accounts, list) or not all(isinstance(a, dict) and "id" in a for a in accounts):
        raise ArtifactError(path, None, "expected an 'accounts' list of {id, kind, roles, owner?}")
    generic = {g.lower() for g in ctx.params.get("generic_names", GENERIC)}
    shared, unowned, no_roles = [], [], []
    for a in accounts:
        kind, ident = a.get("kind", "person"), str(a["id"])
        why = []
        if a.get("shared") is True:
            why.append("marked shared")
        if len(a.get("people") or []) > 1:
            why.append(f"used by {len(a['people'])} people")
        if kind == "person" and ident.lower() in generic:
            why.append("generic name for a person account")
        if why:
            shared.append({"account": ident, "why": why})
        if kind == "service" and not a.get("owner"):
            unowned.append(ident)
        if not a.get("roles"):
            no_roles.append(ident)
    ids = {str(a["id"]) for a in accounts}
    audit_path = input_path(ctx, "audit", "logs/audit.jsonl")
    unknown: dict[str, str] = {}
    denied = 0
    if audit_path.is_file():
        ctx.record_artifact(audit_path)
        for e in iter_jsonl(audit_path):
            denied += e.get("event") == "access_denied"
            actor = e.get("actor")
            if actor is not None and str(actor) not in ids:
                unknown.setdefault(str(actor), e.where)
    result = CheckResult(
        metrics={"accounts": len(accounts), "shared_accounts": len(shared), "unowned_service_accounts": len(unowned),
                 "accounts_without_roles": len(no_roles), "unknown_actors": len(unknown),
                 "denied_attempts_logged": denied},
        message=f"{len(accounts)} accounts, {len(shared)} shared, {len(unowned)} service accounts without owner, "
                f"{len(unknown)} audit actors not in the list",
        details={"shared": shared, "unowned": unowned, "without_roles": no_roles,
                 "unknown_actors": [{"actor": k, "first_seen": v} for k, v in unknown.items()][:50],
                 "audit_log": audit_path.is_file()},
    )
    return observe(result, "accounts in the access list", (), events=len(accounts))


SCHEMA = {"type": "object",
          "properties": {"acl": PATH_PARAM, "audit": PATH_PARAM,
                         "generic_names": {"type": "array", "items": {"type": "string"}}},
          "additionalProperties": False}
