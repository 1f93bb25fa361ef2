"""Figures that mean one thing (issue 14.2): covered / verified / failing, bands on verification,
the same figures and verdict in the RunReport, the JSON document and the console headline."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from golive.cli import out
from golive.cli_run import print_summary
from golive.model import Outcome, Status, Target
from golive.report.jsonfmt import validate_document
from golive.results import SCHEMA_VERSION, build_document
from golive.run import readiness, scoring
from golive.run.runner import RunOptions, run_plan

from enginehelpers import FakeChecks, make_host, make_plan, req
from test_report_truth import documents

STATUSES = [s for s in Status if s is not Status.WAIVED]


@st.composite
def outcomes(draw):
    n = draw(st.integers(min_value=1, max_value=25))
    reqs = [req(f"R-{i:02d}", priority=draw(st.sampled_from(["P1", "P2", "P3"])),
                category=draw(st.sampled_from(["cat-a", "cat-b"])), manual=draw(st.booleans()))
            for i in range(n)]
    outs = []
    for r in reqs:
        status = draw(st.sampled_from(STATUSES))
        linked = draw(st.booleans())
        outs.append(Outcome(r, status, reason=f"why {r.id}", covered_by=["t::x"] if linked else [],
                            implemented=linked or status in (Status.PASS, Status.FAIL, Status.PARTIAL),
                            not_applicable="tailored" if status is Status.SKIPPED and draw(st.booleans()) else ""))
    return make_plan(reqs), outs


@settings(max_examples=200, deadline=None)
@given(outcomes())
def test_figures_partition_the_applicable_requirements_and_bands_never_hide_failures(case):
    plan, outs = case
    rows = [readiness.outcome_row(o) for o in outs]
    f = readiness.figures(rows)
    assert f["verified"] + f["waived"] + f["failing"] + f["partial"] + f["missing"] + f["skipped"] == f["applicable"]
    assert f["applicable"] + f["not_applicable"] == f["selected"] == len(outs)
    assert f["verified"] <= f["covered"] <= f["applicable"]
    s = scoring.summary(outs)
    assert (s["covered"], s["verified"], s["coverage_rate"], s["verification_rate"]) == \
        (f["covered"], f["verified"], f["coverage_rate"], f["verification_rate"])
    assert s["compliance_rate"] == s["coverage_rate"]  # the deprecated alias, nothing else
    for group in scoring.coverage_by_category(plan, outs) + scoring.coverage_by_priority(plan, outs):
        if group["failing"] or group["partial"]:
            assert group["band"] != "well", group
        members = [o for o in outs if o.requirement.id in group["failing_ids"]]
        if any(o.requirement.priority == "P1" for o in members):
            assert group["band"] == "major", group
        assert group["band"] == "major" or group["verification_rate"] >= plan.bands["partial"]
    v = readiness.verdict(rows, readiness.Policy(), signed=True)
    applicable = [o for o in outs if not o.not_applicable]
    if v["state"] == readiness.READY:
        assert not any(o.status in (Status.FAIL, Status.ERROR) for o in applicable)
        assert all(o.status is Status.PASS for o in applicable if o.requirement.priority == "P1")
    blocking = {o.requirement.id for o in applicable if o.status in (Status.FAIL, Status.ERROR)}
    assert blocking <= set(v["blocking"])
    assert (v["state"] == readiness.NOT_READY) == bool(v["blocking"])


def test_a_fully_covered_category_with_little_verified_is_a_major_gap():
    reqs = [req(f"A-{i:02d}") for i in range(10)]
    outs = [Outcome(r, Status.PASS if i < 2 else Status.FAIL, implemented=True) for i, r in enumerate(reqs)]
    (cat,) = scoring.coverage_by_category(make_plan(reqs), outs)
    assert (cat["rate"], cat["verification_rate"], cat["band"]) == (1.0, 0.2, "major")
    assert cat["failing"] == 8 and cat["failing_ids"][0] == "A-02"
    nine = [Outcome(r, Status.PASS if i else Status.ERROR, implemented=True) for i, r in enumerate(reqs)]
    assert scoring.coverage_by_category(make_plan(reqs), nine)[0]["band"] == "major"  # 90 % but a P1 errors
    p2 = [req(f"B-{i:02d}", priority="P2" if i == 0 else "P1") for i in range(10)]
    nine_p2 = [Outcome(r, Status.PASS if i else Status.ERROR, implemented=True) for i, r in enumerate(p2)]
    assert scoring.coverage_by_category(make_plan(p2), nine_p2)[0]["band"] == "partial"  # 90 % but a P2 errors


def _report(tmp_path: Path):
    reqs = [
        req("A-01", check=("fake", "metrics"), params={"metrics": {"cost": 3}}, thresholds=[("cost", "<=", 8, "USD")]),
        req("A-02", check=("fake", "metrics"), params={"metrics": {"cost": 30}}, thresholds=[("cost", "<=", 8, "USD")]),
        req("A-03", priority="P2", check=("fake", "metrics"), params={"metrics": {"cost": 3, "uptime": 90}},
            thresholds=[("cost", "<=", 8, "USD"), ("uptime", ">=", 99.9, "%")]),
        req("A-04", check=("fake", "observed"), params={"observed": {"events": 0, "what": "limit breaches"},
                                                       "metrics": {}}),
        req("M-01", priority="P2", manual=True),
    ]
    return run_plan(make_plan(reqs), Target(root=tmp_path), make_host(FakeChecks()), RunOptions())


def test_report_document_and_console_say_the_same(tmp_path):
    report = _report(tmp_path)
    doc = build_document(report)
    validate_document(doc)
    assert doc["schema_version"] == SCHEMA_VERSION == "2"
    assert doc["summary"]["figures"] == report.figures
    assert doc["summary"]["verdict"] == report.verdict
    f = report.figures
    assert (f["covered"], f["verified"], f["failing"], f["partial"], f["missing"]) == (3, 1, 1, 1, 2)
    v = report.verdict
    assert v["state"] == "NOT READY" and v["blocking"] == ["A-02", "A-04"]
    assert v["reasons"][1] == "A-04 (P1) unverified: not exercised: no limit breaches in the period"
    a04 = next(r for r in doc["results"] if r["requirement_id"] == "A-04")
    assert a04["observed"] == {"events": 0, "what": "limit breaches"} and a04["covered"] is False

    with out.capture() as captured:
        print_summary(doc)
    text = captured.get()
    lines = text.splitlines()
    assert lines[0] == "verdict: NOT READY (2 blocking, 1 pending)"
    assert "compliance" not in text.lower()
    assert "requirements 5  covered 3 (60.0%)  verified 1 (20.0%)  failing 1  partial 1  missing 2" in text
    assert any(line.split()[:3] == ["fail", "A-02", "(P1)"] and "cost = 30 USD" in line for line in lines)
    assert any(line.split()[:3] == ["partial", "A-03", "(P2)"] and "uptime = 90 %" in line for line in lines)
    assert "  A-04 (P1) unverified: not exercised" in text  # a blocker not in the failing lists
    assert "  M-01 (P2) awaits a signed attestation" in text
    assert "  unsigned: no signed evidence ledger" in text


def test_provenance_is_in_the_run_and_never_fails_it(tmp_path, monkeypatch):
    report = _report(tmp_path)  # tmp_path is no git repository
    prov = report.run["provenance"]
    assert prov["git"] == {"error": "not a git repository"} and prov["user"] and prov["host"]
    validate_document(build_document(report))

    import golive.run.provenance as provenance_module

    def broken(_root):
        raise PermissionError("cannot read /etc/passwd")

    monkeypatch.setattr(provenance_module, "provenance", broken)
    report = _report(tmp_path)
    assert report.run["provenance"] == {"error": "provenance unavailable (PermissionError: cannot read /etc/passwd)"}
    assert len(report.outcomes) == 5


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_console_carries_the_verdict_and_figures_of_every_other_format(doc):
    """The console leg of test_report_truth's property (JSON, Markdown, HTML, JUnit, OSCAL, PDF):
    the verdict line and the figures line say what summary.verdict and summary.figures say, and
    every failing or partial requirement is listed."""
    f, v = doc["summary"]["figures"], doc["summary"]["verdict"]
    doc.setdefault("warnings", [])  # written by every run; the generated documents leave it out
    with out.capture() as captured:
        print_summary(doc)
    lines = captured.get().splitlines()
    assert lines[0].split(" (")[0] == f"verdict: {v['state']}"
    figures = next(line for line in lines if line.startswith("requirements "))
    shown = dict(re.findall(r"(\w+) (\d+)", figures))
    assert int(shown["requirements"]) == f["applicable"]
    for key in ("covered", "verified", "waived", "failing", "partial", "missing", "skipped"):
        assert int(shown.get(key, 0)) == f[key], (key, figures)
    listed = {m.group(1) for m in (re.match(r"  (?:fail|error|partial) +(\S+) \(P\d\)", line) for line in lines) if m}
    assert listed == {r["requirement_id"] for r in doc["results"] if r["status"] in ("fail", "error", "partial")}
    assert "compliance" not in captured.get().lower()


def test_a_run_with_tailored_out_requirements_renders_in_every_format(tmp_path):
    """Tailored-out requirements are listed but counted in no figure; the report used to refuse
    such a run ("summary.requirements is 92 but the results list gives 94")."""
    from golive.plan.tailoring import load_tailoring
    from golive.report import build_render_model, render

    (tmp_path / "t.yaml").write_text("overrides:\n  - requirement: A-02\n    not_applicable: no costs in staging\n")
    tailoring = load_tailoring(tmp_path / "t.yaml")
    reqs = [req("A-01", check=("fake", "metrics"), params={"metrics": {"cost": 3}},
                thresholds=[("cost", "<=", 8, "USD")]),
            req("A-02", check=("fake", "metrics"), params={"metrics": {"cost": 30}},
                thresholds=[("cost", "<=", 8, "USD")]),
            req("A-03", priority="P2")]
    report = run_plan(make_plan(reqs), Target(root=tmp_path), make_host(FakeChecks()), RunOptions(tailoring=tailoring))
    doc = build_document(report, tailoring=tailoring.summary())
    validate_document(doc)
    assert (doc["summary"]["figures"]["applicable"], doc["summary"]["figures"]["not_applicable"]) == (2, 1)
    m = build_render_model(doc)
    assert (m.metrics.requirements, m.metrics.implemented, m.metrics.verified) == (2, 1, 1)
    assert m.figures.headline.startswith("covered 1 of 2 · verified 1 · failing 0")
    assert m.scope.text.endswith("; 1 tailored out as not applicable") and m.verdict.state == "INCOMPLETE"
    for fmt, name in (("json", "r.json"), ("md", "r.md"), ("html", "r.html"), ("junit", "r.xml"),
                      ("oscal", "r.oscal.json")):
        text = render(fmt, m, tmp_path / name).read_text()
        assert "INCOMPLETE" in text, fmt  # nothing fails; the run is unsigned


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) not installed")
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents().filter(lambda d: any(r["status"] in ("fail", "error", "partial") for r in d["results"])))
def test_pdf_narrative_never_calls_a_failing_category_strong(doc):
    """The PDF leg of test_report_truth's narrative property (few examples: a PDF takes seconds)."""
    import tempfile

    from golive.report import build_render_model, render

    m = build_render_model(doc)
    with tempfile.TemporaryDirectory() as folder:
        pdf = render("pdf", m, Path(folder) / "r.pdf")
        text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                                       check=True).stdout.split())
    assert "no weakness" not in text.lower() and "No category falls below" not in text
    assert "Every category is well covered" not in text
    strengths = text.split("Strengths")[1].split("Weaknesses")[0] if "Strengths" in text else ""
    for c in m.by_category:
        if any(r.status in ("fail", "error", "partial") for r in m.requirements if r.category == c.id):
            assert f"{c.title}:" not in strengths, c.title
            assert f"• {c.title}: " in text.split("Weaknesses")[1], c.title


