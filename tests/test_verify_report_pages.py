"""`golive evidence verify-report` checks what the PDF's pages show, not only its attachments
(issue 15.4; golive.ledger.pdf_pages): a report rendered from forged results and then given the
genuine results.json and proof bundle is refused, and so is one whose pages print another
results.json sha256. The degraded demo is used so that the forgery has failures to hide."""
from __future__ import annotations

import io
import json
import re
from collections import Counter
from pathlib import Path

import pypdf
import pytest
from click.testing import CliRunner

from golive.cli import cli
from golive.ledger.pdf_pages import FIGURES_LINE, _wrapped, check_pages
from golive.plan import load as load_plan
from golive.report.proof import BUNDLE_ATTACHMENT
from golive.report.render import render
from golive.run.readiness import refresh_summary
from tamper_summary import tamper_case
from test_report_bundle import attachments, with_replaced
from tlogcli import invoke


def golive(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    d = tmp_path_factory.mktemp("demo") / "demo"
    done = golive("demo", "--profile", "degraded", d)
    assert done.exit_code == 0, done.output
    vkey = next(line.split()[0] for line in invoke("keys", "vkey", "--store", d / "evidence").output.splitlines()
                if "active" in line)
    return {"dir": d, "pdf": d / "golive-report.pdf", "vkey": vkey, "files": attachments(d / "golive-report.pdf")}


def verify_report(pdf: Path, vkey: str, *options: str):
    return invoke("evidence", "verify-report", pdf, "--trusted-key", vkey, *options)


def forged(results: bytes) -> dict:
    """The run's results with every failing or partial requirement passing, figures and verdict
    recomputed, as an attacker would write them."""
    doc = json.loads(results)
    for r in doc["results"]:
        if r["status"] in ("fail", "partial", "error"):
            r["status"], r["implemented"] = "pass", True
    applicable = [r for r in doc["results"] if not r.get("not_applicable")]
    summary = doc["summary"]
    summary["by_status"] = {k: 0 for k in summary["by_status"]} | Counter(r["status"] for r in doc["results"])
    summary["verified"] = sum(r["status"] == "pass" for r in applicable)
    summary["implemented"] = sum(bool(r.get("implemented")) for r in applicable)
    refresh_summary(doc)
    return doc


def with_genuine_attachments(pdf: Path, files: dict[str, bytes], out: Path) -> Path:
    """``pdf`` with its results.json replaced by the genuine one and the genuine proof bundle added."""
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(with_replaced(pdf, "results.json", files["results.json"], out)))
    writer.add_attachment(BUNDLE_ATTACHMENT, files[BUNDLE_ATTACHMENT])
    buffer = io.BytesIO()
    writer.write(buffer)
    out.write_bytes(buffer.getvalue())
    return out


def test_the_demo_pdf_pages_match_its_attachments(demo):
    doc = json.loads(demo["files"]["results.json"])
    assert doc["summary"]["by_status"]["fail"] > 0  # the degraded run: there is something to hide
    ok = verify_report(demo["pdf"], demo["vkey"])
    assert ok.exit_code == 0, ok.output
    assert (f"the pages' readiness verdict, figures, results.json sha256 (2x) and {len(doc['results'])} "
            "requirement statuses match the attached results") in ok.output


def test_a_report_rendered_from_forged_results_with_the_genuine_attachments_is_refused(demo, tmp_path):
    files = demo["files"]
    forged_json = tmp_path / "forged.json"
    forged_json.write_text(json.dumps(forged(files["results.json"]), indent=1))
    empty = tmp_path / "no-store"
    empty.mkdir()
    done = golive("report", forged_json, "--store", empty, "-o", tmp_path / "forged.pdf")
    assert done.exit_code == 0, done.output
    swapped = with_genuine_attachments(tmp_path / "forged.pdf", files, tmp_path / "swapped.pdf")
    assert attachments(swapped) == files  # byte for byte what the genuine PDF carries
    only = verify_report(swapped, demo["vkey"], "--attachments-only")
    assert only.exit_code == 0 and "the pages were NOT checked" in only.output, only.output
    result = verify_report(swapped, demo["vkey"])
    tamper_case("report PDF rendered from forged results, genuine attachments added", result.exit_code == 1)
    assert result.exit_code == 1 and "the pages do not show what the attached results.json gives" in result.output
    doc = json.loads(files["results.json"])
    first = next(r for r in doc["results"] if r["status"] in ("fail", "partial"))  # the first row listed
    fails = doc["summary"]["by_status"]["fail"]
    for expected in ('"NOT verified against a ledger"', "the pages print results.json sha256",
                     f"the Figures line says fail 0, the attached results give {fails}",
                     f"the status-count table", f"failing 0 of {len(doc['results'])}",
                     f"{first['requirement_id']}: the requirement table says pass, the attached results give {first['status']}"):
        assert expected in " ".join(result.output.split()), (expected, result.output)
    total = int(re.search(r"\((\d+) difference\(s\)\)", result.output)[1])
    assert total > 20 and f"and {total - 20} more" in result.output  # every status was compared, 20 shown


