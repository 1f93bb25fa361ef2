"""A report PDF's sections compared, text for text, with a fresh rendering of its attached
results.json (issue 15.4; called by golive.ledger.pdf_pages for ``verify-report``).

The report's HTML is rendered again from the attachment (the same template, the same render
model ``golive report`` builds) and cut into its text blocks in document order (table cells,
paragraphs, list items, headings; a block ends where a block element starts or ends). In each
compared section, found in the pages by its heading line, every block must follow the previous
one with nothing between but a table header WeasyPrint repeats on a new page; nothing may be
left after the last. Whitespace, zero-width spaces and soft hyphens are ignored on both sides
(line wrapping), and so are list markers (pypdf gives them as lines of their own) and the
charts' labels (drawn after the page's text, so found wherever the page ends).

Compared: the executive summary (verdict and its reasons, key figures, metrics, status counts),
the phase-by-phase tables and lists, the gap summary by category, verification results
(metrics, thresholds, reasons), waivers, attestations, additional tests, recommendations,
assessment, timeline, tailoring (what was loosened), methodology and sign-off. Not compared
here: the cover and contents (page numbers, an upper-cased kicker; pdf_pages checks the cover's
verdict, headline and sha256), changes since the previous run and the evidence appendix (they
hold what the renderer read from the store: the previous run, the trend, the ledger check, the
log's key; pdf_pages checks the appendix's sha256 and Figures line).
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any, Iterator

COMPARED = ("executive-summary", "phase-analysis", "category-summary", "verification", "waivers", "attestations",
            "additional-tests", "recommendations", "assessment", "timeline", "tailoring", "methodology", "sign-off")
BLOCKS = {"p", "li", "td", "th", "h1", "h2", "h3", "h4", "pre", "tr", "table", "ul", "ol", "div", "section",
          "nav", "thead", "tbody", "br"}
TREND_CHART = re.compile(r"Trendoverruns.*?coveredverified")  # golive.report.charts.trend_line, compact


def compact(text: str) -> str:
    """``text`` as compared: NFKC, without whitespace, zero-width spaces or soft hyphens."""
    return "".join(unicodedata.normalize("NFKC", text).replace("\u200b", "").replace("\u00ad", "").split())


def _tag(element: Any) -> str:
    return element.tag.rsplit("}", 1)[-1] if isinstance(element.tag, str) else ""  # XHTML or SVG namespace


def _chunks(element: Any, out: list[str]) -> None:
    """Append the text of ``element`` to ``out``, a new chunk at every block boundary."""
    block = _tag(element) in BLOCKS
    if block:
        out.append("")
    if element.text and _tag(element) not in ("style", "script", "svg"):
        out[-1] += element.text
    for child in element:
        if _tag(child) not in ("style", "script", "svg"):
            _chunks(child, out)
        if child.tail:
            out[-1] += child.tail
    if block:
        out.append("")


def sections(html: str) -> Iterator[tuple[str, str, list[str], set[str]]]:
    """(id, heading text, text blocks, repeated-header texts) of each ``<h1 id>`` section."""
    import tinyhtml5

    body = next(e for e in tinyhtml5.parse(html).iter() if _tag(e) == "body")
    current: tuple[str, str, list[str], set[str]] | None = None
    for child in body:
        if _tag(child) == "h1" and child.get("id"):
            if current:
                yield current
            current = (child.get("id"), " ".join("".join(child.itertext()).split()), [], set())
            continue
        if current is None:
            continue
        chunks = [""]
        _chunks(child, chunks)
        current[2].extend(c for c in map(compact, chunks) if c)
        current[3].update(compact("".join(h.itertext())) for h in child.iter() if _tag(h) == "thead")
    if current:
        yield current


def _without_charts(text: str, charts: list[str]) -> str:
    """``text`` without the charts' text: WeasyPrint draws a chart (inline SVG) after the text of
    its page, so its labels land wherever that page ends. The trend chart is drawn from earlier
    runs in the store, which the attachment does not hold: it is recognised by its title and
    legend."""
    for chart in charts:
        text = text.replace(chart, "", 1)
    return TREND_CHART.sub("", text)


def compare(lines: list[str], html: str) -> tuple[list[str], int]:
    """Differences between the pages' ``lines`` (page_lines: headers, footers and list markers
    left out) and the rendering ``html``; and how many blocks matched."""
    import tinyhtml5

    problems, matched, start = [], 0, 0
    charts = [compact("".join(svg.itertext())) for svg in tinyhtml5.parse(html).iter() if _tag(svg) == "svg"]
    all_sections = list(sections(html))
    headings = [title for _, title, _, _ in all_sections]
    for sid, title, blocks, headers in all_sections:
        try:
            at = lines.index(title, start)
        except ValueError:
            if sid in COMPARED:
                problems.append(f'the pages have no "{title}" section')
            continue
        start = at + 1
        if sid not in COMPARED:
            continue
        end = next((i for i in range(at + 1, len(lines)) if lines[i] in headings), len(lines))
        text, pos = _without_charts(compact(" ".join(lines[at + 1:end])), charts), 0
        for block in blocks:
            found = text.find(block, pos)
            between = text[pos:found] if found >= 0 else ""
            for header in headers:
                between = between.replace(header, "")
            if found < 0 or between:
                shown = text[pos:pos + max(60, len(block) + 20)]
                problems.append(f'"{title}": the pages show "{shown}" where the attached results give "{block}"')
                break
            pos, matched = found + len(block), matched + 1
        else:
            rest = text[pos:]
            for header in headers:
                rest = rest.replace(header, "")
            if rest:
                problems.append(f'"{title}": the pages show more than the attached results give: "{rest[:80]}"')
    return problems, matched
