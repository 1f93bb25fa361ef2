"""Confirmed vs suggested links, and "additional tests" by path, in the run and every report format.

Only confirmed links (marker, reviewed map file, plan covered_by glob) count as implemented.
Suggested links (link recovery) are shown in their own column and in an "if confirmed" figure
beside -- never inside -- the headline. Additional tests are listed by file path with the count
of the file's tests that cover nothing; a test covering something is never counted there.
"""
from __future__ import annotations

import copy
import io
import re
import json
import sys
from pathlib import Path

import pypdf
import pytest

sys.path.insert(0, str(Path(__file__).parent / "data" / "report"))
import report_samples  # noqa: E402

from golive import model as gmodel  # noqa: E402
from golive.plugins.traceability.suggest import Suggestion  # noqa: E402
from golive.report import build_render_model  # noqa: E402
from golive.report.analysis import additional_files  # noqa: E402
from golive.report.html import render_html  # noqa: E402
from golive.report.jsonfmt import validate_document, write_json  # noqa: E402
from golive.report.markdown import render_markdown  # noqa: E402
from golive.results import additional_test_files  # noqa: E402

SUGGESTIONS = [
    # two missing requirements gain a counted (high / medium, top-1) suggestion
    Suggestion("PRE-PIPE-04", "tests/pipeline/test_timing.py::test_end_to_end", "tests/pipeline/test_timing.py",
               0.91, "high", ("pipeline", "timing"), 1),
    Suggestion("LIVE-SHADOW-01", "tests/shadow/test_shadow.py::test_mirror", "tests/shadow/test_shadow.py",
               0.55, "medium", ("shadow",), 1),
    # second-best candidate and a low band: shown, never counted
    Suggestion("PRE-PIPE-04", "tests/shadow/test_shadow.py::test_mirror", "tests/shadow/test_shadow.py",
               0.40, "medium", ("pipeline",), 2),
    Suggestion("RISK-01", "tests/misc/test_misc.py::test_x", "tests/misc/test_misc.py", 0.1, "low", ("risk",), 1),
]


def _sample() -> dict:
    return json.loads(report_samples.SAMPLE.read_text())


def _with_suggestions(doc: dict) -> dict:
    doc = copy.deepcopy(doc)
    by_req: dict[str, list[dict]] = {}
    for s in SUGGESTIONS:
        by_req.setdefault(s.requirement_id, []).append(s.as_dict())
    for r in doc["results"]:
        r["suggested"] = by_req.get(r["requirement_id"], [])
    return doc


@pytest.fixture(scope="module")
def plan():
    return report_samples.reference_plan()


@pytest.fixture(scope="module")
def plain(plan):
    return build_render_model(_sample(), plan)


@pytest.fixture(scope="module")
def suggested(plan):
    return build_render_model(_with_suggestions(_sample()), plan)


def test_suggestions_never_change_the_headline(plain, suggested):
    assert plain.metrics == suggested.metrics
    assert suggested.if_confirmed is not None and plain.if_confirmed is None
    ic = suggested.if_confirmed
    implemented = {r.id for r in suggested.requirements if r.implemented}
    assert {"PRE-PIPE-04", "LIVE-SHADOW-01"}.isdisjoint(implemented)
    assert ic.implemented == suggested.metrics.implemented + 2
    assert ic.requirements == suggested.metrics.requirements == 94
    assert ic.suggested_links == 2 and ic.new_requirements == 2  # rank 2 and low band not counted
    assert dict(ic.by_band) == {"high": 1, "medium": 1}
    headline = [line for line in render_markdown(plain).splitlines() if "**Compliance Rate**" in line]
    assert headline == [line for line in render_markdown(suggested).splitlines() if "**Compliance Rate**" in line]


def test_markdown_shows_suggested_links_apart(suggested, plain):
    text = render_markdown(suggested)
    ic = suggested.if_confirmed
    executive = text.split("## Phase-by-Phase")[0]
    assert f"If confirmed: {ic.implemented} of 94 requirements" in executive
    assert "suggested by text similarity, not yet confirmed by the team" in executive
    phases = text.split("## Phase-by-Phase")[1].split("## Gap Summary")[0]
    assert "**Suggested (unconfirmed)**" in phases
    assert "- 💡 PRE-PIPE-04 " in phases and "tests/pipeline/test_timing.py (high)" in phases
    assert "tests/misc/test_misc.py (low)" in phases  # shown, though not counted
    assert "Suggested (unconfirmed)" not in render_markdown(plain)
    assert "If confirmed" not in render_markdown(plain)


def test_html_has_a_suggested_column_only_when_there_are_suggestions(suggested, plain):
    html = render_html(suggested).replace("<wbr>", "")  # identifiers carry break points
    assert "<th>Covered by (confirmed)</th><th>Suggested (unconfirmed)</th>" in html
    assert "tests/pipeline/test_timing.py (high)" in html
    assert f"{suggested.if_confirmed.implemented} of 94" in html
    assert "not yet confirmed by the team" in html
    bare = render_html(plain)
    assert "Suggested (unconfirmed)" not in bare and "If confirmed" not in bare


