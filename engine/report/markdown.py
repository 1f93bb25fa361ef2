"""Markdown rendering, laid out like the reference gap-analysis report.

The headings, bullet shapes and ✅/❌ lines follow ``gap-analysis-report.md`` so a reader can
put the two side by side; golive's additions (verification results, waivers, changes, evidence)
come as extra sections. Figures are computed, and the executive summary says how.

Evidence text is escaped so it cannot turn into links, images, HTML or table cells: characters
that open Markdown constructs are backslash-escaped and line breaks are folded.
"""
from __future__ import annotations

import re
from pathlib import Path

from golive.report.model import RenderModel
from golive.report.standing import METHODOLOGY

BAND_HEADINGS = {"well": ("✅", "Well-Covered Areas"), "partial": ("⚠️", "Partially Covered Areas"),
                 "major": ("❌", "Major Gaps")}
STATUS_MARK = {"pass": "✅", "fail": "❌", "partial": "⚠️", "missing": "❌", "error": "❌",
               "skipped": "⏭️", "waived": "⚠️"}
# Characters that open Markdown constructs (code, emphasis, links, tables, strikethrough).
_SPECIAL = re.compile(r"([\\`*\[\]|~])")
_EDGE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
# "<" becomes an entity, not a backslash escape: GFM's extended autolinks swallow a backslash
# ("http://a.b/x\\<img ...>" left "<img ...>" raw). Without "<" no tag can open, so ">" stays
# (thresholds read "> 75 %"); "&" only when it would read as an entity, so "R&D" stays readable.
_HTML = re.compile(r"<|&(?=#?[A-Za-z0-9]+;)")
_HTML_ENTITY = {"<": "&lt;", "&": "&amp;"}
# GFM turns bare "scheme://..." and "www." into links; an escaped ":" or "." keeps them text.
_AUTOLINK = re.compile(r"(?i)(?<=[a-z0-9])(:)(?=//)|(?<![a-z0-9])(www)(\.)")
# Block markers at the start of a line (heading, list item, setext underline, quote): escaped in place.
_LEADING_BLOCK = re.compile(r"^(?:\d+(?=[.)](?:\s|$))|(?=[#+=-]+(?:\s|$))|(?=>))")


def md(text: object) -> str:
    """Escape evidence or plan text for inline Markdown: it renders as the same text in
    CommonMark and GitHub-flavoured Markdown, never as HTML, a link, an image or a table cell."""
    value = " ".join(str(text).split())
    value = _SPECIAL.sub(r"\\\1", value)
    value = _EDGE_UNDERSCORE.sub(r"\\_", value)
    value = _HTML.sub(lambda m: _HTML_ENTITY[m.group(0)[0]], value)
    return _AUTOLINK.sub(lambda m: "\\:" if m.group(1) else m.group(2) + "\\.", value)


def md_line(text: object) -> str:
    """:func:`md` for text that starts a line, where "# ", "- ", "1. " or ">" would open a block."""
    return _LEADING_BLOCK.sub(lambda m: m.group(0) + "\\", md(text), count=1)


def code_fence(lines) -> str:
    """A fence no line can close: longer than any run of backticks in the lines (a run id
    holding ``` would otherwise end the block and let the rest render as Markdown)."""
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    return "`" * max(3, longest + 1)


def _pct(rate: float) -> str:
    return f"{round(rate * 100)}%"


def _lines(rng) -> str:
    return f" (Lines {rng[0]}-{rng[1]})" if rng else ""


def _verdict(m: RenderModel) -> list[str]:
    v = m.verdict
    out = [f"**Readiness: {md(v.state)}**", ""]
    out += [f"- {md(r)}" for r in v.reasons]
    return out + ([""] if v.reasons else []) + [
        f"**Scope**: {md(m.scope.text)}. **Signature**: {md(m.signature.text)}.", "",
        f"**Requirements**: {md(m.figures.headline)}", ""]


