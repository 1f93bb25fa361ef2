"""Business continuity: a maintained continuity plan and an exercised one.

Plan lines 137-163: "Business continuity" (RISK-14).

The plan document (``plan_doc`` param, else ``continuity_plan`` in the target's ``golive.toml``
``[settings]``, else the one ``docs/**/*continuity*.md`` found; none or several found:
``missing``, "configure continuity_plan") must exist and carry the
sections a continuity plan needs (``sections``: headings matched case-insensitively; by
default contacts, escalation, recovery and communication). Its age is taken from the last
git commit touching it (file modification time when the target is not a git repository,
stated in the details). The last ``bcp`` exercise comes from ``logs/dr_drills.jsonl``.
"""
from __future__ import annotations

import re

from golive.model import CheckContext, CheckResult, Quantity, Requirement, Status

from . import gitrepo
from .observation import observe
from .opslog import PATH_PARAM, age_seconds, guarded, input_path, iso, iter_jsonl

DEFAULT_SECTIONS = ["contacts", "escalation", "recovery", "communication"]
HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")


def doc_time(ctx: CheckContext, path) -> tuple[float, str]:
    rel = str(path.resolve().relative_to(ctx.target.root.resolve()))
    if gitrepo.is_repo(ctx.target.root):
        try:
            when = gitrepo.last_change(ctx.target.root, rel)
        except gitrepo.GitError:
            when = None
        if when is not None:
            return when, "last git commit"
    return path.stat().st_mtime, "file modification time (not committed to git)"


def plan_document(ctx: CheckContext):
    """(path, None) of the continuity plan, or (None, what to configure) when it cannot be found."""
    if ctx.params.get("plan_doc"):
        return input_path(ctx, "plan_doc", ""), None
    if ctx.settings.get("continuity_plan"):
        return ctx.target.root / str(ctx.settings["continuity_plan"]), None
    found = sorted(p for p in ctx.target.root.glob("docs/**/*continuity*.md") if p.is_file())
    if len(found) == 1:
        return found[0], None
    seen = (f"found {', '.join(str(p.relative_to(ctx.target.root)) for p in found)}" if found
            else "no docs/**/*continuity*.md found")
    return None, f"configure continuity_plan (golive.toml [settings], the continuity plan document); {seen}"


@guarded
def business_continuity(requirement: Requirement, ctx: CheckContext) -> CheckResult:
    path, problem = plan_document(ctx)
    if problem:
        result = CheckResult(status=Status.MISSING, message=f"{requirement.id}: {problem}")
        result.configure = "continuity_plan in golive.toml [settings]"
        return result
    if not path.is_file():
        return CheckResult(status=Status.MISSING, message=f"{requirement.id}: continuity plan {path} not found")
    ctx.record_artifact(path)
    headings = [m.group(1).lower() for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
                if (m := HEADING.match(line))]
    wanted = [s.lower() for s in ctx.params.get("sections", DEFAULT_SECTIONS)]
    absent = [s for s in wanted if not any(s in h for h in headings)]
    when, source = doc_time(ctx, path)
    metrics = {"bcp_sections_missing": len(absent),
               "bcp_doc_age": Quantity(round(max(age_seconds(ctx, when), 0) / 86400, 3), "d")}
    drills_path = input_path(ctx, "drills", "logs/dr_drills.jsonl")
    exercised = None
    if drills_path.is_file():
        drills = [d for d in iter_jsonl(drills_path, required=("ts", "kind")) if d["kind"] == "bcp"]  # streamed
        ctx.record_artifact(drills_path)
        if drills:
            exercised = max(d["_ts"] for d in drills)
            metrics["bcp_exercise_age"] = Quantity(round(max(age_seconds(ctx, exercised), 0) / 86400, 3), "d")
    result = CheckResult(
        metrics=metrics,
        status=None if exercised else Status.MISSING,
        message=f"continuity plan updated {iso(when)} ({source}); "
                + (f"missing sections: {', '.join(absent)}; " if absent else "")
                + (f"last exercise {iso(exercised)}" if exercised else "no bcp exercise recorded"),
        details={"sections_required": wanted, "sections_missing": absent, "age_source": source},
    )
    return observe(result, "bcp exercises", [exercised] if exercised else ())


SCHEMA = {
    "type": "object",
    "properties": {"plan_doc": PATH_PARAM, "drills": PATH_PARAM,
                   "sections": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
    "additionalProperties": False,
}
