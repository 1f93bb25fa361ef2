"""Reading the inputs of a report: the results document's shape, and titles from the plan.

The render model (``model.py``) builds on these. A document that is not a supported schema
version, does not match ``engine/schema/results.schema.json`` (a missing coverage title, a
malformed ``run.ledger``), carries an unknown status, or whose summary contradicts its own
results is refused with :class:`ReportInputError` naming the field, so no format ever prints
figures that another format would print differently, and no renderer meets a shape it cannot
handle.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Mapping

import jsonschema

from golive.report.numbers import fmt_quantity
from golive.results import SCHEMA_VERSION

# Version 1 documents stay readable: the verdict and figures they lack are shown as missing.
SUPPORTED_SCHEMA_VERSIONS = tuple(dict.fromkeys(("1", SCHEMA_VERSION)))
STATUS_ORDER = ("pass", "fail", "partial", "missing", "error", "skipped", "waived")
RESULTS_SCHEMA = Path(__file__).resolve().parent.parent / "schema" / "results.schema.json"
SHOWN_SCHEMA_ERRORS = 3


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
    for i, result in enumerate(doc["results"] if isinstance(doc["results"], list) else ()):
        if not isinstance(result, Mapping):
            raise ReportInputError(f"{what}: results[{i}] is a {type(result).__name__}, not an object")
        for key in ("requirement_id", "status", "section", "phase"):
            if key not in result:
                raise ReportInputError(f"{what}: results[{i}] has no {key!r}")
        for key in ("status", "recorded_status"):
            if key in result and result[key] not in STATUS_ORDER:
                raise ReportInputError(
                    f"{what}: results[{i}] ({result['requirement_id']}) has unknown {key} "
                    f"{result[key]!r}; expected one of {', '.join(STATUS_ORDER)}")


@functools.cache
def _results_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(RESULTS_SCHEMA.read_text(encoding="utf-8")))


def _field(path: Any) -> str:
    """``run.ledger.size`` / ``coverage.by_section[0].title``: a field as the docs name it."""
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out or "(top level)"


def _explain(error: jsonschema.ValidationError, path: list[Any]) -> list[tuple[list[Any], str]]:
    """(field path, message) pairs for one schema error; a ``oneOf`` (``run.ledger``: null or
    an object) is explained by the branch the value was meant for."""
    if error.validator == "required" and isinstance(error.instance, Mapping):
        missing = next((k for k in error.validator_value if k not in error.instance), "?")
        return [(path + [missing], "required field is missing")]
    if error.validator in ("oneOf", "anyOf") and error.context:
        meant = [e for e in error.context if not (e.validator == "type" and not e.relative_path)]
        if meant:
            return [pair for e in meant for pair in _explain(e, path + list(e.relative_path))]
        wanted = [w for e in error.context for w in (e.validator_value if isinstance(e.validator_value, list)
                                                     else [e.validator_value])]
        return [(path, f"expected {' or '.join(map(str, wanted))}, got {type(error.instance).__name__} "
                       f"{json.dumps(error.instance, default=str)[:60]}")]
    message = error.message
    return [(path, message if len(message) <= 160 else message[:160] + "...")]


def schema_problems(doc: Any) -> list[str]:
    """Every way ``doc`` breaks the results schema, one ``field: what`` each, by field."""
    found = [pair for error in _results_validator().iter_errors(doc)
             for pair in _explain(error, list(error.absolute_path))]
    found.sort(key=lambda item: [str(p) for p in item[0]])
    return [f"{_field(path)}: {message}" for path, message in dict.fromkeys(
        (tuple(path), message) for path, message in found)]


def check_file_document(doc: Any, what: str) -> None:
    """:func:`check_document` plus the results schema, for a document read from a file (``golive
    report``): a hand-edited, truncated or foreign file is refused naming the fields that are
    wrong, before any renderer meets a shape it cannot handle."""
    check_document(doc, what)
    problems = schema_problems(doc)
    if problems:
        more = len(problems) - SHOWN_SCHEMA_ERRORS
        raise ReportInputError(
            f"{what} does not match the results schema (docs/results-schema.md): "
            + "; ".join(problems[:SHOWN_SCHEMA_ERRORS]) + (f"; and {more} more" if more > 0 else "")
            + "; write it with `golive run --json` rather than by hand")


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
        parts = [fmt_quantity(v, unit).rsplit(" ", 1) for v in value] if unit and value and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in value) else []
        if parts and all(len(p) == 2 for p in parts):
            # a range: both ends alike, the unit once ("10–20 ms", "5–7.5 %")
            return f"{'–'.join(p[0] for p in parts)} {parts[0][1]}"
        text = "–".join(fmt_value(v) for v in value)
    elif isinstance(value, Mapping) and "value" in value:
        return fmt_value(value["value"], value.get("unit") or unit)
    else:
        text = str(value)
    return f"{text} {unit}" if unit else text
