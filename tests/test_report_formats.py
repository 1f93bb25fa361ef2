"""Markdown, HTML, JSON and JUnit formats: layout of the reference report, agreeing counts."""
from __future__ import annotations

import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent / "data" / "report"))
import report_samples  # noqa: E402

from golive.report import build_render_model, render  # noqa: E402
from golive.report.jsonfmt import validate_document  # noqa: E402
from golive.report.markdown import md, render_markdown  # noqa: E402

REFERENCE = Path(__file__).parent / "reference" / "reference_report.yaml"


@pytest.fixture(scope="module")
def model():
    doc = json.loads(report_samples.SAMPLE.read_text())
    return build_render_model(doc, report_samples.reference_plan())


@pytest.fixture(scope="module")
def markdown(model):
    return render_markdown(model)


def _section_blocks(text: str) -> dict[str, str]:
    """Markdown text under each '####' (or single-section '###') heading, keyed by title."""
    blocks, title, lines = {}, None, []
    for line in text.splitlines():
        heading = re.match(r"^#{3,4} (?:\d+\. )?(.+?)(?: \(Lines \d+-\d+\))?$", line)
        if heading or line.startswith("## "):
            if title and not blocks.get(title, "").strip():  # a phase heading over its sections holds nothing
                blocks[title] = "\n".join(lines)
            title, lines = (heading.group(1) if heading else None), []
        else:
            lines.append(line)
    if title:
        blocks.setdefault(title, "\n".join(lines))
    return blocks


def test_markdown_has_the_reference_sections_in_order(markdown):
    ref = (Path("/work/shared/reference/gap-analysis-report.md"))
    wanted = ["## Executive Summary", "### Key Metrics", "## Phase-by-Phase Gap Analysis",
              "## Gap Summary by Category", "## Additional Tests Beyond Requirements",
              "## Recommendations", "## Overall Assessment", "### Strengths:", "### Weaknesses:",
              "### Risk Assessment:", "## Implementation Timeline Recommendation"]
    positions = [markdown.index(h + "\n") for h in wanted]
    assert positions == sorted(positions)
    if ref.exists():  # the shared reference, when mounted, has the same headings
        assert all(h + "\n" in ref.read_text() for h in wanted)
    reference = yaml.safe_load(REFERENCE.read_text())
    for phase in reference["phases"]:
        lines = phase["plan_lines"]
        assert f"### {phase['number']}. {phase['title']} (Lines {lines[0]}-{lines[1]})" in markdown


def test_markdown_check_and_cross_items_match_the_reference(markdown):
    reference = yaml.safe_load(REFERENCE.read_text())
    blocks = _section_blocks(markdown.split("## Gap Summary by Category")[0])
    for section in reference["sections"]:
        block = blocks[section["title"]]
        ticks = re.findall(r"^- ✅ (\S+) - ", block, flags=re.M)
        assert sorted(ticks) == sorted(f["file"] for f in section["implemented"]), section["id"]
        crosses = re.findall(r"^- ❌ \*\*(MISSING|NOT IMPLEMENTED)\*\*: (.*)$", block, flags=re.M)
        named = {rid for _, text in crosses for rid in re.findall(r"\(([A-Z][A-Z0-9-]+-\d+)\)$", text)}
        not_implemented = any(marker == "NOT IMPLEMENTED" for marker, _ in crosses)
        for line in section["missing"]:
            if line["marker"] == "NOT IMPLEMENTED" and not section["implemented"]:
                assert not_implemented, section["id"]
            else:  # every gap the reference names is a ❌ line of ours, with its id
                assert set(line["requirements"]) <= named, (section["id"], line)
        if not not_implemented:  # golive also lists the gaps the reference leaves out
            assert set(section.get("unlisted_missing") or []) <= named, section["id"]


def test_markdown_states_how_the_rate_is_computed(markdown, model):
    assert "**Covered**: 30 of 94 requirements (32%) have a confirmed test or check evidence, passing or not" in markdown
    assert "never a compliance figure" in markdown and "Compliance Rate" not in markdown
    assert '"~50%" cannot be reproduced' in markdown
    assert "- **Test Files Implemented**: 23 test scripts" in markdown
    assert "- **Test Results Generated**: 31 test execution outputs" in markdown


