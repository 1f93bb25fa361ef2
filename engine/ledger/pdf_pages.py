"""What a report PDF's pages show, checked against its attached results.json (issue 15.4).

``golive evidence verify-report`` proves the attached ``results.json`` against the proof
bundle; this module proves that the visible pages were rendered from that attachment, so a
report rendered from forged results and then given the genuine attachments is refused.

The rule (the pages' text as pypdf extracts it, page headers and footers removed):

1. The pages must not say "NOT verified against a ledger" (``golive report`` prints it in the
   evidence appendix when it could not check the results it rendered).
2. Every "results.json sha256 <64 hex>" printed (cover and appendix) must be the sha256 of the
   attached results.json, and there must be at least one.
3. The appendix's "Figures" line (readiness verdict, count of every status, covered and
   verified of the applicable requirements) must be exactly what the attached results.json
   gives, and so must every "Readiness: <verdict>" printed, every "covered N of M · verified N
   · failing N · ..." headline, the Key Figures rows ("Failing 0 of 100") and the status-count
   table of the Executive Summary.
4. In the Phase-by-Phase Gap Analysis, each requirement of the attachment must appear, and the
   status printed in its row (after its priority) must be its effective status (waivers
   applied) as the attachment gives it.
5. The report is rendered again from the attachment (run.golive_version must be this golive's
   version, else the pages cannot be compared) and the text of every section but the cover,
   contents, changes since the previous run and evidence appendix (executive summary, phase
   tables, category summary, verification results, waivers, attestations, additional tests,
   recommendations, assessment, timeline, tailoring, methodology, sign-off) must be the pages'
   text of that section, block for block, ignoring whitespace, wrapping, list markers, chart
   labels and repeated table headers (golive.ledger.pdf_rendering).

Expected values come from the same render model ``golive report`` builds from the attachment
(its waivers applied, sign-offs as the attachment carries them, the packaged plan when the run
used it). Each item must be found: a page without it fails the check, since a check that
observed nothing proves nothing. Not compared: the cover's and contents' other text, the
charts, and what the renderer read from the store rather than from results.json (changes since
the previous run, the trend, the ledger-check line, the log's key in the verify command).
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from golive.ledger.pdf_rendering import COMPARED
from golive.ledger.pdf_rendering import compare as compare_rendering

NOT_VERIFIED = "NOT verified against a ledger"
FOOTER = re.compile(r"^Run \S+ Page \d+ of \d+$")
LIST_MARKER = re.compile(r"^(?:[•◦▪‣]|\d+\.)$")
SHA_PRINTED = re.compile(r"results\.jsonsha256([0-9a-f]{64})")  # in the text without whitespace
FIGURES_LINE = re.compile(r"\bFigures readiness (?P<state>[A-Z][A-Z ]*?)(?P<items>(?: · [a-z]+ \d+(?: of \d+)?)+)")
HEADLINE = re.compile(r"covered \d+ of \d+ · verified \d+ · failing \d+ · partial \d+ · missing \d+ · "
                      r"waived \d+ · skipped \d+")
PHASE_HEADING, AFTER_PHASES = "Phase-by-Phase Gap Analysis", "Gap Summary by Category"
SUMMARY_HEADING = "Executive Summary"


@dataclass
class PageCheck:
    """The outcome: what differs (empty when the pages match) and what was compared."""

    problems: list[str] = field(default_factory=list)
    statuses: int = 0     # requirement rows whose printed status was compared
    sha_printed: int = 0  # results.json sha256 occurrences compared
    blocks: int = 0       # text blocks that match a fresh rendering (golive.ledger.pdf_rendering)

    @property
    def summary(self) -> str:
        return (f"the pages' readiness verdict, figures, results.json sha256 ({self.sha_printed}x) and "
                f"{self.statuses} requirement statuses match the attached results, and {self.blocks} text "
                f"blocks of {len(COMPARED)} sections match a rendering of it")


@dataclass(frozen=True)
class Expected:
    """What a report rendered from the attachment prints."""

    sha256: str
    state: str
    by_status: tuple[tuple[str, int], ...]
    covered: int
    verified: int
    applicable: int
    headline: str
    key_figures: tuple[tuple[str, int], ...]
    rows: tuple[tuple[str, str, str], ...]  # (requirement id, priority, status label)
    golive_version: str
    html: str  # the report's HTML rendered from the attachment
    plan_missing: str = ""  # why the rendering lacks the run's plan (titles, line ranges), or ""


def expected_of(results: bytes, plan_path: Any = None) -> Expected:
    """The figures and statuses ``golive report`` would print for ``results`` (the attachment's
    bytes), with the plan at ``plan_path`` (else the packaged plan when the run used it). Raises
    ValueError when the document cannot be rendered."""
    from golive.report.html import STATUS_LABELS, render_html
    from golive.report.cli import _load_plan
    from golive.report.inputs import ReportInputError
    from golive.report.model import build_render_model

    doc = json.loads(results)
    fields = ("requirement_id", "approver", "co_approvers", "reason", "expires", "created", "files")
    waivers = [{k: w[k] for k in fields if k in w} for w in doc.get("waivers") or () if isinstance(w, Mapping)]
    # waivers given to `golive report --waivers FILE` live only in the results they were applied to
    listed = {w.get("requirement_id") for w in waivers}
    waivers += [{"requirement_id": r["requirement_id"], **{k: r["waiver"][k] for k in fields if k in r["waiver"]},
                 "approver": r["waiver"].get("approver")}
                for r in doc.get("results") or () if isinstance(r, Mapping) and isinstance(r.get("waiver"), Mapping)
                and r.get("requirement_id") not in listed]
    try:
        # the packaged plan when the run used it (titles, line ranges, bands), as golive report does
        plan = _load_plan(plan_path, doc)
        m = build_render_model(doc, plan, waivers=waivers)
    except (ReportInputError, KeyError, TypeError) as exc:
        raise ValueError(f"the attached results.json cannot be rendered ({exc})") from None
    f = m.figures
    return Expected(
        sha256=hashlib.sha256(results).hexdigest(), state=m.verdict.state, by_status=tuple(m.metrics.by_status),
        covered=f.covered, verified=f.verified, applicable=f.applicable, headline=f.headline,
        key_figures=tuple((name, count) for name, count, _ in f.items() if name != "selected"),
        rows=tuple((r.id, str(r.priority), STATUS_LABELS.get(r.status, r.status)) for r in m.requirements),
        golive_version=str((doc.get("run") or {}).get("golive_version", "")), html=render_html(m, for_pdf=True),
        plan_missing=_plan_missing(doc, plan, plan_path))


def _plan_missing(doc: Mapping[str, Any], plan: Any, plan_path: Any) -> str:
    """Why the rendering cannot be the report's: the run used a plan that is not at hand."""
    run_plan = (doc.get("run") or {}).get("plan") or {}
    if plan is not None or not run_plan.get("digest"):
        return ""
    what = f"plan {run_plan.get('id', '?')} v{run_plan.get('version', '?')} (digest {str(run_plan['digest'])[:23]}...)"
    given = f"the plan at {plan_path} is another" if plan_path else "it is not the packaged plan"
    return (f"the run used {what} and {given}: its sections cannot be compared with a rendering of the "
            "attachment (give that plan with --plan DIR, or check the attachments alone with --attachments-only)")


