"""Page data for the dashboard: filters and pages of the run list, a run with its requirement
table, one requirement in a run with its history, and the comparison of two runs.

Everything here is plain data for the templates; values are escaped by Jinja2 when rendered.
Statuses are the *effective* ones (a waiver in force shows ``waived``), as every report shows them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable, Mapping, Sequence

from golive.report.analysis import Change  # the report's own (id, title, before, after)
from golive.report.inputs import fmt_value
from golive.serve import queries
from golive.serve.signoffs import run_signoffs
from golive.serve.runindex import FAILING, RunFilters, RunIndex, RunSummary, run_document


PAGE_SIZE = 25
RECENT_RUNS = 10  # the window flip-flop detection looks at
HISTORY_ROWS = 50  # the newest results a requirement page lists
UNSTABLE_FLIPS = 2  # pass->fail->pass (or the reverse) within the window marks a requirement unstable
TABLE_FILTERS = ("phase", "section", "category", "priority", "status")
# what the plan says of a requirement, as each result records it: compared between two runs
PLAN_FIELDS = ("title", "priority", "category", "section", "phase", "plan_lines", "references", "check")


# --- runs list ---------------------------------------------------------------------------

@dataclass(frozen=True)
class RunsPage:
    runs: tuple[RunSummary, ...]
    total: int
    page: int
    pages: int
    filters: RunFilters
    plans: tuple[str, ...]
    targets: tuple[str, ...]
    verdicts: tuple[str, ...]


def runs_page(index: RunIndex, filters: RunFilters, page: int) -> RunsPage:
    """One page of the runs matching ``filters`` (a page past the end shows the last one)."""
    page = max(1, page)
    runs, total = index.page(filters, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    if page > pages:
        page = pages
        runs, total = index.page(filters, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    menus = index.choices()
    return RunsPage(runs=tuple(runs), total=total, page=page, pages=pages, filters=filters,
                    plans=menus["plans"], targets=menus["targets"], verdicts=menus["verdicts"])


# --- one run -----------------------------------------------------------------------------

@dataclass(frozen=True)
class RunPage:
    run: RunSummary
    results: tuple[dict[str, Any], ...]  # after the table filters
    total: int
    filters: Mapping[str, str]
    options: Mapping[str, tuple[str, ...]]
    model: Any  # the report's render model of the saved results document, or None
    model_problem: str
    waivers: tuple[dict[str, Any], ...]
    attestations: tuple[dict[str, Any], ...]
    checkpoint: Mapping[str, Any] | None
    disagreements: tuple[str, ...]  # requirements whose document status differs from the ledger's
    signoffs: Mapping[str, Any] | None = None  # golive.serve.signoffs.run_signoffs


def run_page(store, run: RunSummary, params: Mapping[str, str]) -> RunPage:
    results = queries.run_results(store, run.id)
    filters = {k: str(params.get(k) or "").strip()[:100] for k in (*TABLE_FILTERS, "q")}
    options = {k: tuple(sorted({str(_field(r, k)) for r in results})) for k in TABLE_FILTERS}
    kept = [r for r in results if _matches(r, filters)]
    doc = run_document(store.path, run)
    model, problem = _render_model(doc)
    disagree = ()
    if doc is not None:
        recorded = {r.get("requirement_id"): r.get("recorded_status", r.get("status"))
                    for r in doc.get("results") or ()}
        disagree = tuple(r["requirement_id"] for r in results if recorded.get(r["requirement_id"]) != r.get("status"))
    ids = {r["requirement_id"] for r in results}
    attests = [a for a in queries.authored_entries(store, "attestation")
               if a.get("seq", 0) < (run.checkpoint_seq or 1 << 62) and a.get("requirement_id") in ids]
    return RunPage(run=run, results=tuple(kept), total=len(results), filters=filters, options=options,
                   model=model, model_problem=problem,
                   waivers=tuple({"requirement_id": r["requirement_id"], **r["waiver"]}
                                 for r in results if r["waiver"]),
                   attestations=tuple(attests),
                   checkpoint=queries.checkpoint(store, run.checkpoint_seq), disagreements=disagree,
                   signoffs=run_signoffs(store, run.id, doc))


def _field(result: Mapping[str, Any], name: str) -> Any:
    return result.get("effective") if name == "status" else result.get(name, "")


def _matches(result: Mapping[str, Any], filters: Mapping[str, str]) -> bool:
    for name in TABLE_FILTERS:
        if filters[name] and str(_field(result, name)) != filters[name]:
            return False
    q = filters["q"].lower()
    return not q or q in f"{result.get('requirement_id', '')} {result.get('title', '')}".lower()


def _render_model(doc: Mapping[str, Any] | None) -> tuple[Any, str]:
    """The report's render model of the run's saved document (verdict, figures, charts)."""
    if doc is None:
        return None, "no results document was saved with this run (<store>/runs), so no readiness verdict is shown"
    from golive.report.inputs import ReportInputError
    from golive.report.model import build_render_model

    waivers = [{k: w.get(k) for k in ("requirement_id", "approver", "co_approvers", "reason", "expires", "created")}
               for w in doc.get("waivers") or ()]
    try:
        digest = str(((doc.get("run") or {}).get("plan") or {}).get("digest") or "")
        return build_render_model(doc, packaged_plan(digest),
                                  waivers=waivers), ""
    except (ReportInputError, ValueError, KeyError, TypeError) as exc:
        return None, f"the saved results document cannot be rendered: {exc}"


@lru_cache(maxsize=8)
def packaged_plan(digest: str):
    """The packaged plan when it is the run's (same digest), else None: another version's
    titles and statements would describe another plan."""
    from golive.plan import PlanError, load

    try:
        plan = load(None)
    except PlanError:
        return None
    return plan if digest and plan.digest == digest else None


# --- one requirement in a run --------------------------------------------------------------

@dataclass(frozen=True)
class HistoryRow:
    run_id: str
    time: str
    status: str
    metrics: str
    current: bool


@dataclass(frozen=True)
class RequirementPage:
    run: RunSummary
    result: Mapping[str, Any]
    statement: str
    thresholds: tuple[dict[str, str], ...]
    metrics: tuple[tuple[str, str], ...]
    tests: tuple[dict[str, str], ...]
    artifacts: tuple[dict[str, Any], ...]
    waivers: tuple[dict[str, Any], ...]
    attestations: tuple[dict[str, Any], ...]
    history: tuple[HistoryRow, ...]
    unstable: bool
    flips: int


def requirement_page(store, run: RunSummary, requirement_id: str) -> RequirementPage | None:
    result = next((r for r in queries.run_results(store, run.id) if r.get("requirement_id") == requirement_id), None)
    if result is None:
        return None
    plan = packaged_plan(run.plan_digest)
    req = next((r for r in plan.requirements if r.id == requirement_id), None) if plan else None
    statement = req.statement if req else ""
    doc = run_document(store.path, run) or {}
    outcomes = {str(t.get("id")): str(t.get("outcome") or "no outcome recorded") for t in doc.get("tests") or ()}
    tests = tuple({"id": str(t), "outcome": outcomes.get(str(t), "no outcome recorded")}
                  for t in result.get("covered_by") or ())
    # the history of this target only: another repository's runs in the same store are not its past
    past = queries.requirement_results(store, requirement_id, run.target, limit=HISTORY_ROWS)
    upto = queries.requirement_results(store, requirement_id, run.target, upto_seq=result["seq"], limit=RECENT_RUNS)
    flips = flip_flops([p["effective"] for p in upto])
    history = tuple(HistoryRow(p["run_id"], str((p.get("environment") or {}).get("time", ""))[:19],
                               p["effective"], _metrics_text(p.get("metrics") or {}), p["seq"] == result["seq"])
                    for p in reversed(past))
    return RequirementPage(
        run=run, result=result, statement=statement,
        thresholds=tuple(_threshold(t) for t in result.get("thresholds") or ()),
        metrics=tuple((k, _metric(v)) for k, v in sorted((result.get("metrics") or {}).items())),
        tests=tests,
        artifacts=tuple(_artifact(a, result.get("blobs") or ()) for a in result.get("artifacts") or ()),
        waivers=tuple(queries.authored_for(store, "waiver", requirement_id)),
        attestations=tuple(queries.authored_for(store, "attestation", requirement_id)),
        history=history, unstable=flips >= UNSTABLE_FLIPS, flips=flips)


def flip_flops(statuses: Sequence[str]) -> int:
    """How often the outcome turned between pass and failing (fail, partial, error) along
    ``statuses``, oldest first; runs with any other status (missing, skipped, waived) neither
    break nor make a turn."""
    judged = ["pass" if s == "pass" else "failing" for s in statuses if s == "pass" or s in FAILING]
    return sum(1 for a, b in zip(judged, judged[1:]) if a != b)


def _metric(value: Any) -> str:
    if isinstance(value, Mapping):
        return fmt_value(value.get("value"), value.get("unit"))
    return fmt_value(value)


def _metrics_text(metrics: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} = {_metric(v)}" for k, v in sorted(metrics.items()))[:160]


def _threshold(t: Mapping[str, Any]) -> dict[str, str]:
    unit = t.get("unit")
    passed = t.get("passed")
    return {"metric": str(t.get("metric", "")), "expected": f"{t.get('op', '')} {fmt_value(t.get('value'), unit)}",
            "observed": "not observed" if t.get("observed") is None else fmt_value(t.get("observed"), unit),
            "unit": str(unit or ""), "verdict": "holds" if passed else "not judged" if passed is None else "fails",
            "loosened": "loosened by tailoring" if t.get("loosened") else ""}


def _artifact(artifact: Mapping[str, Any], blobs: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    stored = next((b for b in blobs
                   if b.get("path") == artifact.get("path") and b.get("sha256") == artifact.get("sha256")), None)
    return {"path": str(artifact.get("path", "")), "role": str(artifact.get("role", "")),
            "sha256": str(artifact.get("sha256", "")),
            "blob": str(stored.get("blob")) if stored and queries.SHA256.fullmatch(str(stored.get("blob"))) else "",
            "size": int(stored.get("size") or 0) if stored else 0, "redacted": bool(stored and stored.get("redacted"))}


# --- comparing two runs ---------------------------------------------------------------------

@dataclass(frozen=True)
class Comparison:
    a: RunSummary
    b: RunSummary
    new_failures: tuple[Change, ...]
    fixed: tuple[Change, ...]
    regressed: tuple[Change, ...]
    other: tuple[Change, ...]
    unchanged: tuple[Change, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]
    plan_changed: bool
    threshold_changes: tuple[dict[str, str], ...] = field(default_factory=tuple)
    plan_changes: tuple[dict[str, str], ...] = field(default_factory=tuple)  # requirement text between digests


def compare(store, a: RunSummary, b: RunSummary) -> Comparison:
    """Run ``a`` (before) against run ``b`` (after), by effective status.

    new failure: failing (fail/partial/error) in b, not failing in a; fixed: pass in b, not
    pass in a; regressed: pass in a, not pass in b and not failing (missing, skipped, waived), or
    partial in a and fail/error in b; unchanged: the same status; other: any other change."""
    before = {r["requirement_id"]: r for r in queries.run_results(store, a.id)}
    after = {r["requirement_id"]: r for r in queries.run_results(store, b.id)}
    groups: dict[str, list[Change]] = {k: [] for k in ("new", "fixed", "regressed", "other", "unchanged")}
    thresholds, plan = [], []
    for rid, r in after.items():
        if rid not in before:
            continue
        old, new = before[rid]["effective"], r["effective"]
        change = Change(rid, str(r.get("title") or rid), old, new)
        groups[_kind(old, new)].append(change)
        t_old, t_new = _limits(before[rid]), _limits(r)
        if t_old != t_new:
            thresholds.append({"requirement_id": rid, "before": t_old or "none", "after": t_new or "none"})
        plan += [{"requirement_id": rid, "field": name, "before": _text(before[rid].get(name)),
                  "after": _text(r.get(name))} for name in PLAN_FIELDS if before[rid].get(name) != r.get(name)]
    return Comparison(a=a, b=b, new_failures=tuple(groups["new"]), fixed=tuple(groups["fixed"]),
                      regressed=tuple(groups["regressed"]), other=tuple(groups["other"]),
                      unchanged=tuple(groups["unchanged"]),
                      added=tuple(sorted(set(after) - set(before))), removed=tuple(sorted(set(before) - set(after))),
                      plan_changed=a.plan_digest != b.plan_digest, threshold_changes=tuple(thresholds),
                      plan_changes=tuple(plan))


def _kind(old: str, new: str) -> str:
    if old == new:
        return "unchanged"
    if new in FAILING and old not in FAILING:
        return "new"
    if new == "pass":
        return "fixed"
    if (old == "pass" and new not in FAILING) or (old == "partial" and new in ("fail", "error")):
        return "regressed"
    return "other"


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value) or "none"
    if isinstance(value, Mapping):
        return " ".join(str(v) for v in value.values() if v)
    return "none" if value in (None, "") else str(value)


def _limits(result: Mapping[str, Any]) -> str:
    return "; ".join(f"{t.get('metric')} {t.get('op')} {fmt_value(t.get('value'), t.get('unit'))}"
                     for t in result.get("thresholds") or ())
