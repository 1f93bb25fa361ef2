"""Documentation exists, names its owner and was reviewed since what it describes last changed.

Plan lines 213-217: "Documentation maintenance" (AUD-08).

Each document (``documents`` param; by default every ``docs/**/*.md``) may open with YAML
front matter naming its ``owner``, the paths it ``describes`` and the date it was last
``reviewed``. A document is stale when a path it describes changed (last git commit) after
the later of its review date and its own last commit. The check reports documents that are
required but absent, have no owner, or are stale, and the largest review lag in days.

Which documents are required is the team's layout: ``required`` (params), else
``required_documents`` in the target's ``golive.toml`` ``[settings]``. Unset, the figures are
still computed but the result is ``missing`` ("configure required_documents"): without the
list, "no document missing" would be a pass on nothing.
"""
from __future__ import annotations

import yaml

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status
from golive.plugins.monitoring import gitrepo
from golive.plugins.monitoring.observation import observe
from golive.plugins.monitoring.opslog import ArtifactError, guarded, iso, parse_ts


def front_matter(path) -> dict:
    text = path.read_text(encoding="utf-8", errors="replace")
    if not text.startswith("---"):
        return {}
    end = text.find("\n---", 3)
    if end < 0:
        raise ArtifactError(path, 1, "front matter opened with --- is never closed")
    try:
        data = yaml.safe_load(text[3:end]) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ArtifactError(path, mark.line + 2 if mark else 1, f"invalid front matter: {exc}") from None
    if not isinstance(data, dict):
        raise ArtifactError(path, 1, "front matter must be a mapping")
    return data


@guarded
def documentation_freshness(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    root = ctx.target.root
    required = ctx.params.get("required") or ctx.settings.get("required_documents") or []
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise ArtifactError("golive.toml", None, "[settings] required_documents must be a list of paths")
    pattern = ctx.params.get("documents", "docs/**/*.md")
    docs = sorted({p for p in root.glob(pattern) if p.is_file()} | {root / r for r in required if (root / r).is_file()})
    absent = [r for r in required if not (root / r).is_file()]
    if not docs:
        return CheckResult(status=Status.MISSING, message=f"{requirement.id}: no document matches {pattern!r}")
    in_git = gitrepo.is_repo(root)
    # every document's own last commit in one history walk, not one git process per document
    own_changes = gitrepo.last_changes(root, [str(d.relative_to(root)) for d in docs]) if in_git else {}
    rows, no_owner, stale, lags = [], [], [], []
    described_changes: dict[str, float | None] = {}  # documents often describe the same folder
    for doc in docs:
        rel = str(doc.relative_to(root))
        ctx.record_artifact(doc)
        meta = front_matter(doc)
        owner = meta.get("owner")
        if not owner:
            no_owner.append(rel)
        own_change = own_changes.get(rel) or doc.stat().st_mtime
        reviewed = parse_ts(str(meta["reviewed"]), doc, 1, "reviewed") if meta.get("reviewed") else None
        basis = max(own_change, reviewed or 0)
        describes = meta.get("describes") or []
        if isinstance(describes, str):
            describes = [describes]
        latest, latest_path = None, None
        if in_git:
            for described in describes:
                # One git call per pattern: a pathspec covers folders and globs alike.
                spec = f":(glob){described}" if any(ch in described for ch in "*?[") else described
                if spec not in described_changes:
                    described_changes[spec] = gitrepo.last_change(root, spec)
                when = described_changes[spec]
                if when and (latest is None or when > latest):
                    latest, latest_path = when, described
        lag = max(0.0, (latest - basis) / 86400) if latest else 0.0
        if latest and latest > basis:
            stale.append({"document": rel, "changed": latest_path, "changed_at": iso(latest), "reviewed_at": iso(basis)})
        lags.append(lag)
        rows.append({"document": rel, "owner": bool(owner), "describes": describes, "lag_d": round(lag, 2)})
    result = CheckResult(
        metrics={"documents": len(docs), "documents_missing": len(absent), "documents_without_owner": len(no_owner),
                 "documents_stale": len(stale), "doc_review_lag_max": Quantity(round(max(lags), 3), "d")},
        message=f"{len(docs)} documents: {len(absent)} missing, {len(no_owner)} without owner, {len(stale)} stale",
        details={"missing": absent, "without_owner": no_owner, "stale": stale[:100], "documents": rows[:100],
                 "history": "git" if in_git else "not a git repository: staleness not assessed"},
    )
    if not required:
        result.status = Status.MISSING
        result.message = (f"{requirement.id}: configure required_documents (golive.toml [settings], the documents "
                          f"the system must have); meanwhile " + result.message)
        result.configure = "required_documents in golive.toml [settings]"
    return observe(result, "documents", [own_changes.get(r["document"]) or (root / r["document"]).stat().st_mtime
                                         for r in rows])


SCHEMA = {"type": "object",
          "properties": {"documents": {"type": "string"}, "required": {"type": "array", "items": {"type": "string"}}},
          "additionalProperties": False}
METRICS = ("documents", "documents_missing", "documents_without_owner", "documents_stale", "doc_review_lag_max")