def _executive(m: RenderModel) -> list[str]:
    k, f = m.metrics, m.figures
    plan_lines = f"{k.plan_lines} lines" if k.plan_lines else "the plan"
    return [
        "## Executive Summary", "", *_verdict(m),
        f"This report analyzes the gaps between the original {md(m.plan_title)} requirements "
        f"({plan_lines}) and the actual test implementation ({k.test_files} test files with "
        f"{k.result_files} test result outputs).", "",
        "### Key Metrics",
        f"- **Original Requirements**: {plan_lines} covering {k.phases} major phases "
        f"({k.requirements} requirements in this run)",
        f"- **Test Files Implemented**: {k.test_files} test scripts",
        f"- **Test Results Generated**: {k.result_files} test execution outputs",
        f"- **Covered**: {f.covered} of {f.applicable} requirements ({k.compliance_percent}%) have a confirmed "
        f"test or check evidence, passing or not",
        f"- **Verified**: {f.verified} of {f.applicable} ({k.verification_percent}%) pass their check "
        f"({f.waived} waived, never counted as verified)",
        f"- **Failing**: {f.failing} fail or error; {f.partial} partial; {f.missing} missing; {f.skipped} skipped", "",
        *_if_confirmed(m),
        "How these figures are computed: each requirement counts once. Covered means a confirmed test "
        "or a check produced evidence, whether or not it passes, so the coverage rate is never a "
        "compliance figure; verified means the check passes its thresholds; failing means it failed or "
        "could not run. The readiness verdict applies the plan's readiness policy (see Methodology)."
        + ("" if f.from_engine else " This results document carries no engine figures: they are counted "
                                    "from its statuses by the report.")
        + " The hand-written reference report's headline \"~50%\" cannot be "
        "reproduced from its own category figures (90, 80, 75, 40, 50, 0, 10, 0 and 0%, which "
        "average 38%).", "",
        "| Status | " + " | ".join(md(s) for s, _ in k.by_status) + " |",
        "|---|" + "---|" * len(k.by_status),
        "| Requirements | " + " | ".join(str(n) for _, n in k.by_status) + " |", ""]


def _if_confirmed(m: RenderModel) -> list[str]:
    """The "if confirmed" figure: beside the headline, never inside it."""
    ic = m.if_confirmed
    if ic is None:
        return []
    return [f"**Suggested links (unconfirmed)**: {md(ic.summary_text)}, suggested by text similarity, not yet "
            f"confirmed by the team. If confirmed: {ic.implemented} of {ic.requirements} requirements "
            f"({ic.percent}%) would be covered. Not counted in the figures above; review them "
            f"with `golive link`.", ""]


def _suggested_lines(section) -> list[str]:
    rows = [r for r in section.requirements if r.suggested]
    if not rows:
        return []
    out = ["", "**Suggested (unconfirmed)** — by text similarity, not yet confirmed by the team:"]
    for r in rows:
        files = ", ".join(f"{md(path)} ({md(band)})" for path, band in r.suggested_files)
        out.append(f"- 💡 {md(r.id)} {md(r.title)}: {files}")
    return out


def _implemented_lines(section) -> list[str]:
    out = [f"- ❌ {md(f.name)} - {md('; '.join(f.requirement_titles))} "
           f"(**{f.failing_tests} covering test{'s' if f.failing_tests != 1 else ''} failed**)" if f.failing_tests else
           f"- ✅ {md(f.name)} - {md('; '.join(f.requirement_titles))}" for f in section.covered_files]
    for r in section.requirements:
        if r.implemented and not r.verified:
            why = f": {md(r.reason)}" if r.reason else ""
            out.append(f"- ⚠️ **NOT VERIFIED** ({md(r.status)}): {md(r.title)}{why}")
    if section.implemented_count == 0:
        out.append(f"- ❌ **NOT IMPLEMENTED**: No {md(section.title)} tests")
    else:
        out += [f"- ❌ **MISSING**: {md(r.title)} ({md(r.id)})" for r in section.missing]
    return out


def _phases(m: RenderModel) -> list[str]:
    out = ["## Phase-by-Phase Gap Analysis", ""]
    for p in m.phases:
        out += [f"### {p.number}. {md(p.title)}{_lines(p.plan_lines)}", ""]
        for s in p.sections:
            if len(p.sections) > 1 or s.title != p.title:
                out += [f"#### {md(s.title)}{_lines(s.plan_lines)}"]
            out += ["**Required Tests:**"] + [f"- {md(r.title)}" for r in s.requirements]
            out += ["", "**Implemented Tests:**"] + _implemented_lines(s) + _suggested_lines(s) + [""]
    return out