def test_markdown_category_bands_and_additional_tests(markdown):
    cats = markdown.split("## Gap Summary by Category")[1].split("## Verification Results")[0]
    well, rest = cats.split("### ⚠️ Partially Covered Areas")
    partial, major = rest.split("### ❌ Major Gaps")
    assert "None." in well  # nothing is 75 % verified with nothing failing
    assert "**API Authentication & Data Sources**: 6/9 verified, 1 failing, 8/9 covered (89%)" in partial
    assert "**Configuration Management**: 5/7 verified, 0 failing, 5/7 covered (71%)" in partial
    assert "**Algorithm Validation**: 11/14 verified, 1 failing (1 P1)" in major  # PRE-ALGO-09 fails
    assert "**Production Monitoring**: 1/15 verified, 0 failing, 1/15 covered (7%)" in major
    extra = markdown.split("## Additional Tests Beyond Requirements")[1].split("## Recommendations")[0]
    for name in ("test_remaining_batch.py", "test_pattern_recognition.py", "test_priority_assignment.py"):
        assert f"/{name} — 1 of " in extra  # by path, with the count of the file's tests that cover nothing


def test_markdown_escapes_evidence_text():
    assert md("[click](http://evil.example) <img src=x> a|b *bold* `code`") == (
        r"\[click\](http\://evil.example) &lt;img src=x> a\|b \*bold\* \`code\`")
    assert md("line one\n# not a heading") == "line one # not a heading"
    assert md("run_pipeline.py _lead") == r"run_pipeline.py \_lead"


def test_json_format_is_valid_and_matches_the_model(model, tmp_path):
    path = render("json", model, tmp_path / "r.json")
    written = json.loads(path.read_text())
    validate_document(written)
    assert written["summary"]["by_status"] == dict(model.metrics.by_status)
    assert written["summary"]["implemented"] == model.metrics.implemented


def test_junit_has_one_testcase_per_requirement(model, tmp_path):
    root = ET.parse(render("junit", model, tmp_path / "r.xml")).getroot()
    cases = root.findall(".//testcase")
    assert len(cases) == model.metrics.requirements == int(root.get("tests"))
    by_status = dict(model.metrics.by_status)
    assert int(root.get("failures")) == by_status["fail"] + by_status["partial"] + by_status["missing"]
    assert int(root.get("errors")) == by_status["error"]
    assert int(root.get("skipped")) == by_status["skipped"] + by_status["waived"]
    baseline = next(c for c in cases if c.get("name").startswith("PRE-ALGO-09 "))
    assert "accuracy: expected > 75 %, observed 71.2 %, not met" in baseline.find("failure").text
    props = {p.get("name"): p.get("value") for p in root.find("testsuite/properties")}
    assert props["run_id"] == model.evidence.run_id and props["ledger_head"].startswith("sha256:")


def test_junit_survives_control_characters(tmp_path):
    doc = json.loads(report_samples.SAMPLE.read_text())
    doc["results"][3]["reason"] = "bad byte \x00 and \x1b[31m escape"
    m = build_render_model(doc, report_samples.reference_plan())
    root = ET.parse(render("junit", m, tmp_path / "r.xml")).getroot()
    assert "bad byte" in root.find(".//testcase[4]/failure").get("message")


def test_html_is_self_contained_and_counts_agree(model, markdown, tmp_path):
    text = render("html", model, tmp_path / "r.html").read_text().replace("<wbr>", "")  # break points
    assert "<style>" in text and "<link" not in text  # browsable as one file
    assert text.count('class="icon"') > 94
    assert "Test files implemented</td><td>23" in text
    assert "Test results generated</td><td>31" in text
    # the ✅ lines of HTML and Markdown name the same files, in the same order
    html_files = re.findall(r'<li><svg class="icon".*?</svg> <span class="mono">([^<]+)</span> — ', text)
    md_files = re.findall(r"^- ✅ (\S+) - ", markdown, flags=re.M)
    assert html_files == md_files


def test_template_autoescapes_and_rejects_undefined(model):
    import jinja2

    from golive.report.html import environment

    env = environment()
    assert env.autoescape is True and env.undefined is jinja2.StrictUndefined
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ m.no_such_field }}").render(m=model)


def test_icon_assets_match_the_inline_icons(tmp_path):
    from golive.report.fetcher import _default_assets_dir
    from golive.report.html import write_icon_assets

    for fresh in write_icon_assets(tmp_path):
        assert (_default_assets_dir() / fresh.name).read_text() == fresh.read_text(), fresh.name


