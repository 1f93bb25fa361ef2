"""Page data for a run's framework coverage (issue 18.4): per framework catalog (RTS 6,
15c3-5, FINRA 15-09, ...) how many items the run meets, and per item its conclusion and the
plan requirements it rests on, each linking to the requirement-in-run page.

The conclusions are :func:`golive.plan.framework_coverage.framework_coverage`'s (the rule
``golive frameworks --results`` and ``golive assess`` apply), computed over the run's results
as the ledger records them: the effective status (a waiver in force shows ``waived``) and the
waiver itself. The catalogs are those beside the packaged plan, read again when a catalog file
changes (one cached copy, keyed by the files' names, sizes and times).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from golive.plan.catalog import CatalogError, Framework, catalog_files, catalog_folder, load_catalogs
from golive.plan.framework_coverage import MET, framework_coverage
from golive.serve import queries
from golive.serve.runindex import RunSummary

CSS = {"met": "met", "partly met": "partly", "not met": "not-met", "no evidence": "none",
       "satisfied": "met", "failing": "not-met"}  # item conclusions, then requirement states


@dataclass(frozen=True)
class FrameworksPage:
    run: RunSummary
    frameworks: tuple[dict[str, Any], ...]  # framework_coverage's, each with ``percent_met``
    shown: tuple[dict[str, Any], ...]  # those whose items are listed (one, or all)
    selected: str
    problem: str  # why no catalog could be read, else ""
    plan_differs: bool  # the run's plan is not the packaged plan the catalogs map


def frameworks_page(store, run: RunSummary, selected: str) -> FrameworksPage:
    try:
        catalogs = _catalogs(catalog_folder(None))
    except CatalogError as exc:
        found = "; ".join(str(p) for p in exc.problems[:5])
        return FrameworksPage(run, (), (), selected, f"the framework catalogs cannot be read ({found}); "
                              "run `golive frameworks` for the full list", False)
    results = queries.run_results(store, run.id)
    titles = {str(r.get("requirement_id")): str(r.get("title") or "") for r in results}
    document = {"run": {"id": run.id, "started": run.started, "finished": run.finished},
                "results": [{"requirement_id": str(r.get("requirement_id")), "status": r["effective"],
                             "recorded_status": r.get("status"), "waiver": r["waiver"]} for r in results]}
    frameworks = []
    for fw in framework_coverage(catalogs, document):
        for item in fw["entries"]:
            for req in item["requirements"]:
                req["title"], req["in_run"] = titles.get(req["id"], ""), req["id"] in titles
        fw["percent_met"] = round(100 * fw["conclusions"][MET] / fw["items"]) if fw["items"] else 0
        frameworks.append(fw)
    shown = tuple(fw for fw in frameworks if not selected or fw["id"] == selected)
    return FrameworksPage(run, tuple(frameworks), shown, selected, "",
                          run.plan_digest != packaged_digest())


@lru_cache(maxsize=1)
def packaged_digest() -> str:
    from golive.plan import PlanError, load

    try:
        return load(None).digest
    except PlanError:
        return ""


def _catalogs(folder: Path) -> tuple[Framework, ...]:
    stamp = tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in catalog_files(folder))
    return _load(str(folder), stamp)


@lru_cache(maxsize=1)
def _load(folder: str, stamp: tuple) -> tuple[Framework, ...]:  # noqa: ARG001 -- the stamp keys the cache
    return tuple(load_catalogs(folder))


def css(conclusion: str) -> str:
    """The CSS class of a conclusion (one of a fixed set)."""
    return CSS.get(conclusion, "none")