def page_lines(reader: Any) -> list[str]:
    """The pages' text lines (NFKC, whitespace collapsed), each page's running header and footer
    (drawn after its content: "<title> <chapter>" then "Run <id> Page N of M") and the list
    markers (lines of their own, also drawn after the content) left out."""
    lines: list[str] = []
    for page in reader.pages:
        text = unicodedata.normalize("NFKC", page.extract_text() or "")
        page_lines_ = [" ".join(line.split()) for line in text.replace("\u200b", "").replace("\u00ad", "").splitlines()]
        page_lines_ = [line for line in page_lines_ if line and not LIST_MARKER.match(line)]
        if page_lines_ and FOOTER.match(page_lines_[-1]):
            page_lines_ = page_lines_[:-2]
        lines += page_lines_
    return lines


def _section(lines: list[str], heading: str, until: str) -> str | None:
    """The text from the line that is exactly ``heading`` (the table of contents has dot leaders
    and page numbers, so only the heading itself matches) to the line that is ``until``."""
    try:
        start = lines.index(heading)
    except ValueError:
        return None
    end = next((i for i in range(start + 1, len(lines)) if lines[i] == until), len(lines))
    return " ".join(lines[start + 1:end])


def check_pages(reader: Any, results: bytes, plan_path: Any = None) -> PageCheck:
    """Compare the pages of ``reader`` (a ``pypdf.PdfReader``) with the attachment ``results``
    (rendered with the plan at ``plan_path``, else the packaged plan when the run used it)."""
    check = PageCheck()
    try:
        want = expected_of(results, plan_path)
    except (ValueError, RecursionError) as exc:
        check.problems.append(str(exc))
        return check
    lines = page_lines(reader)
    text = " ".join(lines)
    compact = "".join(text.split())
    if "".join(NOT_VERIFIED.split()) in compact:
        check.problems.append(f'the pages say the report was "{NOT_VERIFIED}": it was rendered from results '
                              "nobody checked, whatever is attached")
    _check_sha(check, compact, want)
    _check_figures_line(check, text, want)
    _check_headlines(check, text, _section(lines, SUMMARY_HEADING, PHASE_HEADING), want)
    _check_rows(check, _section(lines, PHASE_HEADING, AFTER_PHASES), want)
    from golive import __version__
    if want.golive_version and want.golive_version != __version__:
        check.problems.append(f"the report was rendered by golive {want.golive_version}, this is golive "
                              f"{__version__}: its pages cannot be compared with a rendering of the attachment "
                              f"(verify with golive {want.golive_version}, or check the attachments alone with "
                              "--attachments-only)")
    elif want.plan_missing:
        check.problems.append(want.plan_missing)
    else:
        differences, check.blocks = compare_rendering(lines, want.html)
        check.problems += differences
    return check