def test_a_waived_failure_grades_its_group_alike_on_the_console_and_in_the_reports(tmp_path):
    from golive.cli_run import apply_waivers_to_document
    from golive.report import build_render_model

    reqs = [req(f"A-{i:02d}", check=("fake", "metrics"), params={"metrics": {"cost": 30 if i == 0 else 3}},
                thresholds=[("cost", "<=", 8, "USD")]) for i in range(5)]
    report = run_plan(make_plan(reqs), Target(root=tmp_path), make_host(FakeChecks()), RunOptions())
    doc = build_document(report)
    (group,) = doc["coverage"]["by_category"]
    assert (group["band"], group["failing_ids"]) == ("major", ["A-00"])  # a failing P1
    waiver = {"requirement_id": "A-00", "approver": "Ada Risk", "reason": "vendor fix due 2026-12-15",
              "expires": "2099-12-31", "created": "2026-11-20T10:00:00+00:00"}
    assert apply_waivers_to_document(doc, [waiver], report.plan.bands) == 0  # passes or waived
    (group,) = doc["coverage"]["by_category"]
    (reported,) = build_render_model(doc).by_category
    assert group["band"] == reported.band == "well" and group["failing"] == 0 and group["failing_ids"] == []
    assert group["verified"] == 4  # a waiver never verifies
    with out.capture() as captured:
        print_summary(doc)
    assert "well verified" in captured.get() and "major gap" not in captured.get()