def test_json_keeps_suggestions_and_validates(suggested, tmp_path):
    out = write_json(suggested, tmp_path / "r.json")
    doc = json.loads(out.read_text())
    pipe = next(r for r in doc["results"] if r["requirement_id"] == "PRE-PIPE-04")
    assert [s["band"] for s in pipe["suggested"]] == ["high", "medium"]
    assert pipe["implemented"] is False


def test_pdf_shows_the_suggested_column_and_figure(suggested):
    from golive.report.pdf import render_pdf_bytes

    reader = pypdf.PdfReader(io.BytesIO(render_pdf_bytes(suggested)))
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    assert "Suggested (unconfirmed)" in text
    assert f"If confirmed {suggested.if_confirmed.implemented} of 94" in text
    # identifiers wrap at _ . / - only: rejoin the line breaks the narrow column put there
    assert "test_timing.py (high)" in re.sub(r"(?<=[_./-]) ", "", text)
    k = suggested.metrics
    assert f"Coverage rate {k.compliance_percent}% {k.implemented} of {k.requirements} covered, passing or not" in text


# --- additional tests by path ---------------------------------------------------------------

def _rec(tid: str, kind: str = "pytest") -> gmodel.TestRecord:
    return gmodel.TestRecord(id=tid, path=tid.split("::")[0], kind=kind, name=tid.split("::")[-1])


def test_additional_test_files_by_path_with_counts():
    records = [_rec("tests/a/test_data.py::test_1"), _rec("tests/a/test_data.py::test_2"),
               _rec("tests/b/test_data.py::test_1"),
               _rec("tests/test_mixed.py::test_linked"), _rec("tests/test_mixed.py::test_free"),
               _rec("tests/test_mixed.py::test_free2"),
               _rec("test-results/junit/all.xml", kind="junit")]
    uncovered = {"tests/a/test_data.py::test_1", "tests/a/test_data.py::test_2", "tests/b/test_data.py::test_1",
                 "tests/test_mixed.py::test_free", "tests/test_mixed.py::test_free2"}
    files = additional_test_files(records, uncovered)
    assert files == [{"path": "tests/a/test_data.py", "tests": 2, "of": 2},
                     {"path": "tests/b/test_data.py", "tests": 1, "of": 1},
                     {"path": "tests/test_mixed.py", "tests": 2, "of": 3}]


def test_old_documents_derive_files_and_drop_covering_tests():
    doc = {"results": [{"requirement_id": "R-1", "covered_by": ["tests/test_mixed.py::test_linked"]}],
           "tests": [{"id": "tests/a/test_data.py::t", "path": "tests/a/test_data.py", "kind": "pytest"},
                     {"id": "tests/b/test_data.py::t", "path": "tests/b/test_data.py", "kind": "pytest"},
                     {"id": "tests/test_mixed.py::test_linked", "path": "tests/test_mixed.py", "kind": "pytest",
                      "covers": ["R-1"]},
                     {"id": "tests/test_mixed.py::test_free", "path": "tests/test_mixed.py", "kind": "pytest"},
                     {"id": "r/junit.xml", "path": "r/junit.xml", "kind": "junit"}],
           # an old document listing a covering test and a result container: both are dropped
           "additional_tests": ["tests/a/test_data.py::t", "tests/b/test_data.py::t", "tests/test_mixed.py::test_free",
                                "tests/test_mixed.py::test_linked", "r/junit.xml"]}
    files = {f.path: f.label for f in additional_files(doc)}
    assert files == {"tests/a/test_data.py": "1 test", "tests/b/test_data.py": "1 test",
                     "tests/test_mixed.py": "1 of 2 tests cover no requirement"}


def test_reports_list_additional_tests_by_path(plan):
    doc = _sample()
    doc["additional_test_files"] = [{"path": "tests/a/test_data.py", "tests": 12, "of": 12},
                                    {"path": "tests/b/test_data.py", "tests": 3, "of": 9}]
    model = build_render_model(doc, plan)
    text = render_markdown(model).split("## Additional Tests Beyond Requirements")[1].split("## Recommendations")[0]
    assert "- tests/a/test_data.py — 12 tests" in text
    assert "- tests/b/test_data.py — 3 of 9 tests cover no requirement" in text
    html = render_html(model)
    assert "tests/a/test_data.py</span> — 12 tests" in html
    validate_document(doc)


# --- end to end -----------------------------------------------------------------------------

MARKED = '''import pytest


@pytest.mark.requirement("PRE-FEED-01")
def test_feed_connects():
    assert True


def test_helper_without_requirement():
    assert True
'''
UNMARKED = '''def test_data_shape():
    assert True


def test_data_types():
    assert True
'''