def test_pages_printing_another_results_sha256_are_refused(demo, tmp_path):
    """Rendered straight from a results document that differs from the attachment only in a
    reason the pages do not print (a passing result's): no "NOT verified" line, every figure,
    status and compared text the same; only the printed sha256 tells."""
    files = demo["files"]
    doc = json.loads(files["results.json"])
    next(r for r in doc["results"] if r.get("reason") and r["status"] == "pass" and not r.get("thresholds"))[
        "reason"] += " (checked by hand)"
    rendered = render("pdf", doc, tmp_path / "reworded.pdf", plan=load_plan(),
                      proof_bundle=json.loads(files[BUNDLE_ATTACHMENT]))
    pdf = with_replaced(rendered, "results.json", files["results.json"], tmp_path / "relabelled.pdf")
    result = verify_report(pdf, demo["vkey"])
    tamper_case("report PDF whose pages print another results.json sha256", result.exit_code == 1)
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert "(1 difference(s))" in text and "the pages were rendered from another results document" in text, text
    assert "NOT verified" not in text and "Figures line" not in text and "requirement table" not in text


def test_a_page_without_the_figures_line_is_not_taken_as_matching(demo, tmp_path):
    """An old-style report (no Figures line in the appendix) is refused with the way out named."""
    files = demo["files"]
    reader = pypdf.PdfReader(demo["pdf"])
    writer = pypdf.PdfWriter(clone_from=reader)
    appendix = next(i for i, page in enumerate(reader.pages) if FIGURES_LINE.search(" ".join(page.extract_text().split())))
    writer.remove_page(appendix)  # the page that carries the line (and the appendix's sha256)
    buffer = io.BytesIO()
    writer.write(buffer)
    (tmp_path / "cut.pdf").write_bytes(buffer.getvalue())
    assert attachments(tmp_path / "cut.pdf") == files
    result = verify_report(tmp_path / "cut.pdf", demo["vkey"])
    assert result.exit_code == 1 and "no Figures line" in result.output and "--attachments-only" in result.output


def test_a_printed_reason_that_differs_from_the_attachment_is_named(demo, tmp_path):
    """The rendering comparison (golive.ledger.pdf_rendering): a failing requirement's reason,
    printed in the verification table, reworded in the pages is named with its section."""
    files = demo["files"]
    doc = json.loads(files["results.json"])
    failing = next(r for r in doc["results"] if r["status"] == "fail" and r.get("reason"))
    failing["reason"] = "within tolerance after review"
    rendered = render("pdf", doc, tmp_path / "reworded.pdf", plan=load_plan())
    pdf = with_replaced(rendered, "results.json", files["results.json"], tmp_path / "relabelled.pdf")
    problems = check_pages(pypdf.PdfReader(pdf), files["results.json"]).problems
    tamper_case("report PDF whose pages print another reason for a failing requirement",
                any(p.startswith('"Verification Results": the pages show') and "withintoleranceafterreview" in p
                    for p in problems))
    assert any(p.startswith('"Verification Results": the pages show') and "withintoleranceafterreview" in p
               for p in problems), problems


def test_a_waived_requirement_is_compared_with_its_effective_status(demo, tmp_path):
    """Waivers applied when rendering make a failing requirement "waived" in the pages and the
    attachment alike; the genuine pages (it fails there) do not match that attachment."""
    doc = json.loads(demo["files"]["results.json"])
    failing = next(r for r in doc["results"] if r["status"] == "fail")
    waiver = {"requirement_id": failing["requirement_id"], "approver": "Ada Risk", "reason": "accepted risk",
              "expires": "2099-01-01", "created": "2026-12-01"}
    waived_pdf = render("pdf", doc, tmp_path / "waived.pdf", plan=load_plan(), waivers=[waiver])
    waived_results = attachments(waived_pdf)["results.json"]
    check = check_pages(pypdf.PdfReader(waived_pdf), waived_results)
    assert check.problems == [] and check.statuses == len(doc["results"])
    relabelled = with_replaced(demo["pdf"], "results.json", waived_results, tmp_path / "relabelled.pdf")
    problems = check_pages(pypdf.PdfReader(relabelled), waived_results).problems
    assert f"{failing['requirement_id']}: the requirement table says fail, the attached results give waived" in problems
    assert any(p.startswith("the Figures line says waived 0, the attached results give 1") for p in problems)


