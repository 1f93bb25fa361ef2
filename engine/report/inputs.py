"""Reading the inputs of a report: the results document's shape, and titles from the plan.

The render model (``model.py``) builds on these. A document that is not schema version 1, lacks
a top-level part, carries an unknown status, or whose summary contradicts its own results is
refused with :class:`ReportInputError` naming the field, so no format ever prints figures
that another format would print differently.
"""
from __future__ import annotations

from typing import Any, Mapping

from golive.report.numbers import fmt_quantity
from golive.results import SCHEMA_VERSION

# Version 1 documents stay readable: the verdict and figures they lack are shown as missing.
SUPPORTED_SCHEMA_VERSIONS = tuple(dict.fromkeys(("1", SCHEMA_VERSION)))
STATUS_ORDER = ("pass", "fail", "partial", "missing", "error", "skipped", "waived")


class ReportInputError(ValueError):
    """The results document (or a waiver, or the previous run) cannot be rendered."""


class Titles:
    """Titles and ranges from the plan, falling back to what the document carries."""

    def __init__(self, plan: Any, doc: Mapping[str, Any]):
        cov = doc["coverage"]
        self.plan = plan
        self.plan_title = getattr(plan, "title", None) or doc["run"]["plan"].get("title") \
            or doc["run"]["plan"]["id"]
        self.source_lines = getattr(plan, "source_lines", None) or doc["run"]["plan"].get("source_lines")
        self.bands = dict(getattr(plan, "bands", None) or {"well": 0.75, "partial": 0.25})
        self.priorities = dict(getattr(plan, "priorities", None) or {})
        self.categories = {c["id"]: c["title"] for c in cov.get("by_category", [])}
        self.section_titles = {s["id"]: s["title"] for s in cov.get("by_section", [])}
        self.phase_titles = {str(p["id"]): p["title"] for p in cov.get("by_phase", [])}
        self.section_lines: dict[str, tuple[int, int]] = {}
        self.phase_lines: dict[int, tuple[int, int]] = {}
        self.requirements: dict[str, Any] = {}
        self.section_order: list[str] = []
        if plan is not None:
            self.categories.update({c.id: c.title for c in plan.categories})
            for ph in plan.phases:
                self.phase_titles[str(ph.number)] = ph.title
                self.phase_titles[ph.id] = ph.title
                self.phase_lines[ph.number] = tuple(ph.plan_lines)
            for s in plan.sections:
                self.section_titles[s.id] = s.title
                self.section_lines[s.id] = tuple(s.plan_lines)
                self.section_order.append(s.id)
                self.requirements.update({r.id: r for r in s.requirements})

    def phase_title(self, number: int) -> str:
        return self.phase_titles.get(str(number)) or f"Phase {number}"

    def requirement(self, result: Mapping[str, Any]) -> tuple[str, str]:
        req = self.requirements.get(result["requirement_id"])
        if req is not None:
            return req.title, req.statement
        return result.get("title") or result["requirement_id"], result.get("statement", "")


def check_document(doc: Any, what: str) -> None:
    if not isinstance(doc, Mapping):
        raise ReportInputError(f"{what}: expected a JSON object, got {type(doc).__name__}")
    version = doc.get("schema_version")
    if version not in SUPPORTED_SCHEMA_VERSIONS:
        raise ReportInputError(
            f"{what}: schema_version {version!r} is not supported (this golive renders "
            f"{', '.join(SUPPORTED_SCHEMA_VERSIONS)}); re-run `golive run --json` with this version")
    for key in ("run", "summary", "coverage", "results"):
        if key not in doc:
            raise ReportInputError(f"{what}: missing top-level field {key!r}")
    for i, result in enumerate(doc["results"]):
        for key in ("requirement_id", "status", "section", "phase"):
            if key not in result:
                raise ReportInputError(f"{what}: results[{i}] has no {key!r}")
        for key in ("status", "recorded_status"):
            if key in result and result[key] not in STATUS_ORDER:
                raise ReportInputError(
                    f"{what}: results[{i}] ({result['requirement_id']}) has unknown {key} "
                    f"{result[key]!r}; expected one of {', '.join(STATUS_ORDER)}")


def check_summary(summary: Mapping[str, Any], metrics: Any) -> None:
    # The engine's summary and the results must agree, or two formats could print different
    # figures for the same run; refuse rather than pick one.
    for key in ("requirements", "implemented", "verified"):
        if key in summary and summary[key] != getattr(metrics, key):
            raise ReportInputError(
                f"results document: summary.{key} is {summary[key]} but the results list gives "
                f"{getattr(metrics, key)}; the document is inconsistent")


def fmt_value(value: Any, unit: str | None = None) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (int, float)):
        return fmt_quantity(value, unit)
    elif isinstance(value, (list, tuple)):
        if unit and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            # a range: both ends alike, the unit once ("10–20 ms", "5–7.5 %")
            parts = [fmt_quantity(v, unit).rsplit(" ", 1) for v in value]
            return f"{'–'.join(p[0] for p in parts)} {parts[0][1]}"
        text = "–".join(fmt_value(v) for v in value)
    elif isinstance(value, Mapping) and "value" in value:
        return fmt_value(value["value"], value.get("unit") or unit)
    else:
        text = str(value)
    return f"{text} {unit}" if unit else text
