"""End to end: `golive run` on the reference workspace reproduces the hand-written gap report.

The reference report (../shared/reference/gap-analysis-report.md, transcribed in
tests/reference/reference_report.yaml) is the oracle: section by section the same ✅ test files
and ❌ missing requirements, category figures within 10 points, the same key counts, and the
same "additional tests beyond requirements". The overall rate is computed, never forced: the
report's "~50 %" headline is not supported by its own category figures, and golive's figure
(32 % over the firm's 94 requirements; 30 % with the 6 of section REG, which the regulations add
and the reference workspace holds no evidence for) is checked against a count by hand, not
against the headline.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from golive.run.scoring import band

HERE = Path(__file__).parent
WORKSPACE = HERE / "fixtures" / "reference-workspace"
REFERENCE = yaml.safe_load((HERE / "reference" / "reference_report.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def doc(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "results.json"
    res = subprocess.run([sys.executable, "-m", "golive", "run", "--target", str(WORKSPACE), "--json", str(out)],
                         capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "160"})
    assert res.returncode == 1, res.stderr  # the reference workspace has gaps: exit code 1
    assert res.stdout.startswith("verdict: NOT READY") and "by category" in res.stdout
    return json.loads(out.read_text())


def _file_name(test_id: str) -> str:
    return Path(test_id.split("::")[0]).name


@pytest.mark.parametrize("section", REFERENCE["sections"], ids=lambda s: s["id"])
def test_section_matches_the_report(doc, section):
    results = [r for r in doc["results"] if r["section"] == section["id"]]
    assert {r["requirement_id"] for r in results} == {q["id"] for q in section["required"]}
    implemented_files = {_file_name(t) for r in results for t in r["covered_by"]}
    assert implemented_files == {i["file"] for i in section["implemented"]}
    missing = {r["requirement_id"] for r in results if not r["implemented"]}
    named = {rid for m in section["missing"] for rid in m["requirements"]} | set(section["unlisted_missing"])
    assert missing == named
    for r in results:
        if r["requirement_id"] in named:
            assert r["status"] == "missing", r
        elif r["check"] is None:  # judged from the team's tests, which all passed
            assert r["status"] == "pass", r
        else:  # golive's own check: the reference workspace holds tests but no data to verify
            assert r["status"] in ("pass", "fail", "partial", "missing", "skipped"), r


def test_category_figures_within_ten_points(doc):
    ours = {c["id"]: c for c in doc["coverage"]["by_category"]}
    for cat in REFERENCE["categories"]:
        got = ours[cat["id"]]["rate"] * 100
        assert abs(got - cat["coverage_percent"]) < 10, (cat["id"], got, cat["coverage_percent"])
        # the reference report bands coverage; golive's ``band`` grades verification, so the
        # reproduction compares the coverage rate's band
        coverage_band = band(ours[cat["id"]]["rate"], {"well": 0.75, "partial": 0.25})
        assert coverage_band == cat["band"] or cat["id"] == "configuration-management"
    # the report puts Configuration Management (75 %) in "well covered"; golive counts 5 of 7
    assert ours["configuration-management"]["implemented"] == 5 and ours["configuration-management"]["requirements"] == 7


def test_key_metrics_and_additional_tests(doc):
    s = doc["summary"]
    km = REFERENCE["key_metrics"]
    assert s["test_files"] == km["test_files"] == 23
    assert s["result_files"] == km["test_results"] == 31
    assert doc["run"]["plan"]["source_lines"] == km["original_requirements_lines"]
    assert doc["run"]["plan"]["phases"] == km["phases"]
    assert sorted(doc["additional_tests"]) == sorted(a["test"] for a in REFERENCE["additional_tests"])


def test_overall_rate_is_computed_per_requirement_not_forced(doc):
    s = doc["summary"]
    implemented = sum(r["implemented"] for r in doc["results"])
    own = [r for r in doc["results"] if r["section"] != "REG"]  # the firm's plan, as the report counts it
    assert len(own) == 94 and sum(r["implemented"] for r in own) == 30
    assert all(r["status"] == "missing" for r in doc["results"] if r["section"] == "REG")
    assert s["requirements"] == len(doc["results"]) == 100
    assert s["implemented"] == implemented == 30
    assert s["compliance_rate"] == round(30 / 100, 4)
    assert s["verified"] <= 30  # golive's own checks may not verify what the team's tests cover
    # the report's headline claim is not what its own lists support
    assert abs(s["compliance_rate"] - REFERENCE["key_metrics"]["compliance_rate_value"]) > 0.1
    assert "per requirement" in s["how_computed"]
