"""The pipeline's main entry point exists, parses, has a ``__main__`` guard, and has run.

Plan lines 3-15 (Core Trading Pipeline Validation): "Main entry point testing
(run_pipeline.py)" (PRE-PIPE-01).

``entry_point`` parses the entry script (``run_pipeline.py`` by default) without running it
-- golive never executes the code it audits -- and checks that it is valid Python with a
``__main__`` guard, then reports how its logged runs ended (``logs/pipeline_runs.jsonl``
records whose ``entry_point`` names the script, or all runs when none do). ``parse_script``
is shared with the command-line check (cli_arguments.py).
"""
from __future__ import annotations

import ast
from pathlib import Path

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status

from .observation import observe
from .opslog import PATH_PARAM, ArtifactError, guarded, input_path, iter_jsonl


def parse_script(ctx: CheckContext, requirement: Requirement) -> tuple[Path, ast.Module] | CheckResult:
    path = input_path(ctx, "script", "run_pipeline.py")
    if not path.is_file():
        return CheckResult(status=Status.MISSING, message=f"{requirement.id}: entry point {path} not found")
    ctx.record_artifact(path)
    try:
        return path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as exc:
        raise ArtifactError(path, exc.lineno, f"not valid Python: {exc.msg}") from None


def has_main_guard(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Compare):
            names = {getattr(n, "id", None) for n in ast.walk(node.test)} | \
                    {getattr(n, "value", None) for n in ast.walk(node.test)}
            if "__name__" in names and "__main__" in names:
                return True
    return False


@guarded
def entry_point(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    parsed = parse_script(ctx, requirement)
    if isinstance(parsed, CheckResult):
        return parsed
    path, tree = parsed
    metrics = {"main_guard": int(has_main_guard(tree))}
    runs_path = input_path(ctx, "runs", "logs/pipeline_runs.jsonl")
    details = {"script": path.name}
    finished = []
    if runs_path.is_file():
        # streamed: per group (runs naming this script, runs naming none) the finished runs' start and status
        named, unnamed, any_named = [], [], False
        for r in iter_jsonl(runs_path, required=("run_id", "started", "status"), ts_fields=("started",)):
            ours = Path(str(r.get("entry_point", ""))).name == path.name
            any_named |= ours
            if (ours or not r.get("entry_point")) and r["status"] in ("ok", "error"):
                (named if ours else unnamed).append({"_started": r["_started"], "status": r["status"]})
        ctx.record_artifact(runs_path)
        finished = named if any_named else unnamed
        metrics["entry_point_runs"] = len(finished)
        if finished:
            metrics["entry_point_success_ratio"] = Quantity(
                round(sum(r["status"] == "ok" for r in finished) / len(finished), 6), "ratio")
    else:
        metrics["entry_point_runs"] = 0
        details["runs"] = f"{runs_path.name} not found: no run history for the entry point"
    # a script that parses proves nothing about running it: the logged runs are the evidence of a
    # pass; a missing __main__ guard is a defect seen in the script itself
    result = CheckResult(metrics=metrics, details=details,
                         status=Status.FAIL if not metrics["main_guard"] else None,
                         message=f"{path.name} parses" + ("" if metrics["main_guard"] else " but has no __main__ guard")
                                 + (f"; {metrics.get('entry_point_runs', 0)} logged runs" if runs_path.is_file() else ""))
    if not metrics["main_guard"]:
        return observe(result, "entry-point scripts", (), events=1)
    return observe(result, "finished runs of the entry point", (r["_started"] for r in finished))



SCHEMA = {
    "type": "object",
    "properties": {"script": PATH_PARAM, "runs": PATH_PARAM, "tests": PATH_PARAM},
    "additionalProperties": False,
}
