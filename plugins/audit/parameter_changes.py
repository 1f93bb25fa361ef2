"""Parameter change documentation: every changed algorithm parameter has an approval.

Plan lines 191-217 (Compliance and Audit): "Parameter change documentation" (AUD-03).

For every commit touching a parameter file (``parameter_files``) the file is diffed against
the commit's first parent, leaf by leaf; each changed key (among ``parameter_keys``) must be
covered by the ``parameters`` list of the approval the commit links to, and the commit must
meet the documentation rules of approvals.py (author, date, reason, prior independent
approval). A file's first version is its introduction, not a change. Old and new values stay
in git and are not copied into the result.
"""
from __future__ import annotations

import fnmatch
from pathlib import Path

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status
from golive.plugins.config_security import configfiles
from golive.plugins.monitoring import gitrepo
from golive.plugins.monitoring.opslog import ArtifactError, guarded, iso

from . import approvals
from .config_changes import SCHEMA, config_paths, not_tracked

__all__ = ["SCHEMA", "changed_keys", "parameter_changes"]


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
