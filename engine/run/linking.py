"""The run's traceability: the target's tests and result files, and their links to requirements.

Collects test records from every ``golive_test_sources`` plugin (one crashing plugin costs only
its own records), links them to the plan's requirements by markers, ``covered_by`` globs and the
target's reviewed map file, says why each confirmed link holds, and ranks suggested links
(advisory, never counted). Used by :mod:`golive.run.runner`.
"""
from __future__ import annotations

import logging
from pathlib import Path

from golive.model import Plan, Target, TestRecord
from golive.pluginmanager import PluginHost

log = logging.getLogger("golive.run.runner")


def collect_tests(host: PluginHost, target: Target) -> tuple[list[TestRecord], list[str]]:
    """Ask every ``golive_test_sources`` implementation, one at a time so that one crashing
    plugin costs only its own records. Records are merged by id (first plugin wins)."""
    records: dict[str, TestRecord] = {}
    problems: list[str] = []
    for impl in host.pm.hook.golive_test_sources.get_hookimpls():
        name = host.pm.get_name(impl.plugin)
        try:
            found = impl.function(target=target) or []
        except Exception as exc:
            problems.append(f"plugin {name}: golive_test_sources failed ({type(exc).__name__}: {exc}); its tests are not counted")
            continue
        for rec in found:
            rec.source = rec.source or name
            records.setdefault(rec.id, rec)
    return sorted(records.values(), key=lambda r: r.id), problems


def link_tests(plan: Plan, records: list[TestRecord],
               target: Target | None = None) -> tuple[dict[str, list[TestRecord]], list[TestRecord]]:
    """Link records to requirements by markers, globs and -- with ``target`` -- the target's
    reviewed map file; the map file's problems are logged as warnings (the run's warnings)."""
    from golive.plugins.traceability import link, uncovered
    from golive.plugins.traceability.mapfile import load_for_target

    link_map = load_for_target(target) if target is not None else None
    if link_map is not None:
        for problem in link_map.problems + link_map.review((r.id for r in plan.requirements), records):
            log.warning("%s", problem)
    links = link(plan.requirements, records, link_map)
    return links, uncovered(records, links)


def link_reasons(plan: Plan, target: Target, links: dict[str, list[TestRecord]]) -> dict[str, dict[str, str]]:
    """Why each confirmed link holds (marker, reviewed map file, covered_by glob); ``"linked"``
    when the reason cannot be told. Never fails the run."""
    try:
        from golive.plugins.traceability.linking import coverage_reason
        from golive.plugins.traceability.mapfile import load_for_target

        link_map = load_for_target(target)
    except Exception:  # noqa: BLE001 - the reasons are explanatory; link_tests reported map problems
        coverage_reason, link_map = None, None
    by_id = {r.id: r for r in plan.requirements}
    via: dict[str, dict[str, str]] = {}
    for rid, covering in links.items():
        reasons = via.setdefault(rid, {})
        for rec in covering:
            reason = None
            if coverage_reason is not None and rid in by_id:
                try:
                    reason = coverage_reason(by_id[rid], rec, link_map)
                except Exception:  # noqa: BLE001
                    reason = None
            reasons[rec.id] = reason or "linked"
    return via


def suggest(plan: Plan, records: list[TestRecord], target: Target,
            links: dict[str, list[TestRecord]]) -> tuple[list, str | None]:
    """Suggested links for the tests no confirmed link covers, and a problem to report. A
    failure here costs only the suggestions: it becomes a run warning, never a crashed run."""
    try:
        from golive.plugins.traceability.suggest import suggest_links

        return list(suggest_links(plan.requirements, records, Path(target.root), confirmed=links, top_k=3)), None
    except Exception as exc:  # noqa: BLE001 - suggestions are advisory
        return [], f"link suggestions failed ({type(exc).__name__}: {exc}); no suggested links in this run"
