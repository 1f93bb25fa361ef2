"""The render model: one view of a run that every report format renders.

``build_render_model(document, plan, previous=None, waivers=(), history=())`` turns the
results document (DESIGN.md "The results document", ``schema_version "1"``), the plan, the
previous run's document, the waivers and a short run history into plain frozen dataclasses.
PDF, HTML, Markdown, JSON, JUnit and OSCAL all read this one object, so a count printed in one
format is the same count in every other. What the reports lead with (verdict, figures, scope,
signature, provenance) is ``standing.py``; the narrative (bands, weaknesses, recommendations,
timeline) is ``narrative.py`` and judges verification, not coverage alone.

The plan is optional: without it, titles come from the document (results may carry a
``title``; coverage items always carry one) and requirement ids stand in for missing titles.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from golive.report.signoff_view import signoff_view
from golive.report import analysis, charts, narrative, standing
from golive.report.evidence import AttestationView, Evidence, LoosenedView, attestations, evidence, loosened
from golive.report.inputs import STATUS_ORDER, ReportInputError, Titles, check_document, check_summary, fmt_value
from golive.report.waivers import WaiverView, apply_waivers

NOT_VERIFIED = ("fail", "partial", "error")
FAILED_OUTCOMES = ("failed", "error")


@dataclass(frozen=True)
class ThresholdRow:
    metric: str
    expected: str  # e.g. "< 120 s"
    observed: str
    passed: bool | None
    loosened: bool = False  # relaxed by the run's tailoring: every format marks it


@dataclass(frozen=True)
class RequirementRow:
    id: str
    title: str
    statement: str
    phase: int
    section: str
    category: str
    category_title: str
    priority: str
    status: str  # after waivers
    recorded_status: str  # as the run recorded it
    reason: str
    implemented: bool
    covered_by: tuple[str, ...]
    covered_files: tuple[str, ...]
    check: str
    thresholds: tuple[ThresholdRow, ...]
    metrics: tuple[tuple[str, str], ...]
    artifacts: tuple[tuple[str, str], ...]
    waiver: WaiverView | None = None
    # confirmed links: test id -> why (marker, map file, glob)
    covered_via: tuple[tuple[str, str], ...] = ()
    # suggested, unconfirmed links (link recovery), best first; never counted as implemented
    suggested: tuple[analysis.SuggestedLink, ...] = ()
    # confirmed covering tests whose own outcome was failed or error (never shown as a tick)
    failing_tests: tuple[str, ...] = ()

    @property
    def suggested_files(self) -> tuple[tuple[str, str], ...]:
        """(path, best band) of the suggested tests, one per file, best first (at most 3)."""
        files: dict[str, str] = {}
        for s in self.suggested:
            files.setdefault(s.path, s.band)
        return tuple(files.items())[:3]

    @property
    def verified(self) -> bool:
        return self.status == "pass"

    @property
    def mark(self) -> str:
        """The phase-analysis icon: verified, implemented but not verified, or a gap."""
        if not self.implemented:
            return "missing"
        return "pass" if self.verified else "warn"


@dataclass(frozen=True)
class CoveredFile:
    """A test file or result file that covers requirements of a section (a ✅ line)."""

    name: str
    kind: str  # "test" or "result"
    requirement_ids: tuple[str, ...]
    requirement_titles: tuple[str, ...]
    failing_tests: int = 0  # tests of this file, covering these requirements, that failed


@dataclass(frozen=True)
class SectionView:
    id: str
    anchor: str
    title: str
    phase: int
    plan_lines: tuple[int, int] | None
    requirements: tuple[RequirementRow, ...]
    covered_files: tuple[CoveredFile, ...]

    @property
    def missing(self) -> tuple[RequirementRow, ...]:
        return tuple(r for r in self.requirements if not r.implemented)

    @property
    def implemented_count(self) -> int:
        return sum(1 for r in self.requirements if r.implemented)


@dataclass(frozen=True)
class PhaseView:
    number: int
    anchor: str
    title: str
    plan_lines: tuple[int, int] | None
    sections: tuple[SectionView, ...]


@dataclass(frozen=True)
class CoverageRow:
    id: str
    title: str
    requirements: int
    implemented: int
    verified: int
    rate: float
    band: str
    failing: tuple[str, ...] = ()  # ids failing, erroring or partial (by_category only)
    failing_p1: tuple[str, ...] = ()

    @property
    def percent(self) -> int:
        return round(self.rate * 100)


@dataclass(frozen=True)
class KeyMetrics:
    plan_lines: int | None
    phases: int
    requirements: int
    implemented: int
    verified: int
    waived: int
    test_files: int
    result_files: int
    compliance_rate: float
    verification_rate: float
    by_status: tuple[tuple[str, int], ...]

    @property
    def compliance_percent(self) -> int:
        return round(self.compliance_rate * 100)

    @property
    def verification_percent(self) -> int:
        return round(self.verification_rate * 100)


@dataclass(frozen=True)
class RenderModel:
    title: str
    plan_title: str
    generated: str  # the run's finish time: reports of the same run are identical
    metrics: KeyMetrics
    phases: tuple[PhaseView, ...]
    requirements: tuple[RequirementRow, ...]
    by_phase: tuple[CoverageRow, ...]
    by_section: tuple[CoverageRow, ...]
    by_category: tuple[CoverageRow, ...]
    by_priority: tuple[CoverageRow, ...]
    bands: Mapping[str, float]
    verification: tuple[RequirementRow, ...]
    waivers: tuple[WaiverView, ...]
    attestations: tuple[AttestationView, ...]
    changes: analysis.Changes | None
    additional_tests: tuple[str, ...]
    recommendations: tuple[narrative.Recommendation, ...]
    assessment: narrative.Assessment
    timeline: tuple[narrative.TimelineSlot, ...]
    history: tuple[analysis.HistoryPoint, ...]
    charts: Mapping[str, str]
    evidence: Evidence
    document: Mapping[str, Any] = field(repr=False)  # the effective document (waivers applied)
    # additional tests by path with counts (tests covering nothing / tests in the file)
    additional_test_files: tuple[analysis.AdditionalFile, ...] = ()
    # requirements implemented if the counted suggestions were confirmed; None without suggestions
    if_confirmed: analysis.IfConfirmed | None = None
    verdict: standing.VerdictView | None = None
    figures: standing.Figures | None = None
    scope: standing.Scope | None = None
    signature: standing.Signature | None = None
    provenance: standing.Provenance | None = None
    loosened: tuple[LoosenedView, ...] = ()
    open_work: Mapping[str, int] = field(default_factory=dict)  # fix / implement / evidence counts
    signoff: Any = None  # golive.report.signoff_view.SignoffView: the sign-off page
    proof: Any = None  # golive.report.proof.ProofView: the run's proof bundle the report carries

    @property
    def has_suggestions(self) -> bool:
        return any(r.suggested for r in self.requirements)

    def band_rows(self, band: str) -> tuple[CoverageRow, ...]:
        return tuple(r for r in self.by_category if r.band == band)

    def category_gaps(self, category: str) -> tuple[RequirementRow, ...]:
        """The requirements of ``category`` that are not implemented, in plan order."""
        return tuple(r for r in self.requirements if r.category == category and not r.implemented)

    def category_open(self, category: str) -> tuple[RequirementRow, ...]:
        """The requirements of ``category`` still open (failing, partial, uncovered, no evidence)."""
        return tuple(r for r in self.requirements
                     if r.category == category and narrative.work_kind(r) is not None)


def build_render_model(document: Mapping[str, Any], plan: Any = None,
                       previous: Mapping[str, Any] | None = None,
                       waivers: Iterable[Mapping[str, Any]] = (),
                       history: Iterable[Mapping[str, Any]] = ()) -> RenderModel:
    """Build the one model all formats render. ``history`` is a list of earlier results
    documents (or their ``run`` + ``summary`` parts), oldest first, for the trend chart."""
    check_document(document, "results document")
    if previous is not None:
        check_document(previous, "previous results document")
    doc = copy.deepcopy(dict(document))
    run = doc["run"]
    waiver_views = apply_waivers(doc, list(waivers), as_of=run.get("finished") or run.get("started"))
    _refresh_verdict(doc)

    titles = Titles(plan, doc)
    test_files, result_files = analysis.split_test_sources(doc.get("tests", []))
    outcomes = _test_outcomes(doc)
    rows = tuple(_requirement_row(r, titles, waiver_views, outcomes) for r in doc["results"])
    phases = _phases(rows, titles, doc)
    coverage = doc["coverage"]
    by_category = narrative.category_bands(_coverage_rows(coverage.get("by_category", [])), rows, titles.bands)
    by_status = _count_statuses(rows)
    summary = doc["summary"]
    doc["summary"] = {**summary, "by_status": dict(by_status)}
    # tailored-out requirements are listed (as skipped) but counted in no figure
    tailored_out = {r["requirement_id"] for r in doc["results"] if r.get("not_applicable")}
    applicable = [r for r in rows if r.id not in tailored_out]
    metrics = KeyMetrics(
        plan_lines=titles.source_lines,
        phases=len(phases),
        requirements=len(applicable),
        implemented=sum(r.implemented for r in applicable),
        verified=sum(r.verified for r in applicable),
        waived=dict(by_status).get("waived", 0),
        test_files=int(summary.get("test_files", len(test_files))),
        result_files=int(summary.get("result_files", len(result_files))),
        # The engine's rates are authoritative; without them, counted over the applicable ones.
        compliance_rate=float(summary.get("compliance_rate", _rate(sum(r.implemented for r in applicable),
                                                                   len(applicable)))),
        verification_rate=float(summary.get("verification_rate", _rate(sum(r.verified for r in applicable),
                                                                       len(applicable)))),
        by_status=by_status)
    check_summary(summary, metrics)
    figures = standing.figures_of(summary, [r.status for r in rows], metrics.implemented)
    _check_figures(figures, by_status)
    verdict = standing.verdict_of(summary)

    bands = titles.bands
    history_points = analysis.history_points(list(history), doc)
    model_charts = {
        "phase": charts.coverage_bars([(p.title, p.rate, p.verified / p.requirements if p.requirements else 0.0)
                                       for p in _coverage_rows(coverage.get("by_phase", []))],
                                      "Coverage by phase", bands),
        "category": charts.coverage_bars([(c.title, c.rate, c.verified / c.requirements if c.requirements else 0.0)
                                          for c in by_category], "Coverage by category", bands),
        "trend": charts.trend_line([(h.label, h.coverage_rate, h.verification_rate)
                                    for h in history_points], "Trend over runs"),
    }
    additional = analysis.additional_files(doc)
    return RenderModel(
        title=f"{titles.plan_title} — Gap Analysis Report",
        plan_title=titles.plan_title,
        generated=run.get("finished") or run.get("started") or "",
        metrics=metrics,
        phases=phases,
        requirements=rows,
        by_phase=tuple(_coverage_rows(coverage.get("by_phase", []))),
        by_section=tuple(_coverage_rows(coverage.get("by_section", []))),
        by_category=by_category,
        by_priority=tuple(_coverage_rows(coverage.get("by_priority", []))),
        bands=bands,
        verification=tuple(r for r in rows if r.thresholds or r.status in NOT_VERIFIED),
        waivers=waiver_views,
        attestations=attestations(doc),
        changes=(analysis.changes(doc, previous, {r.id: r.title for r in rows})
                 if previous is not None else None),
        additional_tests=tuple(f.path for f in additional),
        recommendations=narrative.recommendations(rows, titles.section_titles, titles.priorities),
        assessment=narrative.assessment(by_category, rows, verdict, figures),
        timeline=narrative.timeline(rows, titles.section_titles),
        history=history_points,
        charts=model_charts,
        evidence=evidence(doc),
        document=doc,
        additional_test_files=additional,
        if_confirmed=analysis.if_confirmed(doc),
        verdict=verdict, figures=figures, scope=standing.scope_of(doc, plan),
        signature=standing.signature_of(run), provenance=standing.provenance_of(run),
        loosened=loosened(doc), open_work=narrative.open_work(rows), signoff=signoff_view(doc))


# --- helpers -----------------------------------------------------------------------------

def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _refresh_verdict(doc: dict[str, Any]) -> None:
    """Waivers given to the report change statuses: let the engine recompute its own figures
    and verdict (``readiness.refresh_summary``). A document without a verdict keeps none: the
    report never makes one up."""
    if "verdict" not in doc["summary"]:
        return
    try:
        from golive.run.readiness import refresh_summary
    except ImportError:  # an engine without the readiness module: show the recorded verdict
        return
    refresh_summary(doc)


def _check_figures(figures: standing.Figures, by_status: tuple[tuple[str, int], ...]) -> None:
    # The engine's figures must describe the statuses this report shows, or two parts of one
    # report would disagree (waivers given to `golive report` that the run did not record).
    counts = dict(by_status)
    expected = {"failing": counts.get("fail", 0) + counts.get("error", 0), "partial": counts.get("partial", 0),
                "waived": counts.get("waived", 0)}
    for key, n in expected.items():
        if getattr(figures, key) != n:
            raise ReportInputError(
                f"results document: summary.figures.{key} is {getattr(figures, key)} but the results "
                f"(after waivers) give {n}; record the waivers with the run (`golive waive`) and run again")


def _test_outcomes(doc: Mapping[str, Any]) -> dict[str, str]:
    return {str(t["id"]): str(t.get("outcome") or "") for t in doc.get("tests", []) if "id" in t}


def _threshold_row(t: Mapping[str, Any]) -> ThresholdRow:
    op = t.get("op", "")
    expected = f"{op} {fmt_value(t.get('value'), t.get('unit'))}".strip()
    return ThresholdRow(metric=str(t.get("metric", "")), expected=expected,
                        observed=fmt_value(t.get("observed"), t.get("unit") if t.get("observed") is not None else None),
                        passed=t.get("passed"), loosened=bool(t.get("loosened")))


def _requirement_row(result: Mapping[str, Any], titles: Titles,
                     waivers: tuple[WaiverView, ...], outcomes: Mapping[str, str]) -> RequirementRow:
    title, statement = titles.requirement(result)
    covered = tuple(result.get("covered_by") or ())
    check = result.get("check") or {}
    # An applied waiver wins over an expired one for the same requirement.
    relevant = [w for w in waivers if w.requirement_id == result["requirement_id"]
                and w.state in ("applied", "expired")]
    applied = min(relevant, key=lambda w: w.state != "applied", default=None)
    return RequirementRow(
        id=result["requirement_id"], title=title, statement=statement,
        phase=int(result["phase"]), section=result["section"],
        category=result.get("category", ""),
        category_title=titles.categories.get(result.get("category", ""), result.get("category", "")),
        priority=result.get("priority", ""), status=result["status"],
        recorded_status=result.get("recorded_status", result["status"]),
        reason=result.get("reason") or "", implemented=bool(result.get("implemented")),
        covered_by=covered,
        covered_files=tuple(dict.fromkeys(analysis.file_name(t) for t in covered)),
        check=f"{check.get('plugin')}.{check.get('name')}" if check else "",
        thresholds=tuple(_threshold_row(t) for t in result.get("thresholds") or ()),
        metrics=tuple((k, fmt_value(v)) for k, v in sorted((result.get("metrics") or {}).items())),
        artifacts=tuple((a.get("path", ""), a.get("sha256", "")) for a in result.get("artifacts") or ()),
        waiver=applied,
        covered_via=tuple((str(k), str(v)) for k, v in (result.get("covered_via") or {}).items()),
        suggested=analysis.suggested_links(result),
        failing_tests=tuple(t for t in covered if outcomes.get(t) in FAILED_OUTCOMES))


def _anchor(prefix: str, ident: Any) -> str:
    # Anchors are built from ids only and reduced to a safe alphabet, so no evidence text
    # ever reaches an href or id attribute.
    safe = "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in str(ident))
    return f"{prefix}-{safe}"


def _phases(rows: tuple[RequirementRow, ...], titles: Titles,
            doc: Mapping[str, Any]) -> tuple[PhaseView, ...]:
    by_section: dict[str, list[RequirementRow]] = {}
    for r in rows:
        by_section.setdefault(r.section, []).append(r)
    order = titles.section_order + [s for s in by_section if s not in titles.section_order]
    file_kinds = analysis.file_kinds(doc.get("tests", []))
    phases: dict[int, list[SectionView]] = {}
    for sid in order:
        reqs = by_section.get(sid)
        if not reqs:
            continue
        section = SectionView(
            id=sid, anchor=_anchor("section", sid), title=titles.section_titles.get(sid, sid),
            phase=reqs[0].phase, plan_lines=titles.section_lines.get(sid),
            requirements=tuple(reqs), covered_files=_covered_files(reqs, file_kinds))
        phases.setdefault(section.phase, []).append(section)
    return tuple(PhaseView(number=n, anchor=_anchor("phase", n), title=titles.phase_title(n),
                           plan_lines=titles.phase_lines.get(n), sections=tuple(secs))
                 for n, secs in sorted(phases.items()))


def _covered_files(reqs: list[RequirementRow], file_kinds: Mapping[str, str]) -> tuple[CoveredFile, ...]:
    files: dict[str, list[RequirementRow]] = {}
    for r in reqs:
        for name in r.covered_files:
            files.setdefault(name, []).append(r)
    # Test files first, then result files, each in the order the plan first cites them.
    ordered = sorted(files, key=lambda n: (file_kinds.get(n) == "result",))
    return tuple(CoveredFile(name=n, kind=file_kinds.get(n, "test"),
                             requirement_ids=tuple(r.id for r in files[n]),
                             requirement_titles=tuple(r.title for r in files[n]),
                             failing_tests=len({t for r in files[n] for t in r.failing_tests
                                                if analysis.file_name(t) == n}))
                 for n in ordered)


def _coverage_rows(items: Iterable[Mapping[str, Any]]) -> list[CoverageRow]:
    return [CoverageRow(id=str(i["id"]), title=i.get("title") or str(i["id"]),
                        requirements=int(i["requirements"]), implemented=int(i["implemented"]),
                        verified=int(i["verified"]), rate=float(i["rate"]), band=i["band"])
            for i in items]


def _count_statuses(rows: tuple[RequirementRow, ...]) -> tuple[tuple[str, int], ...]:
    counts = {s: 0 for s in STATUS_ORDER}
    for r in rows:
        counts[r.status] += 1
    return tuple(counts.items())
