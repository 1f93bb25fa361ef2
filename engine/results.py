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

from golive.ledger.secrets import Redactor
from golive.run import readiness, scoring
from golive.model import Outcome, Quantity, TestRecord

#: "2": summary.verdict and summary.figures; covered/observed/configure per result; implemented and
#: compliance_rate became deprecated aliases of covered/coverage_rate (docs/results-schema.md)
SCHEMA_VERSION = "2"
#: suggested links kept per requirement in ``results[].suggested`` (best first)
SUGGESTED_PER_REQUIREMENT = 10
#: bands that count in ``summary.if_confirmed`` (traceability.suggest.COUNTED_BANDS)
COUNTED_BANDS = ("high", "medium")
#: kinds that only hold other tests' outcomes: never tests themselves (traceability CONTAINER_KINDS)
CONTAINER_KINDS = ("junit", "pytest-json-report")


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
        "covered": o.covered,
        "implemented": o.covered,  # deprecated alias of covered (schema 1 name)
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
        "observed": jsonable(o.observed) or None,
        "configure": o.configure or None,
        "references": [{"source": r.source, "clause": r.clause} for r in req.references],
        "plan_lines": list(req.plan_lines),
        "duration_s": o.duration_s,
    }


def test_to_dict(t: TestRecord) -> dict[str, Any]:
    return {"id": t.id, "path": t.path, "kind": t.kind, "name": t.name, "outcome": t.outcome,
            "requirements": list(t.requirements), "duration_s": t.duration_s, "source": t.source}


TEST_FIELDS = ("id", "path", "kind", "name", "outcome", "requirements", "duration_s", "source")


def tests_sha256(tests: list[dict[str, Any]]) -> str:
    """sha256 (hex) of the RFC 8785 JSON of the tests' :data:`TEST_FIELDS`, in order. The run
    records it in its run-finished entry (``run.tests_sha256``), so a report can check the
    document's test list and outcomes against the ledger (golive.ledger.bound)."""
    import hashlib

    from golive.ledger.canonical import canonical_bytes, to_jsonable

    rows = [{k: t.get(k) for k in TEST_FIELDS} for t in tests]
    return hashlib.sha256(canonical_bytes(to_jsonable(rows))).hexdigest()


# what a document says beyond the results, counts, run facts and tests the ledger holds: the run
# records a digest of each part (``run.extras_sha256``) so a report can refuse an edited copy
EXTRAS_PARTS = ("additional_tests", "additional_test_files", "covered_via", "suggested", "if_confirmed",
                "warnings", "plugins", "tailoring")


def document_extras(doc: dict[str, Any], warnings: int | None = None) -> dict[str, Any]:
    """The parts of ``doc`` :func:`extras_sha256` covers (:data:`EXTRAS_PARTS`): each result's
    ``covered_via`` and ``suggested`` by requirement id, ``summary.if_confirmed``, the first
    ``warnings`` run warnings (all when None: those added after the run closed -- witnesses,
    timestamp, notifications -- are not in it) and the top-level fields of those names."""
    results = doc.get("results") if isinstance(doc.get("results"), list) else []
    shown = doc.get("warnings") if isinstance(doc.get("warnings"), list) else []
    summary = doc.get("summary") if isinstance(doc.get("summary"), dict) else {}
    by_id = {str(r.get("requirement_id")): r for r in results if isinstance(r, dict)}
    return {"additional_tests": doc.get("additional_tests"), "additional_test_files": doc.get("additional_test_files"),
            "covered_via": {rid: r.get("covered_via") for rid, r in by_id.items()},
            "suggested": {rid: r.get("suggested") for rid, r in by_id.items()},
            "if_confirmed": summary.get("if_confirmed"),
            "warnings": shown if warnings is None else shown[:warnings],
            "plugins": doc.get("plugins"), "tailoring": doc.get("tailoring")}


