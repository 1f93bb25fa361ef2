"""The results document: one versioned JSON document per run (``golive run --json``).

Every report format and the evidence ledger render from this same data. Its shape is fixed in
DESIGN.md ("The results document") and documented field by field in docs/results-schema.md;
names may be added, never changed, without bumping ``SCHEMA_VERSION``.

JSON conversion rules: ``Decimal`` becomes a string (money and prices keep every digit),
``Quantity`` becomes ``{"value", "unit"}``, numpy scalars become Python numbers, NaN/inf become
strings ("nan", "inf") so the document stays strict JSON.
"""
from __future__ import annotations

import dataclasses
import json
import math
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from golive.run import scoring
from golive.model import Outcome, Quantity, TestRecord

SCHEMA_VERSION = "1"


def jsonable(value: Any) -> Any:
    """Convert metric values and details into strict JSON types."""
    if isinstance(value, Quantity):
        return {"value": jsonable(value.value), "unit": value.unit}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if hasattr(value, "item"):  # numpy scalar
        return jsonable(value.item())
    if hasattr(value, "tolist"):  # numpy array
        return jsonable(value.tolist())
    return str(value)


def outcome_to_dict(o: Outcome) -> dict[str, Any]:
    req = o.requirement
    return {
        "requirement_id": req.id,
        "title": req.title,
        "phase": req.phase,
        "section": req.section,
        "category": req.category,
        "priority": req.priority,
        "status": o.status.value,
        "reason": o.reason,
        "implemented": o.implemented,
        "verified": o.verified,
        "manual": req.manual,
        "not_applicable": o.not_applicable or None,
        "covered_by": list(o.covered_by),
        "check": {"plugin": req.check.plugin, "name": req.check.name} if req.check else None,
        "checker": o.checker or None,
        "checker_version": o.checker_version or None,
        "metrics": jsonable(o.metrics),
        "thresholds": [
            {"metric": t.metric, "op": t.op, "value": jsonable(t.value), "unit": t.unit,
             "observed": jsonable(t.observed), "passed": t.passed, "loosened": t.loosened}
            for t in o.thresholds
        ],
        "artifacts": [{"path": a.path, "sha256": a.sha256, "role": a.role} for a in o.artifacts],
        "details": jsonable(o.details),
        "references": [{"source": r.source, "clause": r.clause} for r in req.references],
        "plan_lines": list(req.plan_lines),
        "duration_s": o.duration_s,
    }


def test_to_dict(t: TestRecord) -> dict[str, Any]:
    return {"id": t.id, "path": t.path, "kind": t.kind, "name": t.name, "outcome": t.outcome,
            "requirements": list(t.requirements), "duration_s": t.duration_s, "source": t.source}


def build_document(report, ledger_head: dict | None = None, tailoring: dict | None = None,
                   plugins: dict | None = None) -> dict[str, Any]:
    """The results document of a finished run (``report`` is a ``runner.RunReport``)."""
    plan, outcomes = report.plan, report.outcomes
    links: dict[str, list[str]] = {}
    for o in outcomes:
        for tid in o.covered_by:
            links.setdefault(tid, []).append(o.requirement.id)
    tests = []
    for t in report.tests:
        d = test_to_dict(t)
        d["covers"] = links.get(t.id, [])
        tests.append(d)
    run = dict(report.run)
    run["ledger"] = ledger_head
    run["plan"] = {**run["plan"], "title": plan.title, "source_lines": plan.source_lines,
                   "phases": len(plan.phases)}
    return {
        "schema_version": SCHEMA_VERSION,
        "run": run,
        "summary": {
            **scoring.summary(outcomes),
            "selected": report.selected,
            "test_files": len({t.path for t in report.tests if t.kind == "pytest"}),
            "result_files": len({t.path for t in report.tests if t.kind != "pytest"}),
        },
        "coverage": {
            "by_phase": scoring.coverage_by_phase(plan, outcomes),
            "by_section": scoring.coverage_by_section(plan, outcomes),
            "by_category": scoring.coverage_by_category(plan, outcomes),
            "by_priority": scoring.coverage_by_priority(plan, outcomes),
        },
        "results": [outcome_to_dict(o) for o in outcomes],
        "tests": tests,
        "additional_tests": [t.id for t in report.additional_tests],
        "tailoring": tailoring,
        "warnings": list(report.warnings),
        "plugins": plugins or {},
    }


def write_document(doc: dict[str, Any], path: Path | str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")
    tmp.replace(path)  # atomic: a reader never sees half a document
    return path
