"""Configuration and parameter changes are tracked in version control and documented.

Plan lines 191-217: "Configuration change tracking" (AUD-04) and "Parameter change
documentation" (AUD-03).

``config_changes`` reads the git history of the configuration folder: every commit touching
it must meet the documentation rules of approvals.py (author, date, reason, a prior approval
by someone else); uncommitted changes in the folder are undocumented by definition. A target
that is not a git repository fails: its configuration is not under version control.
``parameter_changes`` goes one level down: for every commit touching a parameter file it
diffs the file against the previous commit, leaf by leaf, and each changed key (among
``parameter_keys``) must be covered by the ``parameters`` of the approval the commit links
to. Old and new values come from git and are not copied into the result.
"""
from __future__ import annotations

import fnmatch
from pathlib import Path

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status
from golive.plugins.config_security import configfiles
from golive.plugins.monitoring import gitrepo
from golive.plugins.monitoring.opslog import ArtifactError, guarded, iso

from . import approvals


def config_paths(ctx: CheckContext) -> list[str]:
    default = [str(ctx.target.path("config").relative_to(ctx.target.root))]
    return list(ctx.params.get("paths", default))


def not_tracked(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    zeros = {"config_commits": 0, "config_changes_undocumented": 0, "uncommitted_config_changes": 0,
             "self_approved_changes": 0, "parameter_changes": 0, "parameter_changes_undocumented": 0}
    return CheckResult(status=Status.FAIL, metrics={"under_version_control": 0, **zeros},
                       message=f"{requirement.id}: {ctx.target.root} is not a git repository, so configuration "
                               "changes are not tracked")


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
    return CheckResult(
        metrics={"under_version_control": 1, "config_commits": n, "config_changes_undocumented": len(undocumented),
                 "config_changes_documented_ratio": Quantity(round(1 - len(undocumented) / n, 6), "ratio"),
                 "uncommitted_config_changes": len(dirty), "self_approved_changes": self_approved},
        message=f"{n - len(undocumented)}/{n} configuration commits documented; {len(dirty)} uncommitted change(s)",
        details={"paths": paths, "undocumented": undocumented[:100], "uncommitted": dirty[:100],
                 "rules": approvals.__doc__.split("\n\n")[0].strip() if approvals.__doc__ else ""},
    )


def changed_keys(root: Path, commit: gitrepo.Commit, path: str, parent: str) -> list[str] | None:
    """Leaf keys whose value differs between ``parent`` and ``commit`` (None: file is new)."""
    new_text = gitrepo.show(root, commit.sha, path)
    old_text = gitrepo.show(root, parent, path)
    if old_text is None:
        return None
    p = Path(path)
    try:
        new = configfiles.flatten(configfiles.loads(new_text, p)) if new_text is not None else {}
        old = configfiles.flatten(configfiles.loads(old_text, p))
    except ArtifactError as exc:
        raise ArtifactError(f"{path}@{commit.sha[:12]}", exc.line, exc.problem) from None
    return sorted(k for k in old.keys() | new.keys() if old.get(k, KeyError) != new.get(k, KeyError))


@guarded
def parameter_changes(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    root = ctx.target.root
    if not gitrepo.is_repo(root):
        return not_tracked(requirement, ctx)
    _, register = approvals.load_register(ctx)
    files = list(ctx.params.get("parameter_files", [f"{config_paths(ctx)[0]}/*"]))
    keys = list(ctx.params.get("parameter_keys", ["*"]))
    pattern = ctx.params.get("approval_pattern", approvals.DEFAULT_PATTERN)
    min_reason = int(ctx.params.get("min_reason_chars", 15))
    try:
        history = gitrepo.commits(root, [f":(glob){g}" for g in files])
    except gitrepo.GitError as exc:
        return CheckResult(status=Status.ERROR, message=f"{requirement.id}: {exc}")
    changes, undocumented, introduced = 0, [], []
    for c in history:
        parent = f"{c.sha}^"  # first parent; a root commit has none and its files are introduced
        issues, linked = approvals.problems(c, register, pattern, min_reason)
        covered = [p for a in linked for p in (a.get("parameters") or [])]
        for path in c.files:
            if not any(fnmatch.fnmatchcase(path, g) for g in files) or Path(path).suffix not in configfiles.CONFIG_SUFFIXES:
                continue
            diff = changed_keys(root, c, path, parent)
            if diff is None:
                introduced.append({"file": path, "commit": c.sha[:12]})
                continue
            for key in (k for k in diff if any(fnmatch.fnmatchcase(k, p) for p in keys)):
                changes += 1
                why = list(issues)
                if not any(fnmatch.fnmatchcase(key, p) for p in covered):
                    why.append("the linked approval does not list this parameter")
                if why:
                    undocumented.append({"file": path, "parameter": key, "commit": c.sha[:12], "date": iso(c.date),
                                         "author": c.author, "problems": why})
    if not changes:
        return CheckResult(status=Status.MISSING if not introduced else None,
                           metrics={"parameter_changes": 0, "parameter_changes_undocumented": 0},
                           message=f"{requirement.id}: no parameter value changed after the files were introduced",
                           details={"introduced": introduced})
    return CheckResult(
        metrics={"parameter_changes": changes, "parameter_changes_undocumented": len(undocumented),
                 "parameter_changes_documented_ratio": Quantity(round(1 - len(undocumented) / changes, 6), "ratio")},
        message=f"{changes - len(undocumented)}/{changes} parameter changes documented by an approval",
        details={"files": files, "keys": keys, "undocumented": undocumented[:100], "introduced": introduced[:50],
                 "note": "old and new values are in git history; they are not copied into the evidence"},
    )


SCHEMA = {
    "type": "object",
    "properties": {"paths": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                   "parameter_files": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                   "parameter_keys": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                   "approvals": {"type": "string"}, "approval_pattern": {"type": "string", "format": "regex"},
                   "min_reason_chars": {"type": "integer", "minimum": 0}},
    "additionalProperties": False,
}
