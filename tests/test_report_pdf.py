"""The PDF: counts, metadata, attached results, determinism, and what the pages look like.

Page images come from poppler's ``pdftoppm`` (Debian package ``poppler-utils``); without it
these tests fail and say so, because a PDF nobody looked at is not audit-ready.
"""
from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest

sys.path.insert(0, str(Path(__file__).parent / "data" / "report"))
import report_samples  # noqa: E402

from golive.report import build_render_model  # noqa: E402
from golive.report.analysis import document_bytes  # noqa: E402
from golive.report.pdf import render_pdf_bytes  # noqa: E402


@pytest.fixture(scope="module")
def model():
    doc = json.loads(report_samples.SAMPLE.read_text())
    waiver = {"requirement_id": "PRE-FEED-07", "approver": "Head of Trading",
              "reason": "budget raised to $250/month until the cache rollout",
              "expires": "2026-12-31", "created": "2026-11-20"}
    return build_render_model(doc, report_samples.reference_plan(), waivers=[waiver])


@pytest.fixture(scope="module")
def pdf(model):
    return render_pdf_bytes(model)


@pytest.fixture(scope="module")
def reader(pdf):
    return pypdf.PdfReader(io.BytesIO(pdf))


@pytest.fixture(scope="module")
def pages_text(reader):
    return [" ".join(page.extract_text().split()) for page in reader.pages]


def _page(pages_text, heading):
    return next(i for i, t in enumerate(pages_text) if heading in t and "Contents" not in t[:40])


def test_pdf_holds_the_same_counts_as_the_model(pages_text, model):
    text = " ".join(pages_text)
    k = model.metrics
    assert f"Test files implemented {k.test_files} distinct pytest files found" in text
    assert f"Test results generated {k.result_files} result files found" in text
    assert f"Coverage rate {k.compliance_percent}% {k.implemented} of {k.requirements} covered, passing or not" in text
    assert f"Verification rate {k.verification_percent}% {k.verified} of {k.requirements} pass" in text
    assert "MISSING: Pipeline orchestration timing (< 2 minutes) (PRE-PIPE-04)" in text
    assert text.count("MISSING:") == sum(len(s.missing) for p in model.phases for s in p.sections
                                         if s.implemented_count)
    assert "NOT IMPLEMENTED: no Shadow Trading Mode tests" in text


def test_pdf_has_toc_with_page_numbers_and_page_x_of_y(pages_text):
    total = len(pages_text)
    toc = pages_text[1]
    assert toc.startswith("Contents Executive Summary")
    for heading in ("Executive Summary", "Gap Summary by Category", "Evidence Appendix"):
        number = int(re.search(re.escape(heading) + r" ?\.+ ?(\d+)", toc).group(1))
        assert heading in pages_text[number - 1]
    for i, text in enumerate(pages_text[1:], start=2):
        assert f"Page {i} of {total}" in text
    assert "Page 1 of" not in pages_text[0]  # the cover has no running footer


def test_broken_tables_repeat_their_header(pages_text):
    header = "ID Required test Prio Status Covered by "
    continued = []
    for before, page in zip(pages_text, pages_text[1:]):
        if page.startswith(header):  # the page opens inside a table, with its header repeated
            first_id = re.match(re.escape(header) + r"([A-Z-]+)-\d+", page).group(1)
            if re.search(re.escape(first_id) + r"-\d+", before):
                continued.append(first_id)
    assert continued, "no requirement table breaks across pages with a repeated header"


def test_pdf_metadata_and_pdfa(reader, model):
    meta = reader.metadata
    assert meta.title == model.title
    assert meta.author.startswith("golive")
    assert meta["/CreationDate"].startswith("D:20261125180042")
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b'pdfaid:part="3" pdfaid:conformance="B"' in xmp  # PDF/A-3b
    assert "/OutputIntents" in reader.trailer["/Root"] and "/AF" in reader.trailer["/Root"]


def test_results_json_attachment_round_trips(reader, model, pages_text):
    attached = reader.attachments["results.json"][0]
    assert attached == document_bytes(model.document)
    statuses = {r["requirement_id"]: r["status"] for r in json.loads(attached)["results"]}
    assert statuses["PRE-FEED-07"] == "waived"
    appendix = next(t for t in pages_text if "How to verify" in t)
    assert model.evidence.results_sha256 in appendix.replace(" ", "")


def test_identical_inputs_give_identical_bytes(pdf, model):
    assert render_pdf_bytes(model) == pdf


def test_waiver_appears_with_approver_and_expiry(pages_text):
    text = " ".join(pages_text)
    assert "PRE-FEED-07 Head of Trading budget raised to $250/month until the cache rollout 2026-12-31 in force" in text


@pytest.fixture(scope="module")
def page_images(pdf, tmp_path_factory):
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.fail("pdftoppm not found: install poppler-utils (apt-get install -y poppler-utils) "
                    "to render the report pages to PNG")
    folder = tmp_path_factory.mktemp("pages")
    (folder / "report.pdf").write_bytes(pdf)
    subprocess.run([pdftoppm, "-r", "50", "-png", str(folder / "report.pdf"), str(folder / "page")],
                   check=True, timeout=120)
    return sorted(folder.glob("page-*.png"))


def _colour_pixels(png: Path, rgb: tuple[int, int, int], tolerance: int = 40) -> int:
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(png).convert("RGB"), dtype=int)
    return int((np.abs(pixels - np.array(rgb)).max(axis=2) <= tolerance).sum())


def test_pages_render_and_status_icons_are_visible(page_images, pages_text):
    assert len(page_images) == len(pages_text)
    phase_page = page_images[_page(pages_text, "Phase-by-Phase Gap Analysis")]
    # green pass and red gap icons are drawn (an empty-box glyph would be neither colour)
    assert _colour_pixels(phase_page, (46, 133, 64)) > 20
    assert _colour_pixels(phase_page, (198, 40, 40)) > 20


def test_identical_bytes_without_harfbuzz_subset(model, monkeypatch):
    """CI images without libharfbuzz-subset0 subset fonts with fontTools, which stamps the
    clock into each font; the renderer pins SOURCE_DATE_EPOCH to the run time so bytes
    still match when the clock has moved on between two renders."""
    import weasyprint.pdf.fonts as wp_fonts
    from fontTools.misc import timeTools

    monkeypatch.setattr(wp_fonts, "harfbuzz_subset", None)
    clock = iter([1_800_000_000.0, 1_800_000_999.0])
    monkeypatch.setattr(timeTools.time, "time", lambda: next(clock, 1_800_001_999.0))
    assert render_pdf_bytes(model) == render_pdf_bytes(model)