def test_identifiers_may_wrap_after_a_hyphen():
    assert re.search(_wrapped("LIVE-LIMITED-01"), "x LIVE- LIMITED-01 y")
    assert not re.search(_wrapped("LIVE-LIMITED-01"), "LIVE LIMITED-01")
    line = "Figures readiness NOT READY · pass 73 · fail 6 · covered 98 of 100 · verified 73 of 100 Ledger check"
    found = FIGURES_LINE.search(line)
    assert found["state"] == "NOT READY" and found["items"].endswith("verified 73 of 100")


SMALL_REPORT = ('<html><body><h1 id="verification">Verification Results</h1><table><thead><tr><th>Requirement</th>'
                '<th>Status</th></tr></thead><tbody><tr><td>A-1</td><td>pass</td></tr><tr><td>A-2</td><td>fail: '
                'two <strong>breaches</strong></td></tr></tbody></table><div class="chart"><svg xmlns='
                '"http://www.w3.org/2000/svg"><text>Coverage by phase</text><text>50%</text></svg></div>'
                '<h1 id="evidence">Evidence Appendix</h1><p>ledger check: anything</p></body></html>')


@pytest.mark.parametrize("lines, differs", [
    (["Verification Results", "Requirement Status A-1 pass", "Requirement Status", "A-2 fail: two", "breaches",
      "Coverage by phase 50%", "Evidence Appendix", "ledger check: something else"], None),
    (["Verification Results", "Coverage by phase 50%", "Requirement Status A-1 pass A-2 fail: two breaches",
      "Evidence Appendix"], None),
    (["Verification Results", "Requirement Status A-1 pass A-2 pass", "Evidence Appendix"], 'show "pass" where the attached results give "fail:twobreaches"'),
    (["Verification Results", "Requirement Status A-1 pass A-2 fail: two breaches A-3 pass", "Evidence Appendix"],
     'more than the attached results give: "A-3pass"'),
    (["Verification Results", "Requirement Status A-1 pass note A-2 fail: two breaches", "Evidence Appendix"],
     '"noteA-2fail'),
    (["Requirement Status A-1 pass A-2 fail: two breaches", "Evidence Appendix"], 'no "Verification Results" section'),
])
def test_a_section_matches_block_for_block_with_only_repeated_headers_and_charts_between(lines, differs):
    from golive.ledger.pdf_rendering import compare
    problems, matched = compare(lines, SMALL_REPORT)
    if differs is None:
        assert problems == [] and matched == 6  # 2 header cells, 2 rows of 2 cells; the evidence section unread
    else:
        assert len(problems) == 1 and differs in problems[0], problems


def test_a_report_of_a_run_with_its_own_plan_is_compared_with_that_plan(tmp_path):
    """A run on a firm's own plan copy: without it the pages cannot be re-rendered (exit 1, saying
    to give --plan); with --plan DIR they match."""
    import shutil

    plan = tmp_path / "plan"
    shutil.copytree(Path(__file__).parents[1] / "requirements", plan)
    text = (plan / "plan.yaml").read_text()
    (plan / "plan.yaml").write_text(re.sub(r"(?m)^(\s*version:\s*).*$", r"\g<1>'9.1'", text, count=1))
    store, pdf = tmp_path / "evidence", tmp_path / "r.pdf"
    ws = Path(__file__).parent / "fixtures" / "reference-workspace"
    res = golive("run", "--target", ws, "--plan", plan, "--store", store, "--only", "PRE-PIPE", "-q",
                 "--report", pdf)
    assert res.exit_code in (0, 1), res.output
    vkey = next(line.split()[0] for line in invoke("keys", "vkey", "--store", store).output.splitlines()
                if "active" in line)
    without = verify_report(pdf, vkey)
    assert without.exit_code == 1 and "it is not the packaged plan" in without.output, without.output
    with_plan = verify_report(pdf, vkey, "--plan", str(plan))
    assert with_plan.exit_code == 0 and "text blocks" in with_plan.output, with_plan.output
