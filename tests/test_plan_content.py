"""Content facts of the go-live plan written as YAML under ``requirements/``.

These tests read the YAML with ``yaml.safe_load`` only, so they do not depend on the plan
loader (``golive.plan``); they pin what the plan says -- ids, structure, line ranges, every
number the original plan states as a typed threshold, traceability globs, regulations --
against ``tests/reference/requirements_index.tsv`` and the tables below.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
REQUIREMENTS_DIR = REPO / "requirements"
INDEX_TSV = REPO / "tests" / "reference" / "requirements_index.tsv"

EXPECTED_PHASES = [
    (1, "Pre-Live Deployment Testing", [2, 69]),
    (2, "Initial Live Trading Phase", [70, 109]),
    (3, "Ongoing Live Operations", [110, 136]),
    (4, "Risk Management and Monitoring", [137, 163]),
    (5, "Business Validation", [164, 190]),
    (6, "Compliance and Audit", [191, 217]),
]

EXPECTED_CATEGORIES = [
    ("api-data-sources", "API Authentication & Data Sources"),
    ("algorithm-validation", "Algorithm Validation"),
    ("configuration-management", "Configuration Management"),
    ("core-pipeline", "Core Pipeline Testing"),
    ("security", "Security Testing"),
    ("live-trading-operations", "Live Trading Operations"),
    ("production-monitoring", "Production Monitoring"),
    ("business-performance", "Business Performance"),
    ("compliance-audit", "Compliance & Audit"),
]
# after the reference report's nine: the category of what the regulations add (section REG)
REGULATORY_CATEGORY = ("regulatory-controls", "Regulatory Controls (RTS 6, SEC 15c3-5)")

# (section id, phase, title, plan lines), in plan order.
EXPECTED_SECTIONS = [
    ("PRE-PIPE", 1, "Core Trading Pipeline Validation", [3, 15]),
    ("PRE-FEED", 1, "Data Ingestion Real-Time Feed Testing", [16, 34]),
    ("PRE-ALGO", 1, "Algorithm Accuracy Validation", [35, 58]),
    ("PRE-CONF", 1, "Configuration and Security Testing", [59, 69]),
    ("LIVE-SHADOW", 2, "Shadow Trading Mode", [71, 83]),
    ("LIVE-LIMITED", 2, "Limited Live Trading", [84, 96]),
    ("LIVE-REL", 2, "System Reliability", [97, 109]),
    ("OPS", 3, "Ongoing Live Operations", [110, 136]),
    ("RISK", 4, "Risk Management and Monitoring", [137, 163]),
    ("BIZ", 5, "Business Validation", [164, 190]),
    ("AUD", 6, "Compliance and Audit", [191, 217]),
]

# Every number the original plan states, as (requirement, metric, op, value, unit).
STATED_THRESHOLDS = [
    ("PRE-PIPE-04", "duration_p95", "<", 2, "min"),
    ("PRE-ALGO-03", "min_ev", ">=", 15, "USD"),
    ("PRE-ALGO-03", "min_probability", ">=", 0.60, "ratio"),
    ("PRE-ALGO-03", "max_risk", "<=", 150, "USD"),
    ("PRE-ALGO-09", "accuracy", ">", 75, "%"),
    ("PRE-ALGO-09", "window_days", ">=", 20, "d"),
    ("PRE-ALGO-13", "history_span", ">=", 6, "month"),
    ("PRE-ALGO-14", "min_notional", ">=", 100000, "USD"),
    ("LIVE-SHADOW-01", "shadow_duration", ">=", 1, "week"),
    ("LIVE-LIMITED-01", "max_position", "<=", 1, "contracts"),
    ("LIVE-LIMITED-06", "daily_cost_max", "<=", 8, "USD"),
    ("LIVE-LIMITED-07", "monthly_cost", "<=", 200, "USD"),
    ("LIVE-REL-07", "latency_p99", "<", 100, "ms"),
    ("OPS-05", "win_loss_ratio", ">", 1.8, "ratio"),
    ("OPS-06", "accuracy", ">", 75, "%"),
    ("OPS-07", "roi_improvement", ">", 25, "%"),
    ("RISK-06", "cpu_p95", "<", 80, "%"),
    ("RISK-06", "memory_p95", "<", 80, "%"),
    ("RISK-06", "disk_max", "<", 80, "%"),
    ("RISK-10", "uptime", ">=", 99.9, "%"),
]

# The reference fixture's four standalone result files, linked by glob.

# Requirements the plan explicitly ties to a regulation (at least these references).
EXPECTED_REFERENCES = {
    "RISK-04": ("MiFID II RTS 6", "Art. 12"),
    "AUD-07": ("MiFID II RTS 6", "Art. 9"),
    "RISK-01": ("SEC 15c3-5", None),
    "LIVE-LIMITED-02": ("SEC 15c3-5", None),
    "PRE-CONF-07": ("MiFID II RTS 6", "Art. 18"),
    "RISK-13": ("SEC 17a-4", None),
    "AUD-01": ("FINRA 4511", None),
    "PRE-ALGO-13": ("FINRA 15-09", None),
}

KNOWN_SOURCES = {"MiFID II RTS 6", "SEC 15c3-5", "FINRA 15-09", "SEC 17a-4", "FINRA 4511"}
KNOWN_UNITS = {
    "ns", "us", "ms", "s", "min", "h", "d", "week", "month", "ratio", "%", "USD",
    "B", "KiB", "MiB", "GiB", "count", "contracts", "records", "USD/day", "USD/month",
    "records/s",
}
KNOWN_OPS = {"<", "<=", ">", ">=", "==", "between"}
REQUIREMENT_FIELDS = {
    "id", "title", "statement", "category", "priority", "plan_lines", "check", "thresholds",
    "covered_by", "manual", "references", "schedule", "tags", "min_period", "max_age", "owner",
}
REQUIRED_FIELDS = {"id", "title", "statement", "category", "priority"}
MANUAL_IDS = {"RISK-09", "AUD-07"}


def _load(path: Path):
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def plan() -> dict:
    return _load(REQUIREMENTS_DIR / "plan.yaml")


@pytest.fixture(scope="module")
def section_docs(plan) -> list[tuple[str, dict]]:
    """(path relative to requirements/, parsed document) for each listed section file."""
    return [(rel, _load(REQUIREMENTS_DIR / rel)) for rel in plan["sections"]]


@pytest.fixture(scope="module")
def plan_section_docs(section_docs) -> list[tuple[str, dict]]:
    """The firm's own plan: the sections not marked ``source: regulation``."""
    return [(rel, doc) for rel, doc in section_docs if doc["section"].get("source", "plan") == "plan"]


