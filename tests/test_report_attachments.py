"""Memos and attached files of attestations and waivers appear, with their sha256, in every report
format (issue 16.3): Markdown, HTML, PDF, JSON and JUnit -- escaped, so a hostile file name or memo
renders as text and never as markup -- and OSCAL (back-matter resources with SHA-256 hashes)."""
from __future__ import annotations

import io
import json
import sys
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pypdf
import pytest

sys.path.insert(0, str(Path(__file__).parent / "data" / "report"))
import report_samples  # noqa: E402

from golive.report import build_render_model  # noqa: E402
from golive.report.html import render_html  # noqa: E402
from golive.report.jsonfmt import validate_document, write_json  # noqa: E402
from golive.report.junit import render_junit  # noqa: E402
from golive.report.markdown import render_markdown  # noqa: E402
from golive.model import Outcome, Status  # noqa: E402
from golive.run.runner import add_supporting, attestation_detail  # noqa: E402
from enginehelpers import req  # noqa: E402
from test_hardening_markdown import assert_no_markup  # noqa: E402

HOSTILE = "memo <img src=x onerror=alert(1)> [x](javascript:y) |cell|.pdf"
SHA = {"memo": "a" * 64, "hostile": "b" * 64, "support": "c" * 64, "waiver": "d" * 64}
SOON = (date.today() + timedelta(days=30)).isoformat()


def _blob(path: str, sha: str, size: int) -> dict:
    """An attached file as `golive attest --file` records it in the ledger entry."""
    return {"path": path, "sha256": sha, "blob": sha, "size": size, "redacted": False, "role": "attestation"}


@pytest.fixture(scope="module")
def model():
    doc = json.loads(report_samples.SAMPLE.read_text())
    results = {r["requirement_id"]: r for r in doc["results"]}
    entry = {"attested_by": "Ada <b>Risk</b>", "role": "Head of Validation", "statement": "memo *reviewed* <i>x</i>",
             "time": "2026-11-30T10:00:00Z", "expires": None, "seq": 41, "author_key_id": "ab" * 32,
             "blobs": [_blob("validation-memo.txt", SHA["memo"], 1234), _blob(HOSTILE, SHA["hostile"], 5)]}
    results["PRE-PIPE-01"].setdefault("details", {})["attestation"] = attestation_detail(entry)
    outcome = Outcome(req("PRE-ALGO-01"), Status.PASS)
    add_supporting(outcome, [{**entry, "supporting": True, "statement": "dashboards reviewed", "seq": 42,
                              "blobs": [_blob("dashboard.png", SHA["support"], 99)]},
                             {**entry, "statement": "not supporting: ignored"}])
    results["PRE-ALGO-01"].setdefault("details", {}).update(outcome.details)
    waivers = [{"requirement_id": "PRE-ALGO-09", "approver": "Carl Comp", "reason": "fix lands next sprint",
                "expires": SOON, "created": "2026-11-30T09:00:00Z",
                "files": [{"path": "risk-acceptance.pdf", "sha256": SHA["waiver"], "size": 2048}]}]
    return build_render_model(doc, None, waivers=waivers)


def test_the_model_carries_each_attestations_memo_and_files(model):
    by_req = {(a.requirement_id, a.supporting): a for a in model.attestations}
    manual = by_req[("PRE-PIPE-01", False)]
    assert manual.statement == "memo *reviewed* <i>x</i>" and manual.seq == 41
    assert [(f["path"], f["sha256"], f["size"]) for f in manual.files] == [
        ("validation-memo.txt", SHA["memo"], 1234), (HOSTILE, SHA["hostile"], 5)]
    supporting = by_req[("PRE-ALGO-01", True)]
    assert supporting.statement == "dashboards reviewed" and supporting.files[0]["sha256"] == SHA["support"]
    assert len(model.attestations) == 2  # an attestation without --supporting on a checked requirement is not one
    waiver, = model.waivers
    assert waiver.state == "applied" and waiver.files[0]["sha256"] == SHA["waiver"]


