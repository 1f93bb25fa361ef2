"""Reading a verified ledger for an assessment: runs in the period, the latest per target,
their results re-made from the entries, the waivers and attestations, and the sign-offs.

Nothing here trusts the derived files under ``<store>/runs/``: results come from the result
entries (``golive.ledger.bind.rebuild_document``), the stored document only lends titles and
the plan's sign-off policy. Call :func:`verify` first; an assessment is never written from a
ledger that does not verify.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from sqlalchemy import text

from golive.assess.model import Citation, LedgerFacts, RunRef
from golive.assess.period import Period, moment
from golive.ledger.chain import LedgerError
from golive.ledger.store import Store, payload_bytes

RUN_KINDS = ("run-started", "run-finished", "checkpoint")


class LedgerRefused(Exception):
    """The ledger does not verify; ``problem`` is the first entry or blob that fails."""

    def __init__(self, store: str, problem: str, more: int):
        self.problem, self.more = problem, more
        super().__init__(f"the ledger at {store} does not verify: {problem}"
                         + (f" (and {more} more problem(s))" if more else "")
                         + "; no assessment is written from it. `golive evidence verify` lists every problem")


def verify(store: Store) -> LedgerFacts:
    """Verify the whole store (chain, signatures, checkpoints, blobs) or raise :class:`LedgerRefused`."""
    from golive.ledger.integrity import require_intact
    from golive.ledger.verify import verify_store

    require_intact(store)
    report = verify_store(store)
    if not report.ok:
        raise LedgerRefused(str(store.path), str(report.first_problem), len(report.problems) - 1)
    return LedgerFacts(store=str(store.path), entries=report.entries, head=report.head,
                       statement=f"verified before writing: {report.entries} entries, {report.signatures} "
                                 f"signatures, {report.checkpoints} checkpoints and {report.blobs} blobs; "
                                 f"head {report.head}")


def entry_hashes(store: Store, seqs: set[int]) -> dict[int, str]:
    if not seqs:
        return {}
    with store.read() as conn:
        rows = conn.execute(text(f"SELECT seq, entry_hash FROM ledger_entries WHERE seq IN "
                                 f"({','.join(str(int(s)) for s in seqs)})")).all()
    return {int(seq): str(digest) for seq, digest in rows}


@dataclass
class RecordedRun:
    """A run of the ledger, as its run-started, run-finished and checkpoint entries say."""

    run_id: str
    started: str
    target: str
    plan: str
    selection: tuple[str, ...]
    finished: str = ""
    checkpoint: Citation | None = None
    stored: dict[str, Any] | None = None  # the derived document under <store>/runs/, if readable

    @property
    def target_key(self) -> str:
        run = (self.stored or {}).get("run") or {}
        return str(run.get("target_identity") or (run.get("provenance") or {}).get("target_identity")
                   or self.target)

    @property
    def target_label(self) -> str:
        """The identity runs are grouped by, with the workspace the run was given when it differs:
        ``git:<root commit>`` alone does not tell a reader which repository it is."""
        key = self.target_key
        return f"{key} ({self.target})" if self.target and self.target != key else key


@dataclass
class Selection:
    """The runs of the period, per target newest first (``groups``); ``used`` holds each target's
    latest run. Which runs a document rests on is decided per requirement (:func:`run_refs`)."""

    runs: list[RunRef] = field(default_factory=list)
    used: list[RecordedRun] = field(default_factory=list)
    groups: dict[str, list[RecordedRun]] = field(default_factory=dict)
    unfinished: list[str] = field(default_factory=list)  # run ids in the period without a checkpoint
    recorded: int = 0       # finished, checkpointed runs in the whole ledger
    first_last: tuple[str, str] = ("", "")  # their earliest and latest start


def recorded_runs(store: Store) -> tuple[list[RecordedRun], list[RecordedRun]]:
    """(checkpointed runs, runs without a checkpoint), in ledger order."""
    from golive import history

    with store.read() as conn:
        rows = conn.execute(text("SELECT seq, run_id, kind, payload, entry_hash FROM ledger_entries "
                                 "WHERE kind IN ('run-started', 'run-finished', 'checkpoint') ORDER BY seq")).all()
    runs: dict[str, RecordedRun] = {}
    for seq, run_id, kind, payload, digest in rows:
        body = json.loads(payload_bytes(payload))
        if kind == "run-started" and run_id not in runs:
            plan = body.get("plan") or {}
            runs[run_id] = RecordedRun(run_id, str(body.get("started") or ""), str(body.get("target") or ""),
                                       f"{plan.get('id', '')} {plan.get('version', '')}".strip(),
                                       tuple(str(s) for s in body.get("selection") or ()))
        elif run_id in runs and kind == "run-finished":
            runs[run_id].finished = str(body.get("finished") or "")
        elif run_id in runs and kind == "checkpoint" and runs[run_id].checkpoint is None:
            runs[run_id].checkpoint = Citation(int(seq), str(digest), "checkpoint")
    for run in runs.values():
        try:
            run.stored = history.load(store.path, run.run_id)
        except (history.HistoryError, OSError, ValueError, RecursionError):
            run.stored = None  # the ledger alone makes the document
    done = [r for r in runs.values() if r.checkpoint is not None and r.finished]
    return done, [r for r in runs.values() if r not in done]


def select_runs(store: Store, period: Period) -> Selection:
    """The period's runs, and per target the one the assessment uses: the latest started (ties:
    the later checkpoint). A run counts for the period when it started in it."""
    done, open_runs = recorded_runs(store)
    selection = Selection(recorded=len(done))
    if done:
        starts = sorted(r.started for r in done)
        selection.first_last = (starts[0][:10], starts[-1][:10])
    inside = [r for r in done if (m := moment(r.started)) is not None and period.holds(m)]
    selection.unfinished = [r.run_id for r in open_runs if (m := moment(r.started)) is not None and period.holds(m)]
    for run in sorted(inside, key=lambda r: (moment(r.started), r.checkpoint.seq), reverse=True):
        selection.groups.setdefault(run.target_key, []).append(run)
    selection.groups = dict(sorted(selection.groups.items()))
    selection.used = [runs[0] for runs in selection.groups.values()]
    selection.runs = run_refs(selection, {run.run_id: set() for run in selection.used})
    return selection


def run_refs(selection: Selection, used_for: Mapping[str, set[str]]) -> list[RunRef]:
    """The period's runs, oldest first, each marked used when the document rests on it: a
    target's latest run always, an earlier one for the requirements (``used_for``) that no later
    run of the target recorded -- a run of a few requirements (``--only``) never hides the rest."""
    refs = []
    for runs in selection.groups.values():
        newest = runs[0]
        for run in runs:
            used = run is newest or bool(used_for.get(run.run_id))
            if run is newest:
                note = f"the latest run of target {run.target_label} in the period"
            elif used:
                ids = sorted(used_for[run.run_id])
                note = (f"used for {len(ids)} requirement(s) no later run of the target recorded: "
                        f"{', '.join(ids[:12])}{', ...' if len(ids) > 12 else ''}")
            else:
                note = f"superseded by run {newest.run_id} (started {newest.started}) of the same target"
            if run.selection:
                note += f"; it ran only {', '.join(run.selection)}"
            refs.append(RunRef(run.run_id, run.target_label, run.started, run.finished, run.plan,
                               run.selection, run.checkpoint, used, note))
    return sorted(refs, key=lambda r: (moment(r.started), r.checkpoint.seq))


@dataclass
class RunEvidence:
    """One used run: its results document re-made from the ledger, and where each result,
    waiver and sign-off is recorded."""

    run: RecordedRun
    document: dict[str, Any]
    result_entries: dict[str, Citation]   # requirement id -> its result entry
    waivers: dict[str, dict[str, Any]]    # requirement id -> the waiver in force (with its citation)
    attestation_seqs: set[int]            # attestations the run's results cite


def run_evidence(store: Store, run: RecordedRun, bands: Mapping[str, float] | None) -> RunEvidence:
    from golive.ledger.bind import read_run, rebuild_document
    from golive.ledger.show import waived_in_run

    document = rebuild_document(store, run.stored, run.run_id, bands)
    recorded = read_run(store, run.run_id)
    waivers = waived_in_run(store, run.run_id)
    seqs = {seq for seq, _ in recorded.results} | {int(w["seq"]) for w in waivers.values()}
    hashes = entry_hashes(store, seqs)
    results = {str(body.get("requirement_id")): Citation(seq, hashes[seq], "result") for seq, body in recorded.results}
    for w in waivers.values():
        w["citation"] = Citation(int(w["seq"]), hashes[int(w["seq"])], "waiver")
    cited = set()
    for _, body in recorded.results:
        attestation = (body.get("details") or {}).get("attestation")
        if isinstance(attestation, Mapping) and isinstance(attestation.get("seq"), int):
            cited.add(attestation["seq"])
    return RunEvidence(run, document, results, waivers, cited)


def attestations(store: Store, period: Period, targets: set[str]) -> list[dict[str, Any]]:
    """Attestations recorded up to the period's end, not revoked by then and bound to one of
    ``targets`` (an entry recorded before golive bound them to a target is kept), each with its
    citation."""
    from golive.ledger.show import authored_entries

    found = []
    for entry in authored_entries(store, "attestation"):
        when = moment(entry.get("time"))
        if when is None or when > period.last_moment:
            continue
        bound = entry.get("target")
        if isinstance(bound, Mapping) and bound.get("identity") not in targets:
            continue  # another target's attestation says nothing about these runs
        revoked = entry.get("revoked")
        if revoked and (rev := _entry_time(store, int(revoked["seq"]))) is not None and rev <= period.last_moment:
            continue
        found.append(entry)
    hashes = entry_hashes(store, {int(e["seq"]) for e in found})
    for entry in found:
        entry["citation"] = Citation(int(entry["seq"]), hashes[int(entry["seq"])], "attestation")
    return found


def _entry_time(store: Store, seq: int):
    with store.read() as conn:
        row = conn.execute(text("SELECT payload FROM ledger_entries WHERE seq = :s"), {"s": seq}).first()
    return moment(json.loads(payload_bytes(row[0])).get("time")) if row else None


def signoff(store: Store, evidence: RunEvidence) -> tuple[dict[str, Any], tuple[Citation, ...]]:
    """The run's document carrying its sign-off state (``golive.ledger.signoff``, each signature
    verified) for :func:`golive.report.signoff_view.signoff_view`, and the sign-off entries."""
    from golive.ledger.signoff import status

    document = dict(evidence.document)
    try:
        state = status(store, evidence.run.run_id)[1]
    except (LedgerError, OSError, ValueError, KeyError):
        document.pop("signoff", None)  # the page says no sign-off was read
        return document, ()
    document["signoff"] = state
    seqs = {int(s["seq"]) for s in state.get("signatures") or ()}
    hashes = entry_hashes(store, seqs)
    return document, tuple(Citation(seq, hashes[seq], "signoff") for seq in sorted(seqs))


class TargetRuns:
    """One target's runs of the period, newest first, their evidence read from the ledger only
    when a requirement needs it (the latest run usually recorded every requirement)."""

    def __init__(self, runs: list[Any], load: Callable[[Any], RunEvidence]):
        self.runs = runs
        self._load = load
        self._read: dict[int, RunEvidence] = {}

    @classmethod
    def of_evidence(cls, evidence: list[RunEvidence]) -> list["TargetRuns"]:
        """Group already read evidence by target, newest first."""
        groups: dict[str, list[RunEvidence]] = {}
        for ev in sorted(evidence, key=lambda e: e.run.started, reverse=True):
            groups.setdefault(ev.run.target_key, []).append(ev)
        return [cls(list(g), lambda ev: ev) for g in groups.values()]

    def evidence(self, run: Any) -> RunEvidence:
        key = id(run)  # RecordedRun and RunEvidence are unhashable dataclasses
        if key not in self._read:
            self._read[key] = self._load(run)
        return self._read[key]

    def for_requirement(self, requirement_id: str) -> RunEvidence:
        """The newest run that recorded the requirement, else the newest run (where it is 'not run').
        The walk back ends at a whole-plan run (no --only): what it did not record, older runs do not
        stand for, and a year of scheduled slices is not read for a requirement none of them ran."""
        for run in self.runs:
            ev = self.evidence(run)
            if requirement_id in ev.result_entries:
                return ev
            if not ev.run.selection:
                break
        return self.evidence(self.runs[0])

    @property
    def read(self) -> list[RunEvidence]:
        return list(self._read.values())
