"""Page data for the trends page: coverage and verification over a chosen period, one chart
per series.

A trend never mixes series: runs are grouped by target, plan digest and selection (``--only``),
the rule :mod:`golive.history` applies to a report's trend.
"""
from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from golive.report import charts
from golive.serve.runindex import RunFilters, RunIndex, RunSummary

TREND_RUNS = 1000  # the newest runs with rates a trends page draws (narrow the period for older ones)


@dataclass(frozen=True)
class Series:
    target: str
    plan: str
    digest: str
    selection: tuple[str, ...]
    runs: tuple[RunSummary, ...]  # oldest first, those with rates
    chart: Markup


def trends(index: RunIndex, filters: RunFilters) -> tuple[Series, ...]:
    """One series per (target, plan, digest, selection) over the newest ``TREND_RUNS`` runs that
    match ``filters`` and have rates."""
    groups: dict[tuple, list[RunSummary]] = {}
    for run in reversed(index.newest(TREND_RUNS, filters, with_rates=True)):  # oldest first
        groups.setdefault((run.target, run.plan_id, run.plan_digest, run.selection), []).append(run)
    found = []
    for (target, plan, digest, selection), runs in groups.items():
        points = [(r.started[:16].replace("T", " "), r.coverage_rate, r.verification_rate) for r in runs]
        found.append(Series(target, plan, digest, selection, tuple(runs),
                            charts.trend_line(points, f"{plan} on {target}")))
    return tuple(sorted(found, key=lambda s: s.runs[-1].started, reverse=True))