def extras_sha256(doc: dict[str, Any], warnings: int | None = None) -> dict[str, str]:
    """sha256 (hex) of the RFC 8785 JSON of each part of :func:`document_extras`; recorded in
    the run-finished entry and checked by ``golive report`` (golive.ledger.bound)."""
    import hashlib

    from golive.ledger.canonical import canonical_bytes, to_jsonable

    # through the JSON the document is stored as: the digests of the run's document in memory
    # (dates, tuples) and of its stored copy must be the same
    extras = json.loads(dumps(document_extras(doc, warnings)))
    return {name: hashlib.sha256(canonical_bytes(to_jsonable(value))).hexdigest() for name, value in extras.items()}


def plugin_list(host: Any) -> dict[str, Any]:
    """``plugins`` of a results document: each registered plugin's origin and checks."""
    return {name: {"origin": info.origin, "checks": [c.name for c in info.checks]}
            for name, info in host.plugins.items()}


def _suggestion_dict(s: Any) -> dict[str, Any]:
    d = s.as_dict() if hasattr(s, "as_dict") else dict(s)
    return jsonable(d)


def _sort_suggestions(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda d: (d.get("rank", 1), -float(d.get("score") or 0.0), d.get("test", "")))


def covered_via(o: Outcome, reasons: dict[str, str]) -> dict[str, str]:
    """``{test id: why it covers}`` for the confirmed links of ``o`` (marker, map file, glob)."""
    return {tid: reasons.get(tid) or "linked" for tid in o.covered_by}


