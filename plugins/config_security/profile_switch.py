"""Switching between production and testing changes only what it should.

Plan lines 59-69 (Configuration and Security Testing): "Profile switching between production
and testing" (PRE-CONF-02).

``profile_switch`` compares the two profiles leaf by leaf (dotted key paths). Every
differing or one-sided key must match an ``allowed_differences`` pattern (``fnmatch``), and
every ``required_differences`` key must actually differ -- otherwise a testing run could, for
example, still route orders to production. Only key names enter the result, never values.
"""
from __future__ import annotations

import fnmatch

from golive.model import CheckContext, CheckResult, Requirement

from golive.plugins.monitoring.opslog import PATH_PARAM, ArtifactError, ArtifactMissing, guarded, input_path

from . import configfiles


@guarded
def profile_switch(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    docs = {}
    for role, default in (("production", "config/profiles/production.yaml"), ("testing", "config/profiles/testing.yaml")):
        path = input_path(ctx, role, default)
        if not path.is_file():
            raise ArtifactMissing(f"{role} profile {path} not found")
        ctx.record_artifact(path)
        doc = configfiles.load(path)
        if not isinstance(doc, dict):
            raise ArtifactError(path, None, "top level must be a mapping")
        docs[role] = configfiles.flatten(doc)
    prod, test = docs["production"], docs["testing"]
    allowed = list(ctx.params.get("allowed_differences", []))
    required = list(ctx.params.get("required_differences", []))
    differing = sorted(k for k in prod.keys() | test.keys() if prod.get(k, KeyError) != test.get(k, KeyError))
    unexpected = [k for k in differing if not any(fnmatch.fnmatchcase(k, p) for p in allowed)]
    not_switched = [k for k in required if not any(fnmatch.fnmatchcase(d, k) for d in differing)]
    return CheckResult(
        metrics={"differing_keys": len(differing), "unexpected_differences": len(unexpected),
                 "required_differences_missing": len(not_switched)},
        message=f"{len(differing)} keys differ, {len(unexpected)} not allowed, "
                f"{len(not_switched)} required switches missing",
        # Only key names, never values: profiles may hold endpoints or account ids.
        details={"unexpected": unexpected[:100], "not_switched": not_switched, "allowed": allowed,
                 "one_sided": sorted(set(prod) ^ set(test))[:100]},
    )


SCHEMA = {
    "type": "object",
    "properties": {"production": PATH_PARAM, "testing": PATH_PARAM,
                   "allowed_differences": {"type": "array", "items": {"type": "string"}},
                   "required_differences": {"type": "array", "items": {"type": "string"}}},
    "additionalProperties": False,
}
