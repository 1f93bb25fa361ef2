"""The render model: counts, waivers, changes, recommendations and input errors."""
from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "data" / "report"))
import report_samples  # noqa: E402

from golive.report import ReportInputError, build_render_model  # noqa: E402


@pytest.fixture(scope="module")
def plan():
    return report_samples.reference_plan()


@pytest.fixture()
def doc():
    return json.loads(report_samples.SAMPLE.read_text())


def test_key_metrics_match_the_reference_fixture(doc, plan):
    m = build_render_model(doc, plan)
    k = m.metrics
    assert (k.plan_lines, k.phases, k.requirements) == (217, 6, 94)
    assert (k.test_files, k.result_files) == (23, 31)
    assert (k.implemented, k.verified) == (30, 26)
    assert k.compliance_percent == 32  # 30/94, not the reference's "~50 %"
    assert dict(k.by_status) == {"pass": 26, "fail": 1, "partial": 1, "missing": 64, "error": 1,
                                 "skipped": 1, "waived": 0}


def test_sections_list_covering_files_and_gaps(doc, plan):
    m = build_render_model(doc, plan)
    sections = {s.id: s for p in m.phases for s in p.sections}
    assert list(sections) == [s.id for s in plan.sections]
    pipe = sections["PRE-PIPE"]
    assert [f.name for f in pipe.covered_files] == ["test_config_enforcement.py", "test_source_loading.py"]
    assert [r.id for r in pipe.missing] == ["PRE-PIPE-03", "PRE-PIPE-04", "PRE-PIPE-06"]
    feed = sections["PRE-FEED"]
    # result files are listed by file name, after the test files
    assert [f.kind for f in feed.covered_files][-3:] == ["result"] * 3
    assert "cache_management_test_20250611_204804.json" in [f.name for f in feed.covered_files]
    assert sections["LIVE-SHADOW"].implemented_count == 0


def test_bands_judge_verification_not_coverage(doc, plan):
    m = build_render_model(doc, plan)
    # coverage figures are the document's; the band is judged on verified requirements and failures
    assert {c.id: c.percent for c in m.by_category}["api-data-sources"] == 89
    assert m.band_rows("well") == ()
    api = next(c for c in m.by_category if c.id == "api-data-sources")  # 8/9 covered, 6 verified, 1 partial
    assert api.band == "partial" and api.failing == ("PRE-FEED-07",)
    algo = next(c for c in m.by_category if c.id == "algorithm-validation")
    assert algo.band == "major" and "PRE-ALGO-09" in algo.failing_p1
    for c in m.by_category:
        members = [r for r in m.requirements if r.category == c.id]
        if any(r.status in ("fail", "error", "partial") for r in members):
            assert c.band != "well", c.id


def test_verification_rows_show_observed_against_expected(doc, plan):
    m = build_render_model(doc, plan)
    baseline = next(r for r in m.verification if r.id == "PRE-ALGO-09")
    accuracy = baseline.thresholds[0]
    assert (accuracy.metric, accuracy.expected, accuracy.observed, accuracy.passed) == (
        "accuracy", "> 75 %", "71.2 %", False)
    assert "below 75 %" in baseline.reason
    assert {r.id for r in m.verification} >= {"PRE-CONF-06", "PRE-FEED-07", "PRE-FEED-05"}


def test_recommendations_and_timeline_cover_every_open_requirement(doc, plan):
    m = build_render_model(doc, plan)
    gap_ids = {r.id for r in m.requirements if not r.implemented}
    open_ids = {r.id for r in m.requirements if r.status in ("fail", "error", "partial", "missing")}
    recommended = {i for rec in m.recommendations if rec.title.startswith("Implement")
                   for i in rec.requirement_ids}
    assert recommended == gap_ids
    assert m.recommendations[0].priority == "P1"
    assert [rec.priority for rec in m.recommendations] == sorted(rec.priority for rec in m.recommendations)
    fixes = {i for rec in m.recommendations if rec.title.startswith("Fix") for i in rec.requirement_ids}
    assert fixes == {"PRE-ALGO-09", "PRE-FEED-07", "PRE-CONF-06"}
    scheduled = [i for slot in m.timeline for i in slot.requirement_ids]
    assert sorted(scheduled) == sorted(open_ids)  # failing ones too, not only the unimplemented
    assert m.timeline[0].weeks == "Week 1-2"
    assert m.timeline[0].requirement_ids[0] in fixes  # failing P1s come first
    assert all(r.priority == "P1" for r in m.requirements if r.id in m.timeline[0].requirement_ids)
    assert any("Live Trading Operations" in w for w in m.assessment.weaknesses)
    assert any("PRE-ALGO-09" in w for w in m.assessment.weaknesses)


def test_unexpired_waiver_marks_failure_waived_never_pass(doc, plan):
    waiver = {"requirement_id": "PRE-ALGO-09", "approver": "J. Compliance",
              "reason": "baseline re-measured after data fix", "expires": "2026-12-31",
              "created": "2026-11-20T10:00:00Z"}
    m = build_render_model(doc, plan, waivers=[waiver])
    row = next(r for r in m.requirements if r.id == "PRE-ALGO-09")
    assert (row.status, row.recorded_status, row.verified) == ("waived", "fail", False)
    assert m.waivers[0].state == "applied"
    assert m.metrics.verified == 26 and m.metrics.waived == 1
    assert m.document["summary"]["by_status"]["waived"] == 1
    assert next(r for r in m.document["results"] if r["requirement_id"] == "PRE-ALGO-09")["waiver"][
        "approver"] == "J. Compliance"
    assert doc["results"][0].get("recorded_status") is None  # the caller's document is untouched


