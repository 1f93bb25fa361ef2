"""The self-assessment document as data: what the Markdown and PDF templates render.

Every statement that rests on evidence carries :class:`Citation`\\ s, each a ledger entry by its
sequence number and entry hash, so a reader can check it with ``golive evidence verify`` and
``golive evidence show``. Plain frozen dataclasses; no rendering here.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from golive.report.signoff_view import SignoffView

#: how an item's conclusion follows from its requirements; printed in the document
CONCLUSION_RULES = (
    ("met", "every mapped requirement is satisfied in every run the assessment uses (passed, or waived by a "
            "signed waiver in force when the run finished) and the catalog names no part of the item that the "
            "requirements leave uncovered"),
    ("partly met", "no mapped requirement fails, and either some are satisfied while others have no evidence "
                   "(not run, missing, skipped, or satisfied for one target but not observed for another), or all "
                   "are satisfied but the catalog names a part of the item they do not evidence"),
    ("not met", "any mapped requirement fails (fail, partial or error) in any run used, including a "
                "requirement whose waiver had expired when the run finished"),
    ("no evidence", "no mapped requirement was observed in the runs used, or the item is a gap: no plan "
                    "requirement evidences it. An item without evidence is never met"),
)


@dataclass(frozen=True)
class Citation:
    """A ledger entry a statement rests on."""

    seq: int
    digest: str  # the entry's hash (hex), as `golive evidence verify` recomputes it
    kind: str    # result | waiver | attestation | checkpoint | signoff

    @property
    def short(self) -> str:
        return f"entry {self.seq} ({self.digest[:16]})"


@dataclass(frozen=True)
class RunRef:
    """A finished, checkpointed run of the ledger whose start falls in the period."""

    run_id: str
    target: str
    started: str
    finished: str
    plan: str
    selection: tuple[str, ...]
    checkpoint: Citation
    used: bool
    note: str  # why it is used, or which run supersedes it


@dataclass(frozen=True)
class RequirementLine:
    """One mapped requirement as one used run recorded it."""

    requirement_id: str
    title: str
    run_id: str
    target: str
    status: str       # the effective status (waived when a waiver held)
    state: str        # satisfied | failing | no evidence
    why: str
    manual: bool
    reason: str = ""  # the check's own reason, for failing and unobserved lines
    citation: Citation | None = None


@dataclass(frozen=True)
class WaiverLine:
    requirement_id: str
    run_id: str
    approver: str
    expires: str
    reason: str
    citation: Citation


@dataclass(frozen=True)
class AttestationLine:
    requirement_id: str
    attested_by: str
    role: str
    statement: str
    time: str
    expires: str
    supporting: bool
    used_by_run: bool  # a run's result cites it (it verified a manual requirement)
    citation: Citation


@dataclass(frozen=True)
class Action:
    """Something people must do, derived from a requirement that is not satisfied."""

    item_ids: tuple[str, ...]
    requirement_id: str
    what: str
    owner: str  # the plan's owner role of the requirement (its own, else its section's), else "unassigned"
    due: str    # a waiver's expiry, else "none"
    citation: Citation | None = None


@dataclass(frozen=True)
class ItemAssessment:
    id: str
    reference: str
    title: str
    text: str
    conclusion: str
    basis: str  # why this conclusion, in one sentence
    requirements: tuple[RequirementLine, ...]
    waivers: tuple[WaiverLine, ...]
    attestations: tuple[AttestationLine, ...]
    actions: tuple[Action, ...]
    needs_people: tuple[str, ...]  # what no check can show and a person must state
    uncovered: str | None = None
    gap: str | None = None

    @property
    def citations(self) -> tuple[Citation, ...]:
        cited = [line.citation for line in self.requirements if line.citation]
        cited += [w.citation for w in self.waivers] + [a.citation for a in self.attestations]
        return tuple(dict.fromkeys(cited))


@dataclass(frozen=True)
class SignoffPage:
    run_id: str
    target: str
    view: SignoffView
    entries: tuple[Citation, ...]  # the sign-off entries, by seq and hash


@dataclass(frozen=True)
class LedgerFacts:
    """What the verification established before anything was read."""

    store: str
    entries: int
    head: str
    statement: str


@dataclass(frozen=True)
class Assessment:
    framework_id: str
    framework_title: str
    source: str
    url: str | None
    title: str      # the document's title
    purpose: str    # what the document is (and is not)
    period: str
    written: str    # when the document was written (UTC)
    plan: str       # plan id, version and digest the catalog maps to
    ledger: LedgerFacts
    runs: tuple[RunRef, ...]
    items: tuple[ItemAssessment, ...]
    signoffs: tuple[SignoffPage, ...]
    notes: tuple[str, ...] = ()
    rules: tuple[tuple[str, str], ...] = CONCLUSION_RULES
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def used_runs(self) -> tuple[RunRef, ...]:
        return tuple(r for r in self.runs if r.used)

    @property
    def other_runs(self) -> tuple[RunRef, ...]:
        return tuple(r for r in self.runs if not r.used)

    @property
    def actions(self) -> tuple[Action, ...]:
        """The open actions of every item, one per requirement and task, naming all its items."""
        merged: dict[tuple[str, str], Action] = {}
        for item in self.items:
            for a in item.actions:
                key = (a.requirement_id, a.what)
                seen = merged.get(key)
                merged[key] = a if seen is None else replace(seen, item_ids=(*seen.item_ids, *a.item_ids))
        return tuple(merged.values())

    def as_dict(self) -> dict[str, Any]:
        """The document as plain data (the PDF's embedded ``assessment.json``)."""
        from dataclasses import asdict

        data = asdict(self)
        data["signoffs"] = [{"run_id": p.run_id, "target": p.target, "required": p.view.required,
                             "state": p.view.state, "entries": [asdict(c) for c in p.entries]}
                            for p in self.signoffs]
        return data