def _check_sha(check: PageCheck, compact: str, want: Expected) -> None:
    printed = SHA_PRINTED.findall(compact)
    check.sha_printed = len(printed)
    if not printed:
        check.problems.append("the pages print no results.json sha256: nothing ties them to the attachment")
    for sha in dict.fromkeys(p for p in printed if p != want.sha256):
        check.problems.append(f"the pages print results.json sha256 {sha}, the attached results.json has "
                              f"{want.sha256}: the pages were rendered from another results document")


def _check_figures_line(check: PageCheck, text: str, want: Expected) -> None:
    found = list(FIGURES_LINE.finditer(text))
    if not found:
        check.problems.append("the evidence appendix has no Figures line (readiness · counts) to compare: a report "
                              "rendered before verify-report read the pages lacks it (re-render it with `golive "
                              "report RUN --store DIR`, or check the attachments alone with --attachments-only)")
    wanted = {**{s: str(n) for s, n in want.by_status}, "covered": f"{want.covered} of {want.applicable}",
              "verified": f"{want.verified} of {want.applicable}"}
    for match in found:
        shown = dict(item.split(" ", 1) for item in match["items"].split(" · ")[1:])
        if match["state"] != want.state:
            check.problems.append(f"the Figures line says readiness {match['state']}, the attached results "
                                  f"give {want.state}")
        for name in dict.fromkeys([*wanted, *shown]):
            if shown.get(name) != wanted.get(name):
                check.problems.append(f"the Figures line says {name} {shown.get(name, '(nothing)')}, the attached "
                                      f"results give {wanted.get(name, '(nothing)')}")


def _check_headlines(check: PageCheck, text: str, summary: str | None, want: Expected) -> None:
    states = "|".join(sorted(_states(), key=len, reverse=True))
    readiness = re.findall(rf"(?:Readiness:|sign-off taken into account:) ({states})\b", text)
    if not readiness:
        check.problems.append("the pages print no readiness verdict")
    for state in dict.fromkeys(s for s in readiness if s != want.state):
        check.problems.append(f"the pages say readiness {state}, the attached results give {want.state}")
    headlines = HEADLINE.findall(text)
    if not headlines:
        check.problems.append("the cover prints no requirements headline (covered · verified · failing ...)")
    for line in dict.fromkeys(h for h in headlines if h != want.headline):
        check.problems.append(f'the pages say "{line}", the attached results give "{want.headline}"')
    if summary is None:
        check.problems.append(f'the pages have no "{SUMMARY_HEADING}" section')
        return
    for name, count in want.key_figures:
        shown = re.findall(rf"\b{name.capitalize()} (\d+) of (\d+)\b", summary)
        if not shown:
            check.problems.append(f"the Key Figures table has no {name} row")
        for n, of in dict.fromkeys(s for s in shown if s != (str(count), str(want.applicable))):
            check.problems.append(f"the Key Figures table says {name} {n} of {of}, the attached results give "
                                  f"{count} of {want.applicable}")
    from golive.report.html import STATUS_LABELS
    table = " ".join(STATUS_LABELS[s] for s, _ in want.by_status)
    shown = re.findall(rf"{re.escape(table)} ((?:\d+ ?)+)", summary)
    counts = " ".join(str(n) for _, n in want.by_status)
    if not shown:
        check.problems.append("the Executive Summary has no status-count table")
    for row in dict.fromkeys(s.strip() for s in shown if s.strip() != counts):
        check.problems.append(f"the status-count table ({table}) says {row}, the attached results give {counts}")


def _check_rows(check: PageCheck, phases: str | None, want: Expected) -> None:
    if phases is None:
        check.problems.append(f'the pages have no "{PHASE_HEADING}" section')
        return
    from golive.report.html import STATUS_LABELS
    labels = "|".join(sorted(set(STATUS_LABELS.values()), key=len, reverse=True))
    for req, priority, label in want.rows:
        # the row: ID, title (any text, wrapped), priority, status; the ID's first appearance
        prio = f" {re.escape(priority)}" if priority else ""
        found = re.search(rf"(?<![\w-]){_wrapped(req)}(?![\w-]).{{0,600}}?{prio} ({labels})\b", phases)
        if found is None:
            check.problems.append(f"{req}: the requirement table shows no status for it")
        elif found[1] != label:
            check.problems.append(f"{req}: the requirement table says {found[1]}, the attached results give {label}")
        else:
            check.statuses += 1


def _wrapped(identifier: str) -> str:
    """A pattern for ``identifier`` as the pages print it: a line may break after - _ . /"""
    return "".join(re.escape(c) + (" ?" if c in "-_./" else "") for c in identifier)


def _states() -> Iterable[str]:
    from golive.report.standing import STATES, UNDETERMINED
    return (*STATES, UNDETERMINED)
