"""What a report says first: the readiness verdict, the figures, the scope, the signature and who
ran it (issue 14, points 1, 5 and 6).

Everything here is read from the results document, never decided here:

* the verdict is the engine's ``summary.verdict`` (``READY`` / ``NOT READY`` / ``INCOMPLETE``
  with reasons and the policy applied), its reasons shown failures first. A document without one (written before the readiness
  policy existed) shows "NOT DETERMINED" and says so; the report never invents a verdict;
* the figures are ``summary.figures`` (covered, verified, waived, failing, partial, missing,
  skipped, selected). A document without them gets the same figures counted from its results'
  statuses, marked as counted by the report;
* the scope compares the selected requirements with the whole plan (``N of 94 selected``), so a
  sliced ``--only`` run can never read as the whole plan;
* the signature state comes from ``run.ledger``: only a signed checkpoint is "signed", and the
  cover's wording follows it (an unsigned dry run never claims "signed results");
* provenance (user, host, target commit and dirty state) is ``run.provenance``.
"""
from __future__ import annotations

from dataclasses import dataclass
import re
from typing import Any, Iterable, Mapping, Sequence

from golive.report.inputs import ReportInputError

STATES = ("READY", "NOT READY", "INCOMPLETE")
UNDETERMINED = "NOT DETERMINED"
NOT_RECORDED = "not recorded"
FIGURE_KEYS = ("selected", "covered", "verified", "waived", "failing", "partial", "missing", "skipped")
FIGURE_LABELS = {
    "covered": "a confirmed test or a check produced evidence",
    "verified": "passes its thresholds (waivers shown apart, never counted here)",
    "waived": "accepted by a signed, unexpired waiver",
    "failing": "the check failed or could not run (fail or error)",
    "partial": "some thresholds or parts met, not all",
    "missing": "no test and no evidence, or evidence not exercised or stale",
    "skipped": "not applicable (tailoring) or skipped by the check",
}


#: How the statuses, figures and verdict are reached: printed in the Methodology section.
METHODOLOGY = (
    "The plan is YAML, one requirement per required test, each with a priority (P1 critical), a "
    "statement and, where golive can judge it, a check with thresholds; its sha256 digest is printed "
    "with the run so the yardstick cannot change unnoticed.",
    "Each selected requirement is judged by its check (golive's own recomputation from the target's "
    "code, data, records, logs and configuration), by the team's linked tests (markers, the reviewed "
    "map file, the plan's covered_by globs), or, for manual requirements, by a signed attestation.",
    "A check that observed nothing never passes: no events in the period, a period shorter than the "
    "plan's min_period or evidence older than its max_age makes the requirement missing, with the reason.",
    "Statuses: pass (all thresholds met), fail, partial (some met), error (the check could not run), "
    "missing (no test, no evidence, or evidence not exercised or stale), skipped (not applicable by "
    "tailoring), waived (a signed, unexpired waiver; never counted as a pass).",
    "Figures count requirements, each once: covered (a confirmed test or a check produced evidence, "
    "passing or not), verified (passes), failing (fail or error), partial, missing, waived, skipped.",
    "The readiness verdict applies the plan's readiness policy (by default every P1 verified or "
    "validly waived, nothing failing or erroring, manual items attested): READY, NOT READY, or "
    "INCOMPLETE when the run covers part of the plan or is not signed.",
    "Evidence: every result is an entry of an append-only, hash-chained ledger whose checkpoint is "
    "signed; the report carries the results document's sha256 and the signed ledger head, which "
    "`golive evidence verify` checks.",
)


@dataclass(frozen=True)
class VerdictView:
    state: str  # one of STATES, or UNDETERMINED for a document without a verdict
    reasons: tuple[str, ...]
    policy: Mapping[str, Any]
    from_engine: bool

    @property
    def css(self) -> str:
        return self.state.lower().replace(" ", "-")

    @property
    def sentence(self) -> str:
        """One line for headlines: ``NOT READY: 5 P1 requirements fail (+3 more reasons)``."""
        if not self.reasons:
            return self.state
        more = f" (+{len(self.reasons) - 1} more reason{'s' if len(self.reasons) > 2 else ''})" \
            if len(self.reasons) > 1 else ""
        return f"{self.state}: {self.reasons[0]}{more}"


@dataclass(frozen=True)
class Figures:
    selected: int
    covered: int
    verified: int
    waived: int
    failing: int
    partial: int
    missing: int
    skipped: int
    from_engine: bool
    not_applicable: int = 0

    @property
    def applicable(self) -> int:
        """The denominator: selected requirements not tailored out as not applicable."""
        return self.selected - self.not_applicable

    def items(self) -> tuple[tuple[str, int, str], ...]:
        """(name, count, definition) in headline order, ``selected`` first."""
        return (("selected", self.selected, "requirements in this run's scope"),
                *((k, getattr(self, k), FIGURE_LABELS[k]) for k in FIGURE_KEYS[1:]))

    @property
    def headline(self) -> str:
        """``covered 92 of 94 · verified 70 · failing 6 · partial 15 · missing 2``."""
        return (f"covered {self.covered} of {self.applicable} · verified {self.verified} · "
                f"failing {self.failing} · partial {self.partial} · missing {self.missing} · "
                f"waived {self.waived} · skipped {self.skipped}")


