"""Parameter change documentation: every changed algorithm parameter has an approval.

Plan lines 191-217 (Compliance and Audit): "Parameter change documentation" (AUD-03).

For every commit touching a parameter file (``parameter_files``) the file is diffed against
the commit's first parent, leaf by leaf; each changed key (among ``parameter_keys``) must be
covered by the ``parameters`` list of the approval the commit links to, and the commit must
meet the documentation rules of approvals.py (author, date, reason, prior independent
approval). A file's first version introduces its parameters: each introduced key is an
addition that needs the same approval as a change (an empty register does not pass a
repository whose parameters were only ever added). No change and no addition in the history is
``missing`` ("not exercised"), never a pass. Old and new values stay in git and are not copied
into the result.

The parameter files are ``parameter_files`` (params), else ``parameter_files`` in the target's
``golive.toml`` ``[settings]``, else every file of the configuration folder (the message says
which was used).
"""
from __future__ import annotations

import fnmatch
from pathlib import Path

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status
from golive.plugins.config_security import configfiles
from golive.plugins.monitoring import gitrepo
from golive.plugins.monitoring.observation import not_exercised, observe
from golive.plugins.monitoring.opslog import ArtifactError, guarded, iso

from . import approvals
from .config_changes import SCHEMA, config_paths, not_tracked

__all__ = ["SCHEMA", "changed_keys", "parameter_changes"]


def _flat(text: str, path: str, sha: str) -> dict:
    try:
        return configfiles.flatten(configfiles.loads(text, Path(path)))
    except ArtifactError as exc:
        raise ArtifactError(f"{path}@{sha[:12]}", exc.line, exc.problem) from None


def changed_keys(root: Path, commit: gitrepo.Commit, path: str, parent: str) -> tuple[list[str], bool]:
    """(leaf keys whose value differs between ``parent`` and ``commit``, whether the file is new)."""
    new_text = gitrepo.show(root, commit.sha, path)
    old_text = gitrepo.show(root, parent, path)
    new = _flat(new_text, path, commit.sha) if new_text is not None else {}
    if old_text is None:
        return sorted(new), True
    old = _flat(old_text, path, commit.sha)
    return sorted(k for k in old.keys() | new.keys() if old.get(k, KeyError) != new.get(k, KeyError)), False


def parameter_files(ctx: CheckContext) -> tuple[list[str], str]:
    """The parameter file globs and where they came from (params, golive.toml, default)."""
    if ctx.params.get("parameter_files"):
        return list(ctx.params["parameter_files"]), "the plan's parameter_files"
    configured = ctx.settings.get("parameter_files")
    if configured:
        if isinstance(configured, str):
            configured = [configured]
        if not isinstance(configured, list) or not all(isinstance(g, str) for g in configured):
            raise ArtifactError("golive.toml", None, "[settings] parameter_files must be a list of file globs")
        return list(configured), "golive.toml [settings] parameter_files"
    return [f"{config_paths(ctx)[0]}/*"], "every file of the configuration folder (set [settings] parameter_files " \
                                          "in golive.toml to name the algorithm's parameter files)"


@guarded
def parameter_changes(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    root = ctx.target.root
    if not gitrepo.is_repo(root):
        return not_tracked(requirement, ctx)
    _, register = approvals.load_register(ctx)
    files, files_from = parameter_files(ctx)
    keys = list(ctx.params.get("parameter_keys", ["*"]))
    pattern = ctx.params.get("approval_pattern", approvals.DEFAULT_PATTERN)
    min_reason = int(ctx.params.get("min_reason_chars", 15))
    try:
        history = gitrepo.commits(root, [f":(glob){g}" for g in files])
    except gitrepo.GitError as exc:
        return CheckResult(status=Status.ERROR, message=f"{requirement.id}: {exc}")
    changes, added, undocumented, introduced, dates = 0, 0, [], [], []
    for c in history:
        parent = f"{c.sha}^"  # first parent; a root commit has none and its files are introduced
        issues, linked = approvals.problems(c, register, pattern, min_reason)
        covered = [p for a in linked for p in (a.get("parameters") or [])]
        for path in c.files:
            if not any(fnmatch.fnmatchcase(path, g) for g in files) or Path(path).suffix not in configfiles.CONFIG_SUFFIXES:
                continue
            diff, new_file = changed_keys(root, c, path, parent)
            if new_file:
                introduced.append({"file": path, "commit": c.sha[:12], "parameters": len(diff)})
            for key in (k for k in diff if any(fnmatch.fnmatchcase(k, p) for p in keys)):
                changes += 1
                added += new_file
                dates.append(c.date)
                why = list(issues)
                if not any(fnmatch.fnmatchcase(key, p) for p in covered):
                    why.append("the linked approval does not list this parameter")
                if why:
                    undocumented.append({"file": path, "parameter": key, "commit": c.sha[:12], "date": iso(c.date),
                                         "author": c.author, "change": "added" if new_file else "changed",
                                         "problems": why})
    if not changes:
        return not_exercised("parameter change or addition",
                             f"no commit changes or adds a parameter in {', '.join(files)} ({files_from})",
                             metrics={"parameter_changes": 0}, details={"files": files, "files_from": files_from})
    result = CheckResult(
        metrics={"parameter_changes": changes, "parameter_changes_undocumented": len(undocumented),
                 "parameter_changes_documented_ratio": Quantity(round(1 - len(undocumented) / changes, 6), "ratio")},
        message=f"{changes - len(undocumented)}/{changes} parameter changes documented by an approval "
                f"({added} of them additions in a file's first version; {len(register)} approval(s) in the "
                f"register; files: {', '.join(files)}, from {files_from})",
        details={"files": files, "files_from": files_from, "keys": keys, "undocumented": undocumented[:100],
                 "introduced": introduced[:50], "additions": added,
                 "note": "old and new values are in git history; they are not copied into the evidence"},
    )
    return observe(result, "parameter changes or additions", dates)