@pytest.fixture(scope="module")
def requirements(section_docs) -> dict[str, tuple[dict, dict, str]]:
    """requirement id -> (requirement, its section block, its file)."""
    found: dict[str, tuple[dict, dict, str]] = {}
    for rel, doc in section_docs:
        for req in doc["requirements"]:
            assert req["id"] not in found, f"{rel}: duplicate requirement id {req['id']}"
            found[req["id"]] = (req, doc["section"], rel)
    return found


@pytest.fixture(scope="module")
def index_rows() -> list[dict]:
    with INDEX_TSV.open(encoding="utf-8") as handle:
        lines = [line for line in handle if not line.startswith("#") and line.strip()]
    fields = ["id", "section", "category", "priority", "title", "covered_in_fixture"]
    return list(csv.DictReader(lines, fieldnames=fields, delimiter="\t"))


def _inside(inner, outer) -> bool:
    return outer[0] <= inner[0] <= inner[1] <= outer[1]


def test_plan_metadata(plan):
    assert plan["plan"] == {
        "id": "live-trading-go-live", "title": "Live Trading Test Plan",
        "version": "1.0", "source_lines": 217,
    }
    assert plan["bands"] == {"well": 0.75, "partial": 0.25}
    assert set(plan["priorities"]) == {"P1", "P2", "P3"}
    assert "Critical" in plan["priorities"]["P1"]
    assert "Important" in plan["priorities"]["P2"]
    assert "Nice-to-Have" in plan["priorities"]["P3"]


def test_phases(plan):
    got = [(p["number"], p["title"], p["plan_lines"]) for p in plan["phases"]]
    assert got == EXPECTED_PHASES
    ids = [p["id"] for p in plan["phases"]]
    assert len(set(ids)) == len(ids)
    # Phases tile the document after its title line, in order and without overlap.
    ranges = [p["plan_lines"] for p in plan["phases"]]
    assert ranges[0][0] == 2 and ranges[-1][1] == plan["plan"]["source_lines"]
    for before, after in zip(ranges, ranges[1:]):
        assert after[0] == before[1] + 1


def test_categories(plan):
    assert [(c["id"], c["title"]) for c in plan["categories"]] == EXPECTED_CATEGORIES + [REGULATORY_CATEGORY]


