"""Switching between production and testing changes only what it should.

Plan lines 59-69 (Configuration and Security Testing): "Profile switching between production
and testing" (PRE-CONF-02).

``profile_switch`` compares the two profiles leaf by leaf (dotted key paths). Every
differing or one-sided key must match an ``allowed_differences`` pattern (``fnmatch``), and
every ``required_differences`` key must actually differ -- otherwise a testing run could, for
example, still route orders to production. Only key names enter the result, never values.

The two profiles are ``check.params.production`` / ``testing``, else ``[settings]
profile_production`` / ``profile_testing``, else ``config/profiles/{production,testing}.yaml``.
Both lists name the target's own layout, so they come from ``check.params`` or, for a real
repository, from golive.toml (``[settings] profile_allowed_differences`` and
``profile_required_differences``). With no required switch configured the requirement is
``missing`` ("configure ..."): comparing two profiles against nothing proves nothing.
"""
from __future__ import annotations

import fnmatch

from golive.model import CheckContext, CheckResult, Requirement, Status

from golive.plugins.monitoring.opslog import PATH_PARAM, ArtifactError, guarded, input_path

from . import configfiles
from .profiles import configure_result


@guarded
def profile_switch(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    docs = {}
    for role, default in (("production", "config/profiles/production.yaml"), ("testing", "config/profiles/testing.yaml")):
        configured = ctx.settings.get(f"profile_{role}")
        path = ctx.target.root / str(configured) if role not in ctx.params and configured else \
            input_path(ctx, role, default)
        if not path.is_file():
            return configure_result(f"golive.toml [settings] profile_{role}", CheckResult(
                status=Status.MISSING, message=f"{requirement.id}: {role} profile {path} not found; configure it in "
                                               f'golive.toml ([settings] profile_{role} = "path/to/{role}.yaml")'))
        ctx.record_artifact(path)
        doc = configfiles.load(path)
        if not isinstance(doc, dict):
            raise ArtifactError(path, None, "top level must be a mapping")
        docs[role] = configfiles.flatten(doc)
    prod, test = docs["production"], docs["testing"]
    allowed = _patterns(ctx, "allowed_differences")
    required = _patterns(ctx, "required_differences")
    if not required:
        return configure_result("golive.toml [settings] profile_required_differences", CheckResult(status=Status.MISSING,
                           message=f"{requirement.id}: no required switch between the profiles is configured: configure "
                                   "golive.toml [settings] profile_required_differences = [\"broker.endpoint\", ...] "
                                   "(keys that must differ, e.g. order routing) and profile_allowed_differences "
                                   "(patterns of keys that may differ)"))
    differing = sorted(k for k in prod.keys() | test.keys() if prod.get(k, KeyError) != test.get(k, KeyError))
    # a key that must switch may of course differ: required switches are allowed differences too
    unexpected = [k for k in differing if not any(fnmatch.fnmatchcase(k, p) for p in allowed + required)]
    not_switched = [k for k in required if not any(fnmatch.fnmatchcase(d, k) for d in differing)]
    result = CheckResult(
        metrics={"differing_keys": len(differing), "unexpected_differences": len(unexpected),
                 "required_differences_missing": len(not_switched)},
        message=f"{len(differing)} keys differ, {len(unexpected)} not allowed, "
                f"{len(not_switched)} required switches missing",
        # Only key names, never values: profiles may hold endpoints or account ids.
        details={"unexpected": unexpected[:100], "not_switched": not_switched, "allowed": allowed,
                 "one_sided": sorted(set(prod) ^ set(test))[:100]},
    )
    result.observed = {"events": len(prod) + len(test), "first": None, "newest": None,
                       "what": "profile keys compared"}
    return result


def _patterns(ctx: CheckContext, name: str) -> list[str]:
    """Key patterns from check.params, else golive.toml ``[settings] profile_<name>``."""
    if name in ctx.params:
        return list(ctx.params[name])
    configured = ctx.settings.get(f"profile_{name}", [])
    if not isinstance(configured, list) or not all(isinstance(k, str) for k in configured):
        raise ArtifactError(ctx.target.root / "golive.toml", None,
                            f"[settings] profile_{name} must be a list of key patterns (strings)")
    return list(configured)


SCHEMA = {
    "type": "object",
    "properties": {"production": PATH_PARAM, "testing": PATH_PARAM,
                   "allowed_differences": {"type": "array", "items": {"type": "string"}},
                   "required_differences": {"type": "array", "items": {"type": "string"}}},
    "additionalProperties": False,
}
