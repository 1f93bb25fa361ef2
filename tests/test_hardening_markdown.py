"""Markdown reports never turn evidence text into HTML or links (issue 15, point 7).

The report is rendered from a results document whose ids, titles, reasons, thresholds, test
paths, run id and plan title hold hostile strings, then parsed the way readers will see it:
GitHub's own parser (cmark-gfm, with its autolink, table, strikethrough and tagfilter
extensions) and markdown-it-py in CommonMark mode. Neither may produce an HTML token, an
element from the payloads, or a link; the payloads must still be there as text.
"""
from __future__ import annotations

import json
import sys
from html.parser import HTMLParser
from pathlib import Path

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options
from hypothesis import given, settings, strategies as st
from markdown_it import MarkdownIt

sys.path.insert(0, str(Path(__file__).parent / "data" / "report"))
import report_samples  # noqa: E402

from golive.report import build_render_model  # noqa: E402
from golive.report.markdown import md, md_line, render_markdown  # noqa: E402

PAYLOADS = [
    "http://a.b/x<img src=x onerror=alert(1)>",
    "https://evil.example/<script>alert(2)</script>",
    "www.evil.example/<iframe src=//evil.example>",
    "see <a href=javascript:alert(3)>here</a>",
    "<!-- hidden --><style>body{display:none}</style>",
    "[click](javascript:alert(4)) ![img](http://evil.example/p.png)",
    "&lt;img src=x onerror=alert(5)&gt; &#60;b&#62;",
    "ftp://evil.example/<svg onload=alert(6)>",
    "| a | b |\n# heading\n- item ```html\n<details open>",
]
# Elements the report itself writes (tables, emphasis, lists, headings, code).
REPORT_TAGS = {"p", "strong", "em", "ul", "ol", "li", "h1", "h2", "h3", "h4", "table", "thead", "tbody",
               "tr", "th", "td", "pre", "code", "br"}


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.comments: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_comment(self, data):
        self.comments.append(data)

    def handle_data(self, data):
        self.text.append(data)


def gfm_elements(markdown: str) -> _Elements:
    html = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    parser = _Elements()
    parser.feed(html)
    return parser


def assert_no_markup(markdown: str) -> _Elements:
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    flat = [t for tok in tokens for t in [tok, *(tok.children or [])]]
    assert not [t.content for t in flat if t.type in ("html_inline", "html_block")]
    assert not [t for t in flat if t.type in ("link_open", "image")]
    gfm = gfm_elements(markdown)
    assert {tag for tag, _ in gfm.tags} <= REPORT_TAGS, {tag for tag, _ in gfm.tags} - REPORT_TAGS
    assert all("on" not in "".join(attrs) for _, attrs in gfm.tags)
    assert gfm.comments == []
    return gfm


def hostile_document() -> dict:
    text = report_samples.SAMPLE.read_text()
    ids = ["PRE-ALGO-09", "PRE-CONF-06", "RISK-03"]
    for rid, payload in zip(ids, PAYLOADS):  # ids appear in results, tests and coverage alike
        text = text.replace(f'"{rid}"', json.dumps(rid + payload))
    doc = json.loads(text)
    doc["run"]["id"] = "run ```\n<img src=x onerror=alert(7)>\n```"
    doc["run"]["plan"]["title"] = PAYLOADS[1]
    for i, result in enumerate(doc["results"]):
        payload = PAYLOADS[i % len(PAYLOADS)]
        result["reason"] = f"observed {payload}"
        result["title"] = payload
        for t in result.get("thresholds") or []:
            t["observed"], t["metric"] = payload, f"metric {payload}"
    doc["tests"][0]["path"] = doc["tests"][0]["id"] = PAYLOADS[0]
    return doc


def test_hostile_results_render_as_text_in_gfm_and_commonmark():
    markdown = render_markdown(build_render_model(hostile_document(), None))
    gfm = assert_no_markup(markdown)
    shown = "".join(gfm.text)
    # the payloads are still there, as text a reader can see
    assert "http://a.b/x<img src=x onerror=alert(1)>" in shown
    assert "<script>alert(2)</script>" in shown
    assert "&lt;img src=x onerror=alert(5)&gt;" in shown  # entities in evidence stay literal
    assert "<img src=x onerror=alert(7)>" in shown  # the run id could not close the code block


@pytest.mark.parametrize("payload", PAYLOADS)
def test_each_payload_escaped_renders_as_itself(payload):
    escaped = md_line(payload)
    gfm = assert_no_markup(f"- x {escaped}\n\n{escaped}\n\n| a | {escaped} |\n|---|---|\n| 1 | {escaped} |\n")
    folded = " ".join(payload.split())
    assert "".join(gfm.text).count(folded) == 4  # list item, paragraph, two table cells


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>&/:.;#=\"'`*_[]()!|~\\-+ aw1@")) | st.characters(exclude_categories=("Cc", "Cs")),
               max_size=40))
def test_any_text_is_no_markup_and_keeps_its_characters(text):
    """Control characters aside (CommonMark replaces NUL), text comes back as itself, inline
    after other text (md) and at the start of a line (md_line)."""
    folded = " ".join(text.split())
    for markdown, expected in ((f"x {md(text)}\n", f"x {folded}"), (f"{md_line(text)}\n", folded)):
        gfm = assert_no_markup(markdown)
        if "@" not in folded:  # GFM links bare e-mail addresses; the text is kept, inside a mailto link
            assert "".join(gfm.text).strip() == expected.strip()