def if_confirmed(results: list[dict[str, Any]], suggested: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """What the coverage figure would be if every high/medium top-1 suggestion were confirmed,
    from ``results[]`` entries (and all suggestions, default: those in ``results[].suggested``).
    Never part of the headline: ``summary.implemented`` counts confirmed links only."""
    applicable = {r["requirement_id"]: r for r in results if not r.get("not_applicable")}
    if suggested is None:
        suggested = [s for r in results for s in r.get("suggested") or ()]
    implemented = {rid for rid, r in applicable.items() if r.get("implemented")}
    counted = [s for s in suggested if s.get("band") in COUNTED_BANDS and int(s.get("rank") or 1) == 1
               and s.get("requirement_id") in applicable]
    best: dict[str, str] = {}
    for s in counted:
        rid = s["requirement_id"]
        if rid in implemented:
            continue
        if rid not in best or COUNTED_BANDS.index(s["band"]) < COUNTED_BANDS.index(best[rid]):
            best[rid] = s["band"]
    total = len(applicable)
    n = len(implemented) + len(best)
    return {
        "implemented": n,
        "requirements": total,
        "rate": round(n / total, 4) if total else 0.0,
        "suggested_links": len(counted),
        "tests": len({s.get("test") for s in counted}),
        "new_requirements": len(best),
        "by_band": {b: sum(1 for v in best.values() if v == b) for b in COUNTED_BANDS},
        "bands": list(COUNTED_BANDS),
    }


def additional_test_files(records: list[TestRecord], uncovered: set[str]) -> list[dict[str, Any]]:
    """Files holding tests that cover no requirement, by path: ``tests`` of them cover nothing,
    out of ``of`` tests in the file. A test that covers something is never counted here."""
    files: dict[str, list[int]] = {}
    for t in records:
        if t.kind in CONTAINER_KINDS:
            continue
        path = t.path or t.id.split("::", 1)[0]
        counts = files.setdefault(path, [0, 0])
        counts[1] += 1
        if t.id in uncovered:
            counts[0] += 1
    return [{"path": p, "tests": n, "of": of} for p, (n, of) in sorted(files.items()) if n]


def build_document(report, ledger_head: dict | None = None, tailoring: dict | None = None,
                   plugins: dict | None = None) -> dict[str, Any]:
    """The results document of a finished run (``report`` is a ``runner.RunReport``); the
    tailoring summary and plugin list default to those the run recorded the digest of."""
    plan, outcomes = report.plan, report.outcomes
    tailoring = tailoring if tailoring is not None else getattr(report, "tailoring_summary", None)
    plugins = plugins if plugins is not None else getattr(report, "plugins", None)
    links: dict[str, list[str]] = {}
    for o in outcomes:
        for tid in o.covered_by:
            links.setdefault(tid, []).append(o.requirement.id)
    # A large repository has tens of thousands of suggestions: keep them as objects and turn
    # into dicts only the few the document shows (the best per requirement) and the counted ones.
    raw = list(getattr(report, "suggestions", None) or [])
    key = (lambda s: (s.get("rank", 1), -float(s.get("score") or 0.0), s.get("test", ""))) if raw and isinstance(raw[0], dict) \
        else (lambda s: (s.rank, -s.score, s.test_id))
    raw.sort(key=key)
    by_requirement: dict[str, list[Any]] = {}
    by_test: dict[str, list[str]] = {}
    counted = []
    for s in raw:
        rid, tid, band, rank = ((s["requirement_id"], s["test"], s.get("band"), int(s.get("rank") or 1))
                                if isinstance(s, dict) else (s.requirement_id, s.test_id, s.band, s.rank))
        shown = by_requirement.setdefault(rid, [])
        if len(shown) < SUGGESTED_PER_REQUIREMENT:
            shown.append(s)
        ids = by_test.setdefault(tid, [])
        if rid not in ids:
            ids.append(rid)
        if band in COUNTED_BANDS and rank == 1:
            counted.append({"requirement_id": rid, "test": tid, "band": band, "rank": rank})
    tests = []
    for t in report.tests:
        d = test_to_dict(t)
        d["covers"] = links.get(t.id, [])
        if by_test.get(t.id):
            d["suggested"] = by_test[t.id]
        tests.append(d)
    via = getattr(report, "covered_via", None) or {}
    results = []
    redactor = Redactor()  # what the ledger records, the document and its reports show: no secrets
    for o in outcomes:
        d = redactor.obj(outcome_to_dict(o))
        d["covered_via"] = covered_via(o, via.get(o.requirement.id, {}))
        d["suggested"] = [_suggestion_dict(x) for x in by_requirement.get(o.requirement.id, [])]
        results.append(d)
    # a test that covers something is never an additional test, whatever the linker said
    additional = [t for t in report.additional_tests if t.id not in links]
    run = dict(report.run)
    run["ledger"] = ledger_head
    run["plan"] = {**run["plan"], "title": plan.title, "source_lines": plan.source_lines,
                   "requirements": len(plan.requirements),
                   "phases": len(plan.phases)}
    doc = {
        "schema_version": SCHEMA_VERSION,
        "run": run,
        "summary": {
            **scoring.summary(outcomes),
            "selected": report.selected,
            "test_files": len({t.path for t in report.tests if t.kind == "pytest"}),
            "result_files": len({t.path for t in report.tests if t.kind != "pytest"}),
            "if_confirmed": if_confirmed(results, counted),
        },
        "coverage": {
            "by_phase": scoring.coverage_by_phase(plan, outcomes),
            "by_section": scoring.coverage_by_section(plan, outcomes),
            "by_category": scoring.coverage_by_category(plan, outcomes),
            "by_priority": scoring.coverage_by_priority(plan, outcomes),
        },
        "results": results,
        "tests": tests,
        "additional_tests": [t.id for t in additional],
        "additional_test_files": additional_test_files(report.tests, {t.id for t in additional}),
        "tailoring": tailoring,
        "warnings": redactor.obj(list(report.warnings)),
        "plugins": plugins or {},
    }
    doc["summary"]["verdict"] = {"policy": readiness.Policy.from_plan(plan.readiness, plan.signoff).as_dict()}
    readiness.refresh_summary(doc)  # signed when the run wrote the ledger (run.ledger)
    return doc


def dumps(doc: dict[str, Any]) -> bytes:
    """The document as indented UTF-8 JSON. orjson writes the same text as ``json.dumps(indent=2,
    ensure_ascii=False)`` about ten times faster (the stdlib's indenting encoder is pure Python:
    a second for a 10,000-test repository); the stdlib is the fallback for what orjson refuses
    (integers beyond 64 bits)."""
    try:
        import orjson

        return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    except (ImportError, TypeError):
        return (json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def write_document(doc: dict[str, Any], path: Path | str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(dumps(doc))
    tmp.replace(path)  # atomic: a reader never sees half a document
    return path