def test_the_regulations_additions_are_one_marked_section(section_docs, plan_section_docs):
    """Section REG (issue 18.2) holds what RTS 6 / 15c3-5 name and the plan lacks: marked
    ``source: regulation``, in the phase it extends, under its own category, every requirement
    verified by a regulatory check."""
    added = [(rel, doc) for rel, doc in section_docs if (rel, doc) not in plan_section_docs]
    assert [(rel, doc["section"]["id"], doc["section"]["source"]) for rel, doc in added] == \
        [("6-compliance/regulatory-evidence.yaml", "REG", "regulation")]
    reqs = added[0][1]["requirements"]
    assert [r["id"] for r in reqs] == [f"REG-0{i}" for i in range(1, 7)]
    assert {r["category"] for r in reqs} == {REGULATORY_CATEGORY[0]}
    assert all(r["check"]["plugin"] == "regulatory" and r["thresholds"] for r in reqs)


def test_every_section_file_is_listed(plan):
    # frameworks/ holds the framework catalogs (docs/frameworks.md), not plan sections
    on_disk = sorted(p.relative_to(REQUIREMENTS_DIR).as_posix()
                     for p in REQUIREMENTS_DIR.glob("*/*.yaml") if p.parent.name != "frameworks")
    assert sorted(plan["sections"]) == on_disk
    assert len(plan["sections"]) == len(set(plan["sections"]))


def test_sections_match_the_plan_structure(plan, section_docs, plan_section_docs):
    got = [(d["section"]["id"], d["section"]["phase"], d["section"]["title"],
            d["section"]["plan_lines"]) for _, d in plan_section_docs]
    assert got == EXPECTED_SECTIONS
    phases = {p["number"]: p for p in plan["phases"]}
    for rel, doc in section_docs:
        section = doc["section"]
        phase = phases[section["phase"]]
        assert rel.split("/")[0] == f"{phase['number']}-{phase['id']}", \
            f"{rel}: section file must live in its phase's folder"
        assert _inside(section["plan_lines"], phase["plan_lines"]), rel
        assert set(doc) == {"section", "requirements"}, rel


def test_sections_do_not_overlap(plan_section_docs):
    ranges = [d["section"]["plan_lines"] for _, d in plan_section_docs]
    for before, after in zip(ranges, ranges[1:]):
        assert after[0] > before[1], f"section ranges {before} and {after} overlap"


def test_requirements_match_the_index(requirements, index_rows, section_docs):
    assert len(index_rows) == 94
    own = [rid for rid, (_, section, _) in requirements.items() if section.get("source", "plan") == "plan"]
    assert len(own) == 94 and len(requirements) == 94 + 6  # + section REG (source: regulation)
    assert own == [row["id"] for row in index_rows], \
        "requirements must appear in index order"
    for row in index_rows:
        req, section, rel = requirements[row["id"]]
        assert section["id"] == row["section"], f"{rel}: {row['id']} section"
        assert req["category"] == row["category"], f"{rel}: {row['id']} category"
        assert req["priority"] == row["priority"], f"{rel}: {row['id']} priority"


def test_requirement_ids_number_their_section(section_docs):
    for rel, doc in section_docs:
        section_id = doc["section"]["id"]
        numbers = []
        for req in doc["requirements"]:
            match = re.fullmatch(rf"{re.escape(section_id)}-(\d\d)", req["id"])
            assert match, f"{rel}: {req['id']} is not {section_id}-NN"
            numbers.append(int(match.group(1)))
        assert numbers == list(range(1, len(numbers) + 1)), rel


def test_requirement_fields(plan, requirements):
    categories = {c["id"] for c in plan["categories"]}
    for rid, (req, _, rel) in requirements.items():
        assert REQUIRED_FIELDS <= set(req), f"{rel}: {rid} lacks {REQUIRED_FIELDS - set(req)}"
        assert set(req) <= REQUIREMENT_FIELDS, f"{rel}: {rid} unknown {set(req) - REQUIREMENT_FIELDS}"
        assert req["category"] in categories
        assert req["priority"] in plan["priorities"]
        assert req["title"].strip() and "\n" not in req["title"]
        statement = req["statement"].strip()
        assert len(statement.split()) >= 8 and statement.endswith("."), \
            f"{rel}: {rid} statement must be a full testable sentence"


def test_titles_keep_the_index_wording(requirements, index_rows):
    # Titles may be polished, but their key words stay (numbers, names, units).
    for row in index_rows:
        title = requirements[row["id"]][0]["title"].lower()
        for token in re.findall(r"[a-z0-9.$]+", row["title"].lower()):
            if len(token) > 3 and token not in {"with", "between", "during", "against"}:
                assert token in title, f"{row['id']}: title lost '{token}'"


