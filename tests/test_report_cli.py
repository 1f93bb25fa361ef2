"""``golive report``: formats, output paths, waivers file and input errors (exit code 2)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent / "data" / "report"))
import report_samples  # noqa: E402

from golive.report.cli import output_paths, report  # noqa: E402


@pytest.fixture()
def results(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(report_samples.SAMPLE.read_text())
    return path


def test_renders_several_formats_next_to_out(results, tmp_path):
    out = tmp_path / "out" / "audit.pdf"
    res = CliRunner().invoke(report, [str(results), "-f", "md", "-f", "junit", "-f", "json", "-o", str(out)])
    assert res.exit_code == 0, res.output
    written = res.output.split()
    assert written == [str(tmp_path / "out" / n) for n in ("audit.md", "audit.xml", "audit.json")]
    assert "# " in Path(written[0]).read_text().splitlines()[0]


def test_waivers_file_is_applied(results, tmp_path):
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("waivers:\n  - {requirement_id: PRE-ALGO-09, approver: CRO, reason: data fix,"
                       " expires: 2030-01-31}\n")
    out = tmp_path / "r.json"
    res = CliRunner().invoke(report, [str(results), "-f", "json", "-o", str(out), "--waivers", str(waivers)])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert doc["summary"]["by_status"]["waived"] == 1


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON (line 1"),
    ('{"schema_version": "9", "run": {}, "summary": {}, "coverage": {}, "results": []}',
     "schema_version '9' is not supported"),
])
def test_bad_results_exit_2_with_a_clear_message(tmp_path, content, message):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    res = CliRunner().invoke(report, [str(bad), "-f", "md", "-o", str(tmp_path / "x.md")])
    assert res.exit_code == 2
    assert message in res.output and "bad.json" in res.output


def test_bad_waiver_exits_2_naming_it(results, tmp_path):
    waivers = tmp_path / "w.json"
    waivers.write_text('[{"requirement_id": "XX-01", "approver": "a", "reason": "r", "expires": "2030-01-01"}]')
    res = CliRunner().invoke(report, [str(results), "-f", "md", "-o", str(tmp_path / "x.md"),
                                      "--waivers", str(waivers)])
    assert res.exit_code == 2 and "XX-01" in res.output


def test_missing_results_file(tmp_path):
    res = CliRunner().invoke(report, [str(tmp_path / "nope.json")])
    assert res.exit_code == 2 and "does not exist" in res.output


def test_output_paths_default_next_to_results(tmp_path):
    paths = output_paths(("pdf", "junit"), None, tmp_path / "run.json")
    assert paths == {"pdf": tmp_path / "run-report.pdf", "junit": tmp_path / "run-report.xml"}


def test_render_to_picks_the_format_from_the_extension(results, tmp_path):
    from golive.report import ReportInputError, format_for, render_to

    assert [format_for(n) for n in ("a.pdf", "a.HTML", "a.md", "a.json", "a.xml")] == [
        "pdf", "html", "md", "json", "junit"]
    doc = json.loads(results.read_text())
    out = render_to(tmp_path / "gaps.md", doc, report_samples.reference_plan())
    assert out.read_text().startswith("# Live Trading Test Plan Gap Analysis Report")
    with pytest.raises(ReportInputError, match="cannot tell the report format of .*report.docx"):
        render_to(tmp_path / "report.docx", doc)


@pytest.mark.parametrize("name,starts", [("out.md", b"# "), ("out.html", b"<!DOCTYPE html>"), ("out.xml", b"<?xml"),
                                         ("out.oscal.json", b"{"), ("out.pdf", b"%PDF")])
def test_without_format_the_out_extension_picks_it(results, tmp_path, name, starts):
    res = CliRunner().invoke(report, [str(results), "-o", str(tmp_path / name)])
    assert res.exit_code == 0, res.output
    data = (tmp_path / name).read_bytes()
    assert data.startswith(starts), data[:40]
    if name == "out.oscal.json":
        assert "assessment-results" in json.loads(data)


def test_without_format_an_unknown_out_extension_is_refused(results, tmp_path):
    res = CliRunner().invoke(report, [str(results), "-o", str(tmp_path / "out.txt")])
    assert res.exit_code == 2 and "cannot tell the report format" in res.output and "--format" in res.output
    assert not (tmp_path / "out.txt").exists()
