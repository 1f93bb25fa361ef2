"""Realistic inputs for the report tests: the reference plan outline and a results document.

``reference_plan()`` builds a :class:`golive.model.Plan` from the 94-requirement index in
``tests/reference/requirements_index.tsv`` and the section layout of the reference report.
``build_sample_document(plan)`` makes a results document (schema_version "1") for the
reference fixture as traceability would find it: 23 pytest files, 31 result files, the
coverage the index records, and a spread of statuses with thresholds. Run this file to
regenerate ``sample-results.json``.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from golive.model import Category, Phase, Plan, Requirement, Section

HERE = Path(__file__).resolve().parent
INDEX = HERE.parent.parent / "reference" / "requirements_index.tsv"
SAMPLE = HERE / "sample-results.json"

PHASES = [(1, "pre-live", "Pre-Live Deployment Testing", (2, 69)),
          (2, "initial-live", "Initial Live Trading Phase", (70, 109)),
          (3, "ongoing-ops", "Ongoing Live Operations", (110, 136)),
          (4, "risk-monitoring", "Risk Management and Monitoring", (137, 163)),
          (5, "business", "Business Validation", (164, 190)),
          (6, "compliance", "Compliance and Audit", (191, 217))]
SECTIONS = [("PRE-PIPE", 1, "Core Trading Pipeline Validation", (3, 15)),
            ("PRE-FEED", 1, "Data Ingestion Real-Time Feed Testing", (16, 34)),
            ("PRE-ALGO", 1, "Algorithm Accuracy Validation", (35, 58)),
            ("PRE-CONF", 1, "Configuration and Security Testing", (59, 69)),
            ("LIVE-SHADOW", 2, "Shadow Trading Mode", (71, 83)),
            ("LIVE-LIMITED", 2, "Limited Live Trading", (84, 96)),
            ("LIVE-REL", 2, "System Reliability", (97, 109)),
            ("OPS", 3, "Ongoing Live Operations", (110, 136)),
            ("RISK", 4, "Risk Management and Monitoring", (137, 163)),
            ("BIZ", 5, "Business Validation", (164, 190)),
            ("AUD", 6, "Compliance and Audit", (191, 217))]
CATEGORIES = [("api-data-sources", "API Authentication & Data Sources"),
              ("algorithm-validation", "Algorithm Validation"),
              ("configuration-management", "Configuration Management"),
              ("core-pipeline", "Core Pipeline Testing"),
              ("security", "Security Testing"),
              ("live-trading-operations", "Live Trading Operations"),
              ("production-monitoring", "Production Monitoring"),
              ("business-performance", "Business Performance"),
              ("compliance-audit", "Compliance & Audit")]
BANDS = {"well": 0.75, "partial": 0.25}
RESULT_FILES_USED = ["cache_management_test_20250611_204804.json",
                     "reconnection_test_20250611_205418.json",
                     "api_costs_test_20250611_205938.json",
                     "readiness_test_20250611_191013.json"]
RESULT_FILES_OTHER = ["data_quality_test_20250611_203311.json", "mbo_streaming_test_20250611_202950.json",
                      "edge_cases_test_20250611_210512.json", "load_balancing_test_20250611_211040.json"]


def read_index() -> list[dict]:
    rows = []
    for line in INDEX.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        rid, section, category, priority, title, covered = line.split("\t")
        rows.append({"id": rid, "section": section, "category": category, "priority": priority,
                     "title": title, "covered": [] if covered in ("-", "manual") else covered.split(","),
                     "manual": covered == "manual"})
    return rows


def reference_plan() -> Plan:
    index = read_index()
    sections = []
    for sid, phase, title, lines in SECTIONS:
        reqs = [Requirement(id=r["id"], title=r["title"], statement=f"{r['title']} is tested.",
                            category=r["category"], priority=r["priority"], plan_lines=lines,
                            section=sid, phase=phase, manual=r["manual"])
                for r in index if r["section"] == sid]
        sections.append(Section(id=sid, phase=phase, title=title, plan_lines=lines, requirements=reqs))
    return Plan(id="live-trading-go-live", title="Live Trading Test Plan", version="1.0",
                source_lines=217, phases=[Phase(n, pid, t, l) for n, pid, t, l in PHASES],
                categories=[Category(i, t) for i, t in CATEGORIES],
                priorities={"P1": "Critical gaps to address before go-live", "P2": "Important gaps",
                            "P3": "Nice-to-have"},
                bands=BANDS, sections=sections, digest="sha256:" + "3f" * 32)


def _test_id(name: str) -> str:
    if name.endswith(".json"):
        return f"test-results/{name}"
    return f"tests/{name}::test_{name[5:-3]}"


# Statuses other than pass for implemented requirements, with the evidence a checker reports.
SPECIAL = {
    "PRE-ALGO-09": ("fail", "baseline accuracy 71.2 % over 20 trading days is below 75 %",
                    {"accuracy": 0.712, "days": 20},
                    [{"metric": "accuracy", "op": ">", "value": 75, "unit": "%", "observed": 71.2, "passed": False},
                     {"metric": "days", "op": ">=", "value": 20, "unit": "d", "observed": 20, "passed": True}]),
    "PRE-FEED-05": ("pass", "", {"hit_ratio": 0.91, "saved_usd": 412.5},
                    [{"metric": "hit_ratio", "op": ">=", "value": 80, "unit": "%", "observed": 91.0, "passed": True}]),
    "PRE-FEED-07": ("partial", "daily API cost within target, monthly budget exceeded",
                    {"cost_per_day": 7.4, "cost_per_month": 231.0},
                    [{"metric": "cost_per_day", "op": "<=", "value": 8, "unit": "USD/day", "observed": 7.4, "passed": True},
                     {"metric": "cost_per_month", "op": "<=", "value": 200, "unit": "USD/month", "observed": 231.0, "passed": False}]),
    "PRE-FEED-01": ("skipped", "no live Databento credentials in this environment", {}, []),
    "PRE-CONF-06": ("error", "checker timed out after 60 s reading config/credentials.yaml", {}, []),
    "PRE-ALGO-03": ("pass", "", {"min_ev": 15, "min_probability": 0.6, "max_risk": 150},
                    [{"metric": "min_ev", "op": ">=", "value": 15, "unit": "USD", "observed": 15, "passed": True},
                     {"metric": "min_probability", "op": ">=", "value": 0.6, "unit": "ratio", "observed": 0.6, "passed": True},
                     {"metric": "max_risk", "op": "<=", "value": 150, "unit": "USD", "observed": 150, "passed": True}]),
}


def _coverage(items: list[dict], key: str, ids: list[tuple[str, str]]) -> list[dict]:
    out = []
    for ident, title in ids:
        group = [r for r in items if str(r[key]) == str(ident)]
        if not group:
            continue
        impl = sum(r["implemented"] for r in group)
        rate = impl / len(group)
        band = "well" if rate >= BANDS["well"] else "partial" if rate >= BANDS["partial"] else "major"
        out.append({"id": ident, "title": title, "requirements": len(group), "implemented": impl,
                    "verified": sum(r["status"] == "pass" for r in group), "rate": round(rate, 4),
                    "band": band})
    return out


def build_sample_document(plan: Plan) -> dict:
    index = {r["id"]: r for r in read_index()}
    results, tests = [], {}
    for req in plan.requirements:
        covered = [_test_id(n) for n in index[req.id]["covered"]]
        status, reason, metrics, thresholds = "pass", "", {}, []
        if req.id in SPECIAL:
            status, reason, metrics, thresholds = SPECIAL[req.id]
        if not covered:
            status = "missing"
            reason = ("manual requirement: no signed attestation recorded" if req.manual
                      else "no test, result file or evidence covers this requirement")
        results.append({"requirement_id": req.id, "phase": req.phase, "section": req.section,
                        "category": req.category, "priority": req.priority, "status": status,
                        "reason": reason, "implemented": bool(covered), "covered_by": covered,
                        "check": {"plugin": "traceability", "name": "covered_by_tests"},
                        "metrics": metrics, "thresholds": thresholds,
                        "artifacts": [{"path": c.split("::")[0], "sha256": f"{i:02x}" * 32}
                                      for i, c in enumerate(covered, start=1)],
                        "duration_s": 0.01})
        for c in covered:
            tests.setdefault(c, set()).add(req.id)
    records = []
    for tid, reqs in sorted(tests.items()):
        kind = "result-json" if tid.endswith(".json") else "pytest"
        records.append({"id": tid, "path": tid.split("::")[0], "kind": kind, "outcome": "passed",
                        "requirements": sorted(reqs)})
    extra = ["tests/test_remaining_batch.py::test_batch_throughput",
             "tests/test_pattern_recognition.py::test_enhanced_pattern_detection",
             "tests/test_priority_assignment.py::test_priority_tiebreak"]
    extra += [f"test-results/{n}" for n in RESULT_FILES_OTHER]
    extra += [f"test-results/junit/{Path(t).name[:-3]}.xml"
              for t in sorted({r["path"] for r in records if r["kind"] == "pytest"})]
    for tid in extra:
        kind = "pytest" if "::" in tid else "junit" if tid.endswith(".xml") else "result-json"
        records.append({"id": tid, "path": tid.split("::")[0], "kind": kind, "outcome": "passed",
                        "requirements": []})
    impl = sum(r["implemented"] for r in results)
    ver = sum(r["status"] == "pass" for r in results)
    by_status = {s: sum(r["status"] == s for r in results)
                 for s in ("pass", "fail", "partial", "missing", "error", "skipped", "waived")}
    return {
        "schema_version": "1",
        "run": {"id": "01JDQ7K2V3M4N5P6Q7R8S9T0AB", "started": "2026-11-25T18:00:00+00:00",
                "finished": "2026-11-25T18:00:42+00:00", "golive_version": "0.1.0",
                "target": "tests/fixtures/reference-workspace",
                "plan": {"id": plan.id, "version": plan.version, "digest": plan.digest},
                "tailoring_digest": None,
                "ledger": {"size": 95, "head": "sha256:" + "a1" * 32,
                           "checkpoint_signature": "ed25519:" + "5c" * 64, "key_id": "golive-ci-2026"}},
        "summary": {"requirements": len(results), "implemented": impl, "verified": ver,
                    "compliance_rate": round(impl / len(results), 4),
                    "verification_rate": round(ver / len(results), 4), "by_status": by_status},
        "coverage": {
            "by_phase": _coverage(results, "phase", [(p.number, p.title) for p in plan.phases]),
            "by_section": _coverage(results, "section", [(s.id, s.title) for s in plan.sections]),
            "by_category": _coverage(results, "category", [(c.id, c.title) for c in plan.categories]),
            "by_priority": _coverage(results, "priority", [(p, d) for p, d in plan.priorities.items()]),
        },
        "results": results,
        "tests": records,
        "additional_tests": extra,
    }


if __name__ == "__main__":
    doc = build_sample_document(reference_plan())
    SAMPLE.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {SAMPLE}", file=sys.stderr)