def _categories(m: RenderModel) -> list[str]:
    well, partial = _pct(m.bands.get("well", 0.75)), _pct(m.bands.get("partial", 0.25))
    limits = {"well": f"≥{well} verified, none failing", "partial": f"{partial}-{well} verified, or some failing",
              "major": f"<{partial} verified, or a failing P1"}
    out = ["## Gap Summary by Category", "",
           f"Bands judge verification: a category is well covered when at least {well} of its requirements "
           "are verified and none fails or is partial; a failing P1 makes it a major gap whatever its rate.", ""]
    for band in ("well", "partial", "major"):
        mark, heading = BAND_HEADINGS[band]
        out += [f"### {mark} {heading} ({limits[band]})"]
        rows = m.band_rows(band)
        if not rows:
            out += ["None.", ""]
            continue
        for i, c in enumerate(rows, start=1):
            open_rows = m.category_open(c.id)
            p1 = f" ({len(c.failing_p1)} P1)" if c.failing_p1 else ""
            out.append(f"{i}. **{md(c.title)}**: {c.verified}/{c.requirements} verified, {len(c.failing)} failing"
                       f"{p1}, {c.implemented}/{c.requirements} covered ({c.percent}%)")
            out.append(f"   - Open: {md('; '.join(f'{r.id} {r.title} ({r.status})' for r in open_rows))}" if open_rows
                       else "   - All requirements verified, waived or not applicable")
        out.append("")
    return out


def _verification(m: RenderModel) -> list[str]:
    out = ["## Verification Results", ""]
    if not m.verification:
        return out + ["No requirement in this run has thresholds or a failing check.", ""]
    out += ["| Requirement | Metric | Expected | Observed | Result |", "|---|---|---|---|---|"]
    for r in m.verification:
        verdict = f"{STATUS_MARK.get(r.status, '❔')} {md(r.status)}" + (f": {md(r.reason)}" if r.reason else "")
        if not r.thresholds:
            out.append(f"| {md(r.id)} | — | — | — | {verdict} |")
        for t in r.thresholds:
            met = "met" if t.passed else "not evaluated" if t.passed is None else "not met"
            expected = md(t.expected) + (" **LOOSENED by tailoring**" if t.loosened else "")
            out.append(f"| {md(r.id)} | {md(t.metric)} | {expected} | {md(t.observed)} | {met}; {verdict} |")
    return out + [""]


def _waivers(m: RenderModel) -> list[str]:
    out = ["## Waivers", ""]
    if not m.waivers:
        return out + ["No waivers apply to this run.", ""]
    out += ["| Requirement | Approver | Justification | Expires | State |", "|---|---|---|---|---|"]
    out += [f"| {md(w.requirement_id)} | {md(w.approved_by)} | {md(w.reason)} | {md(w.expires)} | "
            f"{md(w.state_label)} (recorded: {md(w.recorded_status)}) |" for w in m.waivers]
    out += ["", "A waiver in force shows the requirement as waived; it is never counted as a pass.", ""]
    return out + _attached([(f"{w.requirement_id}, waiver approved by {w.approved_by}", w.files) for w in m.waivers])


def _attestations(m: RenderModel) -> list[str]:
    out = ["## Attestations", ""]
    if not m.attestations:
        return out + ["No manual requirement is attested in this run.", ""]
    out += ["| Requirement | Attested by | Statement | Signed | Expires |", "|---|---|---|---|---|"]
    out += [f"| {md(a.requirement_id)} | {md(a.attested_by)}{' (' + md(a.role) + ')' if a.role else ''} | "
            f"{'*Supporting evidence:* ' if a.supporting else ''}{md(a.statement)} | {md(a.time)} key {md(a.key_id)} | "
            f"{md(a.expires)} |" for a in m.attestations]
    out += ["", "A manual requirement counts as verified only while a signed, unexpired attestation covers it; "
            "a supporting attestation never changes the status its check gives.", ""]
    return out + _attached([(f"{a.requirement_id}, {'supporting ' if a.supporting else ''}attestation by "
                             f"{a.attested_by}", a.files) for a in m.attestations])


def _attached(owners: list[tuple[str, tuple]]) -> list[str]:
    """The files attached to waivers or attestations, one line each with the whole sha256."""
    lines = [f"- {md(owner)}: {md(f['path'])} — sha256 {md(f['sha256'])}"
             + (f", {f['size']:,} bytes" if f["size"] is not None else "")
             for owner, files in owners for f in files]
    return ["Attached files (each stored in the evidence ledger; `golive evidence show RUN REQ` lists them):", "",
            *lines, ""] if lines else []


