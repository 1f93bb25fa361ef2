"""Configuration changes are tracked in version control and documented.

Plan lines 191-217 (Compliance and Audit): "Configuration change tracking" (AUD-04).

``config_changes`` reads the git history of the configuration folder: every commit touching
it must meet the documentation rules of approvals.py (author, date, reason, a prior approval
by someone else); uncommitted changes in the folder are undocumented by definition. A target
that is not a git repository has no history to read: the result is ``missing``.
``config_paths``, ``not_tracked`` and ``SCHEMA`` are shared with parameter_changes.py.
"""
from __future__ import annotations

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status
from golive.plugins.monitoring import gitrepo
from golive.plugins.monitoring.observation import observe
from golive.plugins.monitoring.opslog import guarded, iso

from . import approvals


def config_paths(ctx: CheckContext) -> list[str]:
    default = [str(ctx.target.path("config").relative_to(ctx.target.root))]
    return list(ctx.params.get("paths", default))


def not_tracked(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    # Missing, not fail: the history this check reads does not exist here -- either the
    # configuration is not under version control or the workspace is a copy without .git.
    return CheckResult(status=Status.MISSING, metrics={"under_version_control": 0},
                       message=f"{requirement.id}: {ctx.target.root} is not the top of a git repository, so "
                               "configuration changes cannot be traced (put the configuration under version "
                               "control and audit the repository itself)")


@guarded
def config_changes(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    root = ctx.target.root
    if not gitrepo.is_repo(root):
        return not_tracked(requirement, ctx)
    _, register = approvals.load_register(ctx)
    paths = config_paths(ctx)
    pattern = ctx.params.get("approval_pattern", approvals.DEFAULT_PATTERN)
    min_reason = int(ctx.params.get("min_reason_chars", 15))
    try:
        history = gitrepo.commits(root, paths)
        dirty = gitrepo.dirty_files(root, paths)
    except gitrepo.GitError as exc:
        return CheckResult(status=Status.ERROR, message=f"{requirement.id}: {exc}")
    if not history:
        return CheckResult(status=Status.MISSING, message=f"{requirement.id}: no commit touches {', '.join(paths)}")
    undocumented, self_approved = [], 0
    for c in history:
        issues, _ = approvals.problems(c, register, pattern, min_reason)
        self_approved += any("given by the author" in i for i in issues)
        if issues:
            undocumented.append({"commit": c.sha[:12], "author": c.author, "date": iso(c.date),
                                 "subject": c.subject[:120], "problems": issues})
    n = len(history)
    return observe(CheckResult(
        metrics={"under_version_control": 1, "config_commits": n, "config_changes_undocumented": len(undocumented),
                 "config_changes_documented_ratio": Quantity(round(1 - len(undocumented) / n, 6), "ratio"),
                 "uncommitted_config_changes": len(dirty), "self_approved_changes": self_approved},
        message=f"{n - len(undocumented)}/{n} configuration commits documented; {len(dirty)} uncommitted change(s)",
        details={"paths": paths, "undocumented": undocumented[:100], "uncommitted": dirty[:100],
                 "rules": approvals.__doc__.split("\n\n")[0].strip() if approvals.__doc__ else ""},
    ), "configuration commits", [c.date for c in history])



SCHEMA = {
    "type": "object",
    "properties": {"paths": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                   "parameter_files": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                   "parameter_keys": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                   "approvals": {"type": "string"}, "approval_pattern": {"type": "string", "format": "regex"},
                   "min_reason_chars": {"type": "integer", "minimum": 0}},
    "additionalProperties": False,
}