def test_expired_waiver_stops_applying_and_is_reported(doc, plan):
    waiver = {"requirement_id": "PRE-ALGO-09", "approver": "J. Compliance", "reason": "temporary",
              "expires": "2026-11-01"}
    m = build_render_model(doc, plan, waivers=[waiver])
    row = next(r for r in m.requirements if r.id == "PRE-ALGO-09")
    assert row.status == "fail"
    assert m.waivers[0].state == "expired"
    assert "expired" in m.waivers[0].state_label


def test_waiver_on_passing_requirement_is_not_needed(doc, plan):
    m = build_render_model(doc, plan, waivers=[{"requirement_id": "PRE-ALGO-03", "approver": "a",
                                                "reason": "r", "expires": "2030-01-01"}])
    assert m.waivers[0].state == "not-needed"
    assert m.waivers[0].state_label == "not needed (requirement passes)"
    assert m.metrics.verified == 26


def test_waiver_on_a_skipped_requirement_is_not_said_to_pass(doc, plan):
    """A skipped check (e.g. no API key) is not waivable; the label must not claim it passes
    (seen on freqtrade: PRE-FEED-02 skipped, its waiver shown 'requirement passes')."""
    doc = copy.deepcopy(doc)
    skipped = next(r for r in doc["results"] if r["requirement_id"] == "PRE-ALGO-09")
    skipped["status"] = "skipped"
    m = build_render_model(doc, plan, waivers=[{"requirement_id": "PRE-ALGO-09", "approver": "a",
                                                "reason": "r", "expires": "2030-01-01"}])
    assert m.waivers[0].state == "not-needed"
    assert "passes" not in m.waivers[0].state_label
    assert m.waivers[0].state_label.startswith("not applied (requirement skipped;")


@pytest.mark.parametrize("waiver, message", [
    ({"requirement_id": "NOPE-01", "approver": "a", "reason": "r", "expires": "2030-01-01"}, "NOPE-01"),
    ({"requirement_id": "PRE-ALGO-09", "reason": "r", "expires": "2030-01-01"}, "approver"),
    ({"requirement_id": "PRE-ALGO-09", "approver": "a", "reason": "r", "expires": "soon"}, "not an ISO date"),
])
def test_bad_waivers_are_named(doc, plan, waiver, message):
    with pytest.raises(ValueError, match=message):
        build_render_model(doc, plan, waivers=[waiver])


def test_changes_since_previous_run(doc, plan):
    previous = copy.deepcopy(doc)
    previous["run"]["id"] = "PREVIOUS"
    prev_results = {r["requirement_id"]: r for r in previous["results"]}
    prev_results["PRE-ALGO-09"]["status"] = "pass"      # now fails: newly failing
    prev_results["PRE-ALGO-03"]["status"] = "fail"      # now passes: newly passing
    previous["results"] = [r for r in previous["results"] if r["requirement_id"] != "AUD-08"]
    m = build_render_model(doc, plan, previous=previous)
    ch = m.changes
    assert [c.requirement_id for c in ch.newly_failing] == ["PRE-ALGO-09"]
    assert [c.requirement_id for c in ch.newly_passing] == ["PRE-ALGO-03"]
    assert ch.newly_passing[0].title == "Threshold enforcement (min_ev=15, min_probability=0.60, max_risk=150)"
    assert ch.added == ("AUD-08",) and ch.plan_changed and not ch.empty and not ch.incomparable
    # another plan version measures something else: not compared, and the report says why
    previous["run"]["plan"]["digest"] = "sha256:old"
    ch = build_render_model(doc, plan, previous=previous).changes
    assert "another version of the plan" in ch.incomparable
    assert not (ch.newly_failing or ch.newly_passing or ch.added)


def test_history_feeds_the_trend_chart(doc, plan):
    older = copy.deepcopy(doc)
    older["run"]["finished"] = "2026-11-18T18:00:00+00:00"
    older["summary"]["compliance_rate"] = 0.2  # the sample is a schema-1 document: its coverage's old name
    m = build_render_model(doc, plan, history=[older])
    assert [p.coverage_rate for p in m.history] == [0.2, doc["summary"]["compliance_rate"]]
    assert m.charts["trend"].startswith("<svg")
    assert build_render_model(doc, plan).charts["trend"] == ""


def test_document_without_plan_uses_its_own_titles(doc):
    for r in doc["results"]:
        r["title"] = f"title of {r['requirement_id']}"
    m = build_render_model(doc, None)
    assert m.requirements[0].title == "title of PRE-PIPE-01"
    assert m.phases[0].sections[0].title == "Core Trading Pipeline Validation"
    assert m.metrics.requirements == 94


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(schema_version="0"), "schema_version '0' is not supported"),
    (lambda d: d.pop("coverage"), "missing top-level field 'coverage'"),
    (lambda d: d["results"][3].update(status="great"), r"results\[3\] \(PRE-PIPE-04\) has unknown status"),
    (lambda d: d["summary"].update(implemented=50), "summary.implemented is 50"),
])
def test_bad_documents_are_refused_with_the_field_named(doc, plan, mutate, message):
    mutate(doc)
    with pytest.raises(ReportInputError, match=message):
        build_render_model(doc, plan)