def test_plan_lines_nest(requirements):
    for rid, (req, section, rel) in requirements.items():
        lines = req.get("plan_lines", section["plan_lines"])
        assert isinstance(lines, list) and len(lines) == 2 and lines[0] <= lines[1], rid
        assert _inside(lines, section["plan_lines"]), \
            f"{rel}: {rid} plan_lines {lines} outside section {section['plan_lines']}"


@pytest.mark.parametrize("rid, metric, op, value, unit", STATED_THRESHOLDS,
                         ids=[f"{t[0]}:{t[1]}" for t in STATED_THRESHOLDS])
def test_stated_number_is_a_threshold(requirements, rid, metric, op, value, unit):
    thresholds = requirements[rid][0].get("thresholds", [])
    matching = [t for t in thresholds if t["metric"] == metric]
    assert len(matching) == 1, f"{rid}: expected one '{metric}' threshold"
    threshold = matching[0]
    assert (threshold["op"], threshold["unit"]) == (op, unit)
    assert threshold["value"] == pytest.approx(value)


def test_no_threshold_outside_the_stated_numbers(requirements):
    """A threshold is either a number the plan states, or a limit on a metric of the
    requirement's own checker (which the validator checks against the check's metrics)."""
    stated = {(t[0], t[1]) for t in STATED_THRESHOLDS}
    for rid, (req, _, rel) in requirements.items():
        for threshold in req.get("thresholds", []):
            assert (rid, threshold["metric"]) in stated or "check" in req, \
                f"{rel}: {rid} threshold {threshold['metric']} is neither stated by the plan nor measured by a check"
            assert threshold["op"] in KNOWN_OPS and threshold["unit"] in KNOWN_UNITS
            assert re.fullmatch(r"[a-z][a-z0-9_]*", threshold["metric"])
            assert set(threshold) <= {"metric", "op", "value", "unit", "description"}


def test_manual_requirements(requirements):
    manual = {rid for rid, (req, _, _) in requirements.items() if req.get("manual")}
    assert manual == MANUAL_IDS
    for rid in MANUAL_IDS:
        req = requirements[rid][0]
        assert "check" not in req and not req.get("thresholds")
        assert "attest" in req["statement"]


def test_shipped_plan_names_no_team_files(requirements):
    """``covered_by`` globs that name one team's files (``**/cache_management_test_*.json``) do
    not belong in the shipped plan: a team's links live in its reviewed map file
    (golive-links.yaml) or its markers."""
    linked = {rid: req["covered_by"] for rid, (req, _, _) in requirements.items() if "covered_by" in req}
    assert linked == {}


def test_references(requirements):
    cited = 0
    for rid, (req, _, rel) in requirements.items():
        for ref in req.get("references", []):
            cited += 1
            assert ref["source"] in KNOWN_SOURCES, f"{rel}: {rid} cites {ref['source']}"
            assert set(ref) <= {"source", "clause"}
            if ref["source"] == "MiFID II RTS 6":
                assert re.fullmatch(r"Art\. \d+", ref["clause"]), f"{rel}: {rid}"
    assert cited > 0
    for rid, (source, clause) in EXPECTED_REFERENCES.items():
        refs = requirements[rid][0].get("references", [])
        assert any(r["source"] == source and (clause is None or r.get("clause") == clause)
                   for r in refs), f"{rid} should cite {source} {clause or ''}"


def test_schedules(requirements):
    scheduled = {rid: req["schedule"] for rid, (req, _, _) in requirements.items()
                 if "schedule" in req}
    assert "PRE-FEED-03" in scheduled and "BIZ-06" in scheduled
    assert scheduled["PRE-FEED-03"] == {"cron": "*/15 9-16 * * mon-fri",
                                        "timezone": "America/New_York", "calendar": "XNYS"}
    for rid, schedule in scheduled.items():
        assert set(schedule) <= {"cron", "interval", "timezone", "calendar"}, rid
        assert ("cron" in schedule) != ("interval" in schedule), rid
        if "cron" in schedule:
            assert len(schedule["cron"].split()) == 5, rid
        ZoneInfo(schedule.get("timezone", "UTC"))


def test_no_duplicate_keys_in_any_file():
    # safe_load keeps the last of two equal keys silently; compose the node graph to see them.
    for path in sorted(REQUIREMENTS_DIR.rglob("*.yaml")):
        stack = [yaml.compose(path.read_text(encoding="utf-8"))]
        while stack:
            node = stack.pop()
            if isinstance(node, yaml.MappingNode):
                keys = [k.value for k, _ in node.value]
                assert len(keys) == len(set(keys)), f"{path}:{node.start_mark.line + 1}"
                stack.extend(v for _, v in node.value)
            elif isinstance(node, yaml.SequenceNode):
                stack.extend(node.value)
