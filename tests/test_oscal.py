"""``golive report --format oscal``: an OSCAL assessment-results document that trestle accepts.

compliance-trestle is a test dependency only (the dev extra); its pydantic models forbid unknown
fields, so validating against them catches misspelt OSCAL keys as well as bad values.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent / "data" / "report"))
import report_samples  # noqa: E402

from golive.report import build_render_model  # noqa: E402
from golive.report.cli import report  # noqa: E402
from golive.report.oscal import assessment_results  # noqa: E402

trestle_ar = pytest.importorskip("trestle.oscal.assessment_results",
                                 reason="compliance-trestle (dev extra) validates the OSCAL output")


@pytest.fixture(scope="module")
def document():
    return json.loads(report_samples.SAMPLE.read_text())


@pytest.fixture(scope="module")
def oscal_via_cli(document, tmp_path_factory):
    """The document as `golive report RESULTS --format oscal` writes it, with one waiver."""
    folder = tmp_path_factory.mktemp("oscal")
    results = folder / "run.json"
    results.write_text(json.dumps(document))
    waivers = folder / "waivers.yaml"
    waivers.write_text("- {requirement_id: PRE-ALGO-09, approver: CRO, reason: vendor data fix pending,"
                       " expires: 2030-01-31}\n")
    out = folder / "run.oscal.json"
    res = CliRunner().invoke(report, [str(results), "-f", "oscal", "-o", str(out), "--waivers", str(waivers)])
    assert res.exit_code == 0, res.output
    assert res.output.strip() == str(out)
    return json.loads(out.read_text())


def test_trestle_validates_the_document(oscal_via_cli, document):
    model = trestle_ar.AssessmentResults.model_validate(oscal_via_cli["assessment-results"])
    result = model.results[0]
    assert len(result.findings) == len(document["results"]) == 94  # the stored sample: a run of the firm's 94
    assert len(result.observations) == 94
    selected = [c.control_id for c in result.reviewed_controls.control_selections[0].include_controls]
    assert selected == [r["requirement_id"] for r in document["results"]]
    assert result.start.isoformat() == document["run"]["started"]
    assert result.end.isoformat() == document["run"]["finished"]


def test_findings_carry_verdict_and_coverage(oscal_via_cli, document):
    findings = {f["target"]["target-id"]: f for f in oscal_via_cli["assessment-results"]["results"][0]["findings"]}
    by_status = {}
    for r in document["results"]:
        by_status.setdefault(r["status"], r)
    passed = findings[by_status["pass"]["requirement_id"]]["target"]
    assert passed["status"] == {"state": "satisfied", "reason": "pass", "remarks": "golive status pass"}
    assert passed["implementation-status"] == {"state": "implemented"}
    missing = findings[by_status["missing"]["requirement_id"]]["target"]
    assert missing["status"]["state"] == "not-satisfied" and missing["status"]["reason"] == "fail"
    assert missing["implementation-status"] == {"state": "planned"}
    waived = findings["PRE-ALGO-09"]
    assert waived["target"]["status"]["state"] == "not-satisfied"  # a waiver accepts the gap, it does not close it
    assert "waived by CRO until 2030-01-31" in waived["target"]["status"]["remarks"]
    props = {p["name"]: p["value"] for p in waived["props"]}
    assert props["golive-status"] == "waived" and props["recorded-status"] == "fail"


def test_observations_point_at_evidence_digests(oscal_via_cli, document):
    ar = oscal_via_cli["assessment-results"]
    resources = {r["uuid"]: r for r in ar["back-matter"]["resources"]}
    observations = {o["uuid"]: o for o in ar["results"][0]["observations"]}
    for finding in ar["results"][0]["findings"]:  # every reference resolves inside the document
        for related in finding["related-observations"]:
            assert related["observation-uuid"] in observations
    hashes = set()
    for observation in observations.values():
        for evidence in observation.get("relevant-evidence", []):
            if "href" in evidence:
                resource = resources[evidence["href"].removeprefix("#")]
                hashes.update(h["value"] for link in resource["rlinks"] for h in link.get("hashes", []))
    wanted = {a["sha256"] for r in document["results"] for a in r["artifacts"]}
    assert wanted and wanted <= hashes
    components = {c["uuid"] for c in ar["results"][0]["local-definitions"]["components"]}
    for observation in observations.values():
        assert observation["origins"][0]["actors"][0]["actor-uuid"] in components
        assert observation["subjects"][0]["subject-uuid"] in components


def test_metadata_names_the_run_and_the_ledger_head(oscal_via_cli, document):
    props = {p["name"]: p["value"] for p in oscal_via_cli["assessment-results"]["metadata"]["props"]}
    ledger = document["run"]["ledger"]
    assert props["run-id"] == document["run"]["id"]
    assert props["plan-digest"] == document["run"]["plan"]["digest"]
    assert props["ledger-head"] == ledger["head"]
    assert props["ledger-size"] == str(ledger["size"])
    assert props["ledger-checkpoint-signature"] == ledger["checkpoint_signature"]
    assert len(props["results-sha256"]) == 64


def test_same_run_gives_the_same_document_and_no_ledger_gives_no_ledger_resource(document):
    plan = report_samples.reference_plan()
    first = assessment_results(build_render_model(document, plan))
    assert first == assessment_results(build_render_model(document, plan))
    unsigned = json.loads(json.dumps(document))
    unsigned["run"]["ledger"] = None
    bare = assessment_results(build_render_model(unsigned, plan))
    trestle_ar.AssessmentResults.model_validate(bare["assessment-results"])
    kinds = {p["value"] for r in bare["assessment-results"]["back-matter"]["resources"] for p in r["props"]
             if p["name"] == "evidence-kind"}
    assert "ledger checkpoint" not in kinds and "results document" in kinds
    assert not any(p["name"].startswith("ledger-") for p in bare["assessment-results"]["metadata"]["props"])


def test_a_run_time_without_a_date_is_refused(document):
    broken = json.loads(json.dumps(document))
    broken["run"]["started"] = "yesterday"
    with pytest.raises(ValueError, match="'yesterday' is not an ISO 8601"):
        assessment_results(build_render_model(broken, None))
