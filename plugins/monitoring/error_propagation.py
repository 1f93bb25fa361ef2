"""Error propagation: a failed pipeline stage reaches the run's status, exit code and error.

Plan lines 3-15 (Core Trading Pipeline Validation): "Error propagation mechanisms" (PRE-PIPE-05).

Every run of ``logs/pipeline_runs.jsonl`` in which a stage failed (or which itself failed)
is examined; the orchestrator swallowed the failure when the run still says ``ok``, the exit
code is 0 or absent, or the run carries no ``error`` naming the failing stage. The check
reports how many failures were observed (propagation must have been exercised) and how many
were swallowed, with the reasons per run.
"""
from __future__ import annotations

from golive.model import CheckContext, CheckResult, Requirement, Status

from .observation import observe
from .opslog import ArtifactError, Record, guarded
from .pipeline import load_runs


def swallowed_reasons(run: Record) -> list[str]:
    """Why a run with a failed stage did not propagate the failure (empty: it did)."""
    reasons = []
    if run["status"] != "error":
        reasons.append(f"run status is {run['status']!r}")
    exit_code = run.get("exit_code")
    if exit_code is None or exit_code == 0:
        reasons.append(f"exit code {exit_code!r}")
    error = run.get("error")
    failed = [s.get("name") for s in run.get("stages") or [] if s.get("status") == "error"]
    if not isinstance(error, dict) or not error.get("message"):
        reasons.append("no error message recorded on the run")
    elif failed and error.get("stage") not in failed:
        reasons.append(f"run error names stage {error.get('stage')!r}, failed stage was {failed[0]!r}")
    return reasons


@guarded
def error_propagation(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    runs, failures, swallowed = 0, [], []  # streamed: the failures' start times are kept
    for run in load_runs(ctx):
        runs += 1
        stages = run.get("stages")
        if stages is not None and not isinstance(stages, list):
            raise ArtifactError(run.path, run.line, "stages must be a list of {name, status}")
        stage_failed = any(isinstance(s, dict) and s.get("status") == "error" for s in stages or [])
        if not stage_failed and run["status"] != "error":
            continue
        failures.append(run["_started"])
        reasons = swallowed_reasons(run)
        if reasons:
            swallowed.append({"run_id": run["run_id"], "at": run.where, "why": reasons})
    if not runs:
        return CheckResult(status=Status.MISSING, message=f"{requirement.id}: the pipeline run log is empty")
    metrics = {"runs": runs, "failures_observed": len(failures), "errors_swallowed": len(swallowed)}
    if failures:
        metrics["errors_propagated_ratio"] = round(1 - len(swallowed) / len(failures), 6)
    note = ("no stage failed in the log, so propagation was not exercised" if not failures
            else f"{len(failures) - len(swallowed)} of {len(failures)} failures propagated")
    # what propagation is judged on: the failures; none in the log -> not exercised (missing)
    return observe(CheckResult(metrics=metrics, message=note,
                               details={"rule": "a failed stage must set run status 'error', a non-zero exit code "
                                                "and an error naming the stage",
                                        "swallowed": swallowed[:50]}),
                   "pipeline failures", failures)