@dataclass(frozen=True)
class Scope:
    selected: int
    plan_total: int | None
    selection: tuple[str, ...]
    not_applicable: int

    @property
    def partial(self) -> bool:
        return bool(self.selection) or (self.plan_total is not None and self.selected < self.plan_total)

    @property
    def text(self) -> str:
        if not self.partial:
            text = f"all {self.plan_total or self.selected} requirements of the plan"
        elif self.plan_total is None:
            text = f"{self.selected} requirements selected (the plan's total was not recorded)"
        else:
            text = f"{self.selected} of {self.plan_total} requirements selected"
            if self.selection:
                text += f" (--only {', '.join(self.selection)})"
        if self.not_applicable:
            text += f"; {self.not_applicable} tailored out as not applicable"
        return text


@dataclass(frozen=True)
class Signature:
    signed: bool
    recorded: bool
    text: str


@dataclass(frozen=True)
class Provenance:
    rows: tuple[tuple[str, str], ...]  # (label, value) in display order

    def value(self, label: str) -> str:
        return dict(self.rows).get(label, "")

    @property
    def who(self) -> str:
        """``by alice on build-01``, or what is known of it."""
        user, host = self.value("Run by"), self.value("Host")
        by = f"by {user}" if user != NOT_RECORDED else "by an unrecorded user"
        return f"{by} on {host}" if host != NOT_RECORDED else by


def verdict_of(summary: Mapping[str, Any]) -> VerdictView:
    raw = summary.get("verdict")
    if raw is None:
        return VerdictView(UNDETERMINED, (
            "this results document carries no readiness verdict (it was written by a golive "
            "without the readiness policy); re-run `golive run` to have one",), {}, False)
    if not isinstance(raw, Mapping) or raw.get("state") not in STATES:
        raise ReportInputError(f"results document: summary.verdict.state must be one of "
                               f"{', '.join(STATES)}, got {raw!r:.80}")
    reasons = raw.get("reasons") or ()
    if not isinstance(reasons, Sequence) or isinstance(reasons, str):
        raise ReportInputError("results document: summary.verdict.reasons must be a list of strings")
    return VerdictView(str(raw["state"]), _failing_first(str(r) for r in reasons),
                       dict(raw.get("policy") or {}), True)


_FAILS = re.compile(r"^\S+ \([^)]*\) (?:fails|errors): ")


def _failing_first(reasons: Iterable[str]) -> tuple[str, ...]:
    """The engine's reasons (by priority, then plan order) with the failing and erroring
    requirements first: a cover showing four reasons shows the failures before the partials."""
    reasons = tuple(reasons)
    return tuple(sorted(reasons, key=lambda r: not _FAILS.match(r)))


def figures_of(summary: Mapping[str, Any], statuses: Sequence[str], covered: int) -> Figures:
    """The engine's figures, or the same figures counted from the (waiver-applied) statuses."""
    raw = summary.get("figures")
    if raw is not None:
        missing = [k for k in FIGURE_KEYS if not isinstance(raw.get(k), int) or isinstance(raw.get(k), bool)]
        if missing:
            raise ReportInputError(f"results document: summary.figures lacks integer "
                                   f"{', '.join(missing)}")
        return Figures(**{k: int(raw[k]) for k in FIGURE_KEYS}, from_engine=True,
                       not_applicable=int(raw.get("not_applicable") or 0))
    count = {s: sum(1 for x in statuses if x == s) for s in set(statuses)}
    return Figures(selected=len(statuses), covered=covered, verified=count.get("pass", 0),
                   waived=count.get("waived", 0), failing=count.get("fail", 0) + count.get("error", 0),
                   partial=count.get("partial", 0), missing=count.get("missing", 0),
                   skipped=count.get("skipped", 0), from_engine=False,
                   not_applicable=int(summary.get("not_applicable") or 0))


def scope_of(doc: Mapping[str, Any], plan: Any) -> Scope:
    run, summary = doc["run"], doc["summary"]
    plan_total = len(plan.requirements) if getattr(plan, "requirements", None) else None
    if plan_total is None and isinstance((run.get("plan") or {}).get("requirements"), int):
        plan_total = int(run["plan"]["requirements"])
    selected = int(summary.get("selected") or len(doc["results"]))
    return Scope(selected=selected, plan_total=plan_total,
                 selection=tuple(str(s) for s in run.get("selection") or ()),
                 not_applicable=int(summary.get("not_applicable") or 0))


def signature_of(run: Mapping[str, Any]) -> Signature:
    ledger = run.get("ledger") or None
    if not ledger:
        return Signature(False, False, "not signed: no evidence ledger was written for this run "
                                       "(a dry run, --no-evidence); nothing ties these results to a ledger")
    head = str(ledger.get("head") or "")
    if not ledger.get("checkpoint_signature"):
        return Signature(False, True, f"recorded in the evidence ledger ({ledger.get('size')} entries, "
                                      f"head {head[:23]}) but the checkpoint is not signed")
    return Signature(True, True, f"signed: ledger checkpoint of {ledger.get('size')} entries, head "
                                 f"{head[:23]}…, key {str(ledger.get('key_id') or '')[:16]}")


def provenance_of(run: Mapping[str, Any]) -> Provenance:
    p = run.get("provenance") or {}
    git = p.get("git") or {}
    if git.get("commit"):
        dirty = git.get("dirty")
        state = ("with uncommitted changes" + (f" ({git['changed']} files)" if git.get("changed") else "")
                 if dirty else "clean working tree" if dirty is False else "dirty state unknown")
        commit = f"{git['commit']}, {state}"
    else:
        commit = git.get("error") or ("commit " + NOT_RECORDED if not p else "not a git repository")
    rows = (("Run by", str(p.get("user") or NOT_RECORDED)),
            ("Host", str(p.get("host") or run.get("host") or NOT_RECORDED)),
            ("Target", str(run.get("target", ""))),
            ("Target commit", commit),
            ("golive version", str(p.get("golive_version") or run.get("golive_version", ""))))
    return Provenance(rows)
