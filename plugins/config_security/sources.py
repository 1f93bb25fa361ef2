"""Data sources can be enabled and disabled, and a disabled source is really not used.

Plan lines 59-69: "Source enablement/disablement" (PRE-CONF-04).

Every source in ``config/sources.yaml`` (a ``sources`` mapping or list of mappings with a
``name``) must carry a boolean ``enabled`` switch. The pipeline run log then shows whether
the switch is honoured: a run whose ``sources_used`` names a source that is disabled in the
current configuration, started after the configuration last changed (its last git commit;
every logged run when the target has no git history), used a disabled source.
"""
from __future__ import annotations

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status

from golive.plugins.monitoring import gitrepo
from golive.plugins.monitoring.observation import observe
from golive.plugins.monitoring.opslog import PATH_PARAM, ArtifactError, ArtifactMissing, guarded, input_path, iso, iter_jsonl

from . import configfiles


def load_sources(ctx: CheckContext):
    path = input_path(ctx, "sources", "config/sources.yaml")
    if not path.is_file():
        raise ArtifactMissing(f"source configuration {path} not found")
    ctx.record_artifact(path)
    doc = configfiles.load(path)
    raw = doc.get("sources") if isinstance(doc, dict) else None
    if isinstance(raw, dict):
        items = [{"name": k, **(v if isinstance(v, dict) else {"_bad": v})} for k, v in raw.items()]
    elif isinstance(raw, list) and all(isinstance(i, dict) and "name" in i for i in raw):
        items = raw
    else:
        raise ArtifactError(path, None, "expected 'sources' as a mapping of name -> settings or a list with 'name'")
    return path, items


@guarded
def source_toggles(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    path, items = load_sources(ctx)
    if not items:
        return CheckResult(status=Status.MISSING, message=f"{requirement.id}: {path.name} lists no sources")
    without = [s["name"] for s in items if not isinstance(s.get("enabled"), bool)]
    disabled = {s["name"] for s in items if s.get("enabled") is False}
    since, since_source = None, "all logged runs (configuration not in git history)"
    rel = str(path.relative_to(ctx.target.root))
    if gitrepo.is_repo(ctx.target.root):
        try:
            since = gitrepo.last_change(ctx.target.root, rel)
        except gitrepo.GitError:
            since = None
        if since is not None:
            since_source = f"runs started after the last change of {rel} ({iso(since)})"
    runs_path = input_path(ctx, "runs", "logs/pipeline_runs.jsonl")
    violations, runs_checked = [], 0
    if runs_path.is_file():
        ctx.record_artifact(runs_path)
        for run in iter_jsonl(runs_path, required=("run_id", "started"), ts_fields=("started",)):
            if since is not None and run["_started"] < since:
                continue
            used = run.get("sources_used")
            if used is None:
                continue
            runs_checked += 1
            for name in set(used) & disabled:
                violations.append({"run_id": run["run_id"], "source": name, "at": run.where})
    metrics = {"sources": len(items), "sources_enabled": sum(s.get("enabled") is True for s in items),
               "sources_without_switch": len(without),
               "sources_switchable_ratio": Quantity(round(1 - len(without) / len(items), 6), "ratio"),
               "disabled_source_used": len(violations), "runs_checked": runs_checked}
    result = CheckResult(
        metrics=metrics,
        status=None if runs_checked else Status.PARTIAL,
        message=f"{len(items) - len(without)}/{len(items)} sources have an enabled switch; "
                + (f"{len(violations)} use(s) of a disabled source in {runs_checked} runs" if runs_checked
                   else "no run records sources_used, so honouring the switch is not evidenced"),
        details={"without_switch": without, "disabled": sorted(disabled), "runs": since_source,
                 "violations": violations[:50]},
    )
    return observe(result, "data sources in the configuration", (), events=len(items))


SCHEMA = {"type": "object", "properties": {"sources": PATH_PARAM, "runs": PATH_PARAM}, "additionalProperties": False}