def test_markdown_lists_memos_and_files_with_digests_as_text(model):
    markdown = render_markdown(model)
    shown = "".join(assert_no_markup(markdown).text)
    for sha in SHA.values():
        assert f"sha256 {sha}" in shown
    assert HOSTILE in shown and "memo *reviewed* <i>x</i>" in shown and "dashboards reviewed" in shown
    assert "PRE-ALGO-09, waiver approved by Carl Comp: risk-acceptance.pdf — sha256 " + SHA["waiver"] in shown
    assert "1,234 bytes" in shown and "Supporting evidence:" in shown


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_html_lists_memos_and_files_with_digests_escaped(model):
    page = _Html()
    page.feed(render_html(model))
    assert "img" not in page.tags and "i" not in page.tags and "b" not in page.tags  # from evidence text
    shown = " ".join("".join(page.text).replace("\u200b", "").split())
    for sha in SHA.values():
        assert f"sha256 {sha}" in shown
    assert HOSTILE in shown and "memo *reviewed* <i>x</i>" in shown
    assert "PRE-ALGO-01, supporting attestation by Ada <b>Risk</b>: dashboard.png — sha256" in shown


def test_pdf_lists_the_files_with_digests(model):
    from golive.report.pdf import render_pdf_bytes

    pdf = render_pdf_bytes(model)
    text = " ".join(" ".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    for sha in SHA.values():
        assert sha in text.replace(" ", "")
    assert "validation-memo.txt" in text and "risk-acceptance.pdf" in text


def test_json_carries_the_files_with_digests_and_stays_valid(model, tmp_path):
    doc = json.loads(write_json(model, tmp_path / "r.json").read_text())
    validate_document(doc)
    results = {r["requirement_id"]: r for r in doc["results"]}
    assert [f["sha256"] for f in results["PRE-PIPE-01"]["details"]["attestation"]["files"]] == [SHA["memo"], SHA["hostile"]]
    supporting, = results["PRE-ALGO-01"]["details"]["supporting_attestations"]
    assert supporting["statement"] == "dashboards reviewed" and supporting["files"][0]["path"] == "dashboard.png"
    assert results["PRE-ALGO-09"]["waiver"]["files"] == [{"path": "risk-acceptance.pdf", "sha256": SHA["waiver"],
                                                          "size": 2048}]


def test_junit_properties_carry_memos_and_files(model):
    root = ET.fromstring(render_junit(model))
    props = {case.get("name").split()[0]: {p.get("name"): p.get("value") for p in case.iter("property")}
             for case in root.iter("testcase")}
    manual = props["PRE-PIPE-01"]
    assert manual["attestation_1"] == "attestation by Ada <b>Risk</b> (Head of Validation): memo *reviewed* <i>x</i>"
    assert manual["attestation_1_file_1"] == f"validation-memo.txt sha256={SHA['memo']} size=1234"
    assert manual["attestation_1_file_2"] == f"{HOSTILE} sha256={SHA['hostile']} size=5"
    assert props["PRE-ALGO-01"]["attestation_1"].startswith("supporting attestation by")
    assert props["PRE-ALGO-09"]["waiver_memo"] == "Carl Comp: fix lands next sprint"
    assert props["PRE-ALGO-09"]["waiver_file_1"] == f"risk-acceptance.pdf sha256={SHA['waiver']} size=2048"


def test_oscal_points_at_each_attached_file_by_its_hash(model):
    from golive.report.oscal import assessment_results

    ar = assessment_results(model)["assessment-results"]
    resources = {r["uuid"]: r for r in ar["back-matter"]["resources"]}
    observations = {o["title"].split()[0]: o for o in ar["results"][0]["observations"]}

    def attached(rid: str) -> dict[str, str]:
        found = {}
        for ev in observations[rid].get("relevant-evidence", []):
            res = resources.get(ev.get("href", "#")[1:])
            if res and {"name": "evidence-kind", "value": "attached file"}.items() <= res["props"][0].items():
                found[res["rlinks"][0]["hashes"][0]["value"]] = ev["description"]
        return found

    manual = attached("PRE-PIPE-01")
    assert set(manual) == {SHA["memo"], SHA["hostile"]}
    assert manual[SHA["memo"]].startswith("attestation by Ada <b>Risk</b> (memo *reviewed* <i>x</i>): validation-memo.txt")
    assert list(attached("PRE-ALGO-01").values())[0].startswith("supporting attestation by")
    assert list(attached("PRE-ALGO-09")) == [SHA["waiver"]]
    try:  # compliance-trestle (dev extra) validates the document against the OSCAL models
        from trestle.oscal.assessment_results import AssessmentResults
    except ImportError:
        return
    AssessmentResults.model_validate(ar)