@pytest.fixture
def workspace(tmp_path):
    ws = tmp_path / "ws"
    (ws / "tests" / "feed").mkdir(parents=True)
    (ws / "tests" / "other").mkdir(parents=True)
    (ws / "tests" / "feed" / "test_feed.py").write_text(MARKED)
    (ws / "tests" / "feed" / "test_data.py").write_text(UNMARKED)
    (ws / "tests" / "other" / "test_data.py").write_text(UNMARKED)
    return ws


def _run(workspace, tmp_path):
    import golive.cli  # noqa: F401 - the CLI module imports cli_run itself
    from golive.cli_run import execute_run

    out = tmp_path / "results.json"
    doc, _ = execute_run(workspace, None, ("PRE-FEED-01", "PRE-FEED-02"), 2, out, None, 60.0, quiet=True,
                         evidence=False)
    assert json.loads(out.read_text())["summary"] == doc["summary"]
    return doc


def test_run_records_confirmed_links_and_additional_files(workspace, tmp_path):
    doc = _run(workspace, tmp_path)
    feed = next(r for r in doc["results"] if r["requirement_id"] == "PRE-FEED-01")
    assert feed["covered_via"] == {"tests/feed/test_feed.py::test_feed_connects": "marker PRE-FEED-01"}
    files = {f["path"]: (f["tests"], f["of"]) for f in doc["additional_test_files"]}
    assert files == {"tests/feed/test_data.py": (2, 2), "tests/other/test_data.py": (2, 2),
                     "tests/feed/test_feed.py": (1, 2)}
    covering = {t for r in doc["results"] for t in r["covered_by"]}
    assert covering.isdisjoint(doc["additional_tests"])
    assert "tests/feed/test_feed.py::test_helper_without_requirement" in doc["additional_tests"]
    validate_document(doc)


def test_run_carries_suggestions_without_counting_them(workspace, tmp_path, monkeypatch):
    import golive.plugins.traceability.suggest as suggest

    def fake(requirements, records, root, confirmed=None, top_k=3):
        return [Suggestion("PRE-FEED-02", "tests/other/test_data.py::test_data_shape", "tests/other/test_data.py",
                           0.8, "high", ("data",), 1)]

    monkeypatch.setattr(suggest, "suggest_links", fake)
    doc = _run(workspace, tmp_path)
    auth = next(r for r in doc["results"] if r["requirement_id"] == "PRE-FEED-02")
    assert auth["implemented"] is False and auth["covered_by"] == []
    assert auth["suggested"][0]["test"] == "tests/other/test_data.py::test_data_shape"
    s = doc["summary"]
    assert s["implemented"] == 1 and s["if_confirmed"]["implemented"] == 2
    assert s["if_confirmed"]["by_band"] == {"high": 1, "medium": 0}
    test = next(t for t in doc["tests"] if t["id"] == "tests/other/test_data.py::test_data_shape")
    assert test["suggested"] == ["PRE-FEED-02"]
    # still an additional test: a suggestion is not a confirmed link
    assert "tests/other/test_data.py::test_data_shape" in doc["additional_tests"]

    from golive.cli_run import suggested_line, tests_line
    assert suggested_line(doc).startswith("suggested links (unconfirmed): 1 test → 1 more requirement (high 1);")
    assert "if confirmed: 2 of 2" in suggested_line(doc)
    assert "5 tests in 3 files cover no requirement" in tests_line(doc)


def test_a_crashing_suggester_is_a_warning_not_a_crash(workspace, tmp_path, monkeypatch):
    import golive.plugins.traceability.suggest as suggest

    def boom(*args, **kwargs):
        raise RuntimeError("index corrupt")

    monkeypatch.setattr(suggest, "suggest_links", boom)
    doc = _run(workspace, tmp_path)
    assert any("link suggestions failed" in w and "index corrupt" in w for w in doc["warnings"])
    assert doc["summary"]["if_confirmed"]["suggested_links"] == 0


def test_map_file_links_say_so_in_covered_via(workspace, tmp_path):
    (workspace / "golive-links.yaml").write_text(
        "version: 1\nlinks:\n  PRE-FEED-02:\n    - test: tests/other/test_data.py::test_data_shape\n"
        "      confirmed_by: Jane Doe\n      confirmed_at: 2026-12-02\n")
    doc = _run(workspace, tmp_path)
    auth = next(r for r in doc["results"] if r["requirement_id"] == "PRE-FEED-02")
    assert auth["implemented"] is True
    assert auth["covered_via"]["tests/other/test_data.py::test_data_shape"].startswith(
        "map golive-links.yaml (confirmed by Jane Doe")
    assert "tests/other/test_data.py::test_data_shape" not in doc["additional_tests"]
    files = {f["path"]: (f["tests"], f["of"]) for f in doc["additional_test_files"]}
    assert files["tests/other/test_data.py"] == (1, 2)