def _changes(m: RenderModel) -> list[str]:
    out = ["## Changes Since the Previous Run", ""]
    ch = m.changes
    if ch is None:
        return out + ["No previous run was given; nothing to compare.", ""]
    if ch.incomparable:
        return out + [f"The previous run {md(ch.previous_run_id)} is not compared: {md(ch.incomparable)}. Runs are "
                      "compared only within one series (same plan digest, tailoring and selection).", ""]
    out += [f"Compared with run {md(ch.previous_run_id)} (finished {md(ch.previous_finished)}), of the same "
            "plan digest, tailoring and selection.", ""]
    if ch.empty:
        out += ["No requirement changed status and the plan is unchanged.", ""]
    for heading, items in (("Newly failing", ch.newly_failing), ("Newly passing", ch.newly_passing),
                           ("Other status changes", ch.other)):
        if items:
            out += [f"### {heading} ({len(items)})"]
            out += [f"- {md(c.requirement_id)} {md(c.title)}: {md(c.before)} → {md(c.after)}" for c in items]
            out.append("")
    if ch.plan_changed:
        out += ["### Plan changes", f"- Plan digest: {md(ch.plan_digest_before)} → {md(ch.plan_digest_after)}"]
        out += [f"- Added: {md(', '.join(ch.added))}"] if ch.added else []
        out += [f"- Removed: {md(', '.join(ch.removed))}"] if ch.removed else []
        out.append("")
    return out


def _tail(m: RenderModel) -> list[str]:
    out = ["## Additional Tests Beyond Requirements", ""]
    if m.additional_test_files:
        out += ["The following tests were implemented but cover no requirement of the plan (by file; "
                "a test that covers a requirement is never counted here):"]
        out += [f"- {md(f.path)} — {md(f.label)}" for f in m.additional_test_files]
    else:
        out += ["Every test found covers at least one requirement."]
    out += ["", "## Recommendations", ""]
    heading = None
    number = 0
    for rec in m.recommendations:
        if rec.heading != heading:
            heading, number = rec.heading, 0
            out += ([""] if out[-1] else []) + [f"### {md(heading)}"]
        number += 1
        out.append(f"{number}. **{md(rec.title)}**")
        out += [f"   - {md(item)}" for item in rec.items]
    if not m.recommendations:
        out.append("No gaps and no failing checks: nothing to recommend.")
    a = m.assessment
    out += ["", "## Overall Assessment", "", f"**Current Implementation Status**: {md(a.status_line)}", "",
            md_line(a.summary), "", "### Strengths:"]
    out += [f"- {md(s)}" for s in a.strengths] or ["- No category is well covered yet (verified, nothing failing)."]
    out += ["", "### Weaknesses:"] + ([f"- {md(w)}" for w in a.weaknesses]
                                      or ["- Every category is well covered: verified, with nothing failing."])
    out += ["", "### Risk Assessment:", md_line(a.risk), "", "## Implementation Timeline Recommendation", ""]
    out += [f"{i}. **{slot.weeks}**: {md('; '.join(slot.items))}" for i, slot in enumerate(m.timeline, start=1)]
    w = m.open_work
    total = sum(w.values())
    out += ["", f"Total estimated effort: {len(m.timeline) * 2} weeks for the {total} open requirements "
                f"({w['fix']} failing or partial to fix, {w['implement']} not covered to implement, "
                f"{w['evidence']} without current evidence), highest priority first, failing before missing, "
                f"at eight requirements a week." if total else
            "No open requirement: everything in scope is verified, waived or not applicable."]
    return out + [""]


def _tailoring(m: RenderModel) -> list[str]:
    out = ["## Tailoring", ""]
    if not (m.evidence.tailoring_digest or m.loosened):
        return out + ["No tailoring: every requirement was judged against the plan's own thresholds.", ""]
    out += [f"This run applied a tailoring file (sha256 {md(m.evidence.tailoring_digest)}; see docs/tailoring.md). "
            + (f"It **loosened {len(m.loosened)} threshold(s)**: these requirements were judged against a "
               "weaker bar than the plan's." if m.loosened else "It loosened no threshold."), ""]
    if m.loosened:
        out += ["| Requirement | Plan | Tailored (LOOSENED) | Reason |", "|---|---|---|---|"]
        out += [f"| {md(x.requirement_id)} | {md(x.before)} | {md(x.after)} | {md(x.reason)} |" for x in m.loosened]
        out.append("")
    return out


