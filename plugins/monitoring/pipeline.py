"""Pipeline orchestration timing, from the pipeline run log.

Plan lines 3-15 (Core Trading Pipeline Validation): "Pipeline orchestration timing (< 2
minutes)" (PRE-PIPE-04).

``pipeline_duration`` reports the nearest-rank p50/p95/max wall time of completed runs in
``logs/pipeline_runs.jsonl`` (failed runs end early and are excluded unless
``include_failed``); the engine compares ``duration_p95`` with the plan's 2 minutes.
``load_runs`` is shared with the error-propagation and entry-point checks.
Record contract: docs/ops-artifacts.md, logs/pipeline_runs.jsonl.
"""
from __future__ import annotations

from golive.model import CheckContext, CheckResult, Requirement, Status

from .observation import observe
from .opslog import (PATH_PARAM, ArtifactError, Record, guarded, input_path, iso, number,
                     percentile, read_jsonl, seconds)

RUNS_DEFAULT = "logs/pipeline_runs.jsonl"
RUN_FIELDS = ("run_id", "started", "status")


def load_runs(ctx: CheckContext) -> list[Record]:
    path = input_path(ctx, "runs", RUNS_DEFAULT)
    runs = read_jsonl(path, required=RUN_FIELDS, ts_fields=("started", "finished"))
    ctx.record_artifact(path)
    since_days = ctx.params.get("window_days")
    if since_days:
        cutoff = ctx.clock().timestamp() - float(since_days) * 86400
        runs = [r for r in runs if r["_started"] >= cutoff]
    for r in runs:
        if r["status"] not in ("ok", "error", "running"):
            raise ArtifactError(r.path, r.line, f"status must be ok, error or running, got {r['status']!r}")
    return runs


def run_duration(run: Record) -> float | None:
    """Seconds from start to finish; ``duration_s`` wins when both are logged because the
    orchestrator measures it with a monotonic clock."""
    if run.get("duration_s") is not None:
        value = number(run, "duration_s")
        if value < 0:
            raise ArtifactError(run.path, run.line, "duration_s is negative")
        return value
    if run.get("_finished") is None:
        return None
    value = run["_finished"] - run["_started"]
    if value < 0:
        raise ArtifactError(run.path, run.line, "finished is before started")
    return value


@guarded
def pipeline_duration(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    runs = load_runs(ctx)
    include_failed = bool(ctx.params.get("include_failed", False))
    timed = []
    for run in runs:
        if run["status"] == "running" or (run["status"] == "error" and not include_failed):
            continue
        d = run_duration(run)
        if d is not None:
            timed.append((d, run))
    if not timed:
        return CheckResult(status=Status.MISSING,
                           message=f"{requirement.id}: no completed pipeline run with a duration in the log")
    durations = [d for d, _ in timed]
    slowest = sorted(timed, key=lambda x: -x[0])[:5]
    return observe(CheckResult(
        metrics={"duration_p95": seconds(percentile(durations, 95)),
                 "duration_p50": seconds(percentile(durations, 50)),
                 "duration_max": seconds(max(durations)),
                 "runs": len(durations)},
        message=f"{len(durations)} completed runs, p95 {percentile(durations, 95):.1f} s",
        details={"method": "nearest-rank percentiles over completed runs"
                           + (" (failed runs included)" if include_failed else " (failed runs excluded)"),
                 "first_run": iso(min(r["_started"] for _, r in timed)),
                 "last_run": iso(max(r["_started"] for _, r in timed)),
                 "slowest": [{"run_id": r["run_id"], "duration_s": round(d, 3), "at": r.where} for d, r in slowest]},
    ), "completed pipeline runs", (r["_started"] for _, r in timed))



SCHEMA = {
    "type": "object",
    "properties": {"runs": PATH_PARAM, "window_days": {"type": "number", "exclusiveMinimum": 0},
                   "include_failed": {"type": "boolean"}},
    "additionalProperties": False,
}
