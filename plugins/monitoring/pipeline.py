"""Pipeline orchestration timing, from the pipeline run log.

Plan lines 3-15 (Core Trading Pipeline Validation): "Pipeline orchestration timing (< 2
minutes)" (PRE-PIPE-04).

``pipeline_duration`` reports the nearest-rank p50/p95/max wall time of completed runs in
``logs/pipeline_runs.jsonl`` (failed runs end early and are excluded unless
``include_failed``); the engine compares ``duration_p95`` with the plan's 2 minutes.
``load_runs`` (streamed) is shared with the error-propagation check.
Record contract: docs/ops-artifacts.md, logs/pipeline_runs.jsonl.
"""
from __future__ import annotations

from array import array
from typing import Iterator

import numpy as np

from golive.model import CheckContext, CheckResult, Requirement, Status

from .latency import nearest_rank
from .observation import observe
from .opslog import PATH_PARAM, ArtifactError, Record, guarded, input_path, iso, iter_jsonl, number, seconds

RUNS_DEFAULT = "logs/pipeline_runs.jsonl"
RUN_FIELDS = ("run_id", "started", "status")


def load_runs(ctx: CheckContext) -> Iterator[Record]:
    """The runs of the log one at a time (streamed), inside ``window_days`` when set, each with
    a valid status."""
    path = input_path(ctx, "runs", RUNS_DEFAULT)
    runs = iter_jsonl(path, required=RUN_FIELDS, ts_fields=("started", "finished"))
    ctx.record_artifact(path)
    since_days = ctx.params.get("window_days")
    cutoff = ctx.clock().timestamp() - float(since_days) * 86400 if since_days else None
    return _valid_runs(runs, cutoff)


def _valid_runs(runs: Iterator[Record], cutoff: float | None) -> Iterator[Record]:
    for r in runs:
        if cutoff is not None and r["_started"] < cutoff:
            continue
        if r["status"] not in ("ok", "error", "running"):
            raise ArtifactError(r.path, r.line, f"status must be ok, error or running, got {r['status']!r}")
        yield r


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
    include_failed = bool(ctx.params.get("include_failed", False))
    durations, started = array("d"), array("d")
    slowest: list[tuple[float, int, str, str]] = []  # the 5 longest: (-duration, order, run_id, where)
    for run in load_runs(ctx):
        if run["status"] == "running" or (run["status"] == "error" and not include_failed):
            continue
        d = run_duration(run)
        if d is not None:
            slowest.append((-d, len(durations), run["run_id"], run.where))
            if len(slowest) > 500:  # keep the 5 longest so far (ties: the earliest), memory stays flat
                slowest = sorted(slowest)[:5]
            durations.append(d)
            started.append(run["_started"])
    if not durations:
        return CheckResult(status=Status.MISSING,
                           message=f"{requirement.id}: no completed pipeline run with a duration in the log")
    ordered = np.sort(np.frombuffer(durations, dtype=np.float64))
    top = sorted(slowest)[:5]
    return observe(CheckResult(
        metrics={"duration_p95": seconds(nearest_rank(ordered, 95)),
                 "duration_p50": seconds(nearest_rank(ordered, 50)),
                 "duration_max": seconds(float(ordered[-1])),
                 "runs": len(durations)},
        message=f"{len(durations)} completed runs, p95 {nearest_rank(ordered, 95):.1f} s",
        details={"method": "nearest-rank percentiles over completed runs"
                           + (" (failed runs included)" if include_failed else " (failed runs excluded)"),
                 "first_run": iso(min(started)),
                 "last_run": iso(max(started)),
                 "slowest": [{"run_id": run_id, "duration_s": round(-neg, 3), "at": where}
                             for neg, _, run_id, where in top]},
    ), "completed pipeline runs", [min(started), max(started)], events=len(durations))


SCHEMA = {
    "type": "object",
    "properties": {"runs": PATH_PARAM, "window_days": {"type": "number", "exclusiveMinimum": 0},
                   "include_failed": {"type": "boolean"}},
    "additionalProperties": False,
}