def _closing(m: RenderModel) -> list[str]:
    out = ["## Methodology", ""] + [f"- {md(line)}" for line in METHODOLOGY] + [""]
    if m.verdict.policy:
        out += ["Readiness policy applied:", ""] + [f"- {md(k)}: {md(v)}" for k, v in sorted(m.verdict.policy.items())]
        out.append("")
    so = m.signoff
    out += ["## Sign-off", "", f"Required by {md(so.source)}: **{md(so.required)}**. State: **{md(so.state)}**. "
            f"Verdict with the sign-off taken into account: **{md(m.verdict.state)}**.", ""]
    if so.rows:
        out += ["| Name | Role | Decision | Signed | Signature | Independent of the run | Key / entry |",
                "|---|---|---|---|---|---|---|"]
        out += [f"| {md(r.name)} | {md(r.role)} | {r.decision} | {md(r.time)} | {md(r.verified)} | "
                f"{md(r.independent)} | {md(r.key_id)} #{r.entry} |" for r in so.rows]
        out += ["", "`golive signoff export RUN` writes the signed statements and public keys to verify offline."]
    elif not so.read_from_ledger:
        out.append("Rendered without reading sign-offs from the ledger: `golive report RUN` shows them.")
    return out + [""]


def _evidence(m: RenderModel) -> list[str]:
    e = m.evidence
    out = ["## Evidence Appendix", "", f"- **Run id**: {md(e.run_id)}",
           f"- **Started / finished**: {md(e.started)} / {md(e.finished)}"]
    out += [f"- **{label}**: {md(value)}" for label, value in m.provenance.rows]
    out += [f"- **Plan**: {md(e.plan_id)} {md(e.plan_version)}, digest {md(e.plan_digest)}",
            f"- **Scope**: {md(m.scope.text)}", f"- **Signature**: {md(m.signature.text)}"]
    if e.ledger:
        out += [f"- **Ledger**: {md(e.ledger.get('size'))} entries, head {md(e.ledger.get('head'))}",
                f"- **Checkpoint signature**: {md(e.ledger.get('checkpoint_signature'))}",
                f"- **Signing key id**: {md(e.ledger.get('key_id'))}",
                f"- **Signing key protection**: {md(e.key_protection)}"]
    else:
        out.append("- **Ledger**: no ledger was written for this run; the results are not signed.")
    fence = code_fence(e.verify_commands)
    out += [f"- **results.json sha256**: {md(e.results_sha256)}", "", "How to verify:", "", fence]
    out += list(e.verify_commands) + [fence, ""]
    return out + _proof(m)


def _proof(m: RenderModel) -> list[str]:
    """The run's proof bundle (written beside this file) and its checkpoint."""
    p = m.proof
    if p is None:
        return []
    when = f"{md(p.timestamp)}, issued by {md(p.timestamp_issuer or 'an unnamed authority')}" if p.timestamp else "none"
    commands = p.verify_commands(False)
    fence = code_fence(commands)
    return ["### Proof bundle", "",
            f"- **Bundle**: {md(p.file_name)} beside this report ({p.entries} ledger entries with inclusion proofs)",
            f"- **Log**: {md(p.origin)}",
            f"- **Checkpoint**: tree size {p.size} (the ledger up to this run's last entry; the checkpoint entry "
            f"that signs them is the next one), root hash {md(p.root_hex)}",
            f"- **Witness cosignatures**: {md(', '.join(p.cosigners)) if p.cosigners else 'none'}",
            f"- **Timestamp**: {when}", "", fence, *commands, fence, ""]


def render_markdown(model: RenderModel) -> str:
    parts = [f"# {md(model.plan_title)} Gap Analysis Report", ""]
    for section in (_executive, _phases, _categories, _verification, _waivers, _attestations, _changes, _tail,
                    _tailoring, _evidence, _closing):
        parts += section(model)
    return "\n".join(parts).rstrip() + "\n"


def write_markdown(model: RenderModel, out_path: Path) -> Path:
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(render_markdown(model), encoding="utf-8")
    return out_path