def test_unknown_format_is_named(model, tmp_path):
    from golive.report import ReportInputError

    with pytest.raises(ReportInputError, match="unknown report format 'docx'"):
        render("docx", model, tmp_path / "r.docx")


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory):
    """The real pipeline on the reference fixture: `golive run --json`, then the packaged plan."""
    import subprocess

    from golive.plan import load

    out = tmp_path_factory.mktemp("run") / "results.json"
    workspace = Path(__file__).parent / "fixtures" / "reference-workspace"
    proc = subprocess.run([sys.executable, "-m", "golive", "run", "--target", str(workspace),
                           "--json", str(out), "-q"], capture_output=True, text=True, timeout=300)
    assert proc.returncode in (0, 1) and out.exists(), proc.stderr[-2000:]
    return json.loads(out.read_text()), load()


def test_reference_workspace_markdown_reproduces_the_reference_report(reference_run):
    document, plan = reference_run
    model = build_render_model(document, plan)
    text = render_markdown(model)
    reference = yaml.safe_load(REFERENCE.read_text())
    assert f"- **Test Files Implemented**: {reference['key_metrics']['test_files']} test scripts" in text
    assert f"- **Test Results Generated**: {reference['key_metrics']['test_results']} test execution outputs" in text
    blocks = _section_blocks(text.split("## Gap Summary by Category")[0])
    for section in reference["sections"]:
        block = blocks[section["title"]]
        ticks = re.findall(r"^- ✅ (\S+) - ", block, flags=re.M)
        assert sorted(ticks) == sorted(f["file"] for f in section["implemented"]), section["id"]
        named = set(re.findall(r"^- ❌ \*\*MISSING\*\*: .*\(([A-Z][A-Z0-9-]+-\d+)\)$", block, flags=re.M))
        for line in section["missing"]:
            if line["marker"] == "MISSING" or section["implemented"]:
                assert set(line["requirements"]) <= named, (section["id"], line)
            else:
                assert "❌ **NOT IMPLEMENTED**" in block, section["id"]
    extra = text.split("## Additional Tests Beyond Requirements")[1].split("## Recommendations")[0]
    # listed by path with counts; the reference report lists the same files by name
    assert sorted(Path(p).name for p in re.findall(r"^- (\S+) — ", extra, flags=re.M)) == sorted(
        t["file"] for t in reference["additional_tests"])


def test_reference_workspace_pdf_holds_the_same_counts_as_the_markdown(reference_run):
    import io

    import pypdf

    from golive.report.pdf import render_pdf_bytes

    document, plan = reference_run
    model = build_render_model(document, plan)
    markdown = render_markdown(model)
    reader = pypdf.PdfReader(io.BytesIO(render_pdf_bytes(model)))
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    k = model.metrics
    assert (k.test_files, k.result_files, k.requirements) == (23, 31, 100)  # the plan's 94 + section REG's 6
    assert f"Test files implemented {k.test_files} " in text
    assert f"Test results generated {k.result_files} " in text
    assert f"Coverage rate {k.compliance_percent}% {k.implemented} of {k.requirements} covered, passing or not" in text
    assert text.count("MISSING:") == markdown.count("❌ **MISSING**:")
    assert text.count("NOT IMPLEMENTED:") == markdown.count("❌ **NOT IMPLEMENTED**:")
    for band in ("Well-Covered Areas", "Partially Covered Areas", "Major Gaps"):
        assert band in text
    assert json.loads(reader.attachments["results.json"][0])["summary"]["implemented"] == k.implemented


def test_real_run_and_documented_example_match_the_schema(reference_run):
    validate_document(reference_run[0], "golive run --json output")
    page = (Path(__file__).parent.parent / "docs" / "results-schema.md").read_text()
    example = json.loads(re.search(r"```json\n(.*?)```", page, re.S).group(1))
    validate_document(example, "docs/results-schema.md example")
    example["results"][0]["status"] = "green"
    from golive.report import ReportInputError

    with pytest.raises(ReportInputError, match="results/0/status"):
        validate_document(example)


@pytest.mark.parametrize("fmt", ["md", "html", "json", "junit"])
def test_minimal_document_renders_in_every_format(fmt, tmp_path):
    """The documented one-requirement example, without a plan, coverage or ledger."""
    page = (Path(__file__).parent.parent / "docs" / "results-schema.md").read_text()
    example = json.loads(re.search(r"```json\n(.*?)```", page, re.S).group(1))
    model = build_render_model(example, None)
    text = render(fmt, model, tmp_path / f"r.{fmt}").read_text()
    assert "PRE-ALGO-09" in text
    assert model.metrics.requirements == 1 and model.metrics.implemented == 1
    assert model.evidence.ledger is None
    if fmt == "md":
        assert "no ledger was written for this run" in text
        assert "| PRE-ALGO-09 | accuracy | > 75 % | 71.2 % | not met; ❌ fail: accuracy 71.2 % is not > 75 % |" in text
