"""Binding a results document to the ledger before a report is rendered from it (issue 15.4).

``<store>/runs/<run>.json`` and a ``results.json`` in hand are derived files: anyone who can
write them can turn a fail into a pass. Before ``golive report`` renders one that claims to be a
recorded run (``run.id`` and ``run.ledger``), :func:`check_document` holds it against the ledger:

1. the run is recorded and finished, and ``run.ledger`` (size, head, key id, signature) is the
   run's own ``checkpoint`` entry;
2. the ledger verifies (``verify_store``) and still extends that checkpoint; problems in entries
   after it are not this run's and only noted;
3. every result entry of the run has one document result and vice versa; the fields both hold
   (status, reason, metrics, thresholds, covered, verified, details, artifacts...) are equal
   after canonical JSON; a ``waived`` status needs the recorded non-passing status in
   ``recorded_status`` and a signed waiver in force for the run (``show.waived_in_run``);
4. ``summary.by_status`` equals the run-finished entry's counts (with the waived ones moved to
   ``waived``), each waiver the document lists is a waiver entry recorded before the run ended,
   and each coverage group's counts are those of the bound results.

The first difference raises :class:`Mismatch` naming the requirement and field and the entry
that holds the truth. :func:`rebuild_document` is the way out: the document re-made from the
result payloads, the run-started/finished and checkpoint entries and the run's waivers, keeping
from the stored document only what the ledger does not hold (tests, suggestions, titles).
"""
from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from sqlalchemy import text

from golive.ledger.chain import TLOG_FIELD
from golive.ledger.canonical import PayloadError, canonical_bytes, parse, to_jsonable
from golive.ledger.checkpoint import Checkpoint, CheckpointError
from golive.ledger.show import WAIVABLE, authored_entries, co_approvers, in_scope, waived_in_run
from golive.ledger.store import DB_ENV, Store, payload_bytes
from golive.ledger.verify import verify_store
from golive.model import Status
from golive.results import SCHEMA_VERSION

# what a result payload holds beyond the document's result, and document-only fields
LEDGER_ONLY = ("run_id", "plan", "environment", "blobs")
NOT_COMPARED = frozenset(("status", "recorded_status", "waiver", "covered_via", "suggested", *LEDGER_ONLY))
FIRST_FIELDS = ("status", "metrics", "thresholds", "reason", "covered", "verified")  # named first
GROUPINGS = {"by_phase": "phase", "by_section": "section", "by_category": "category", "by_priority": "priority"}


class Mismatch(Exception):
    """The document disagrees with the ledger."""


class NotRecorded(Mismatch):
    """The document claims a run the ledger does not hold as finished and signed."""


class LedgerNotVerified(Mismatch):
    """The ledger itself does not verify up to the run's checkpoint."""


@dataclass
class RecordedRun:
    """One run's entries as the ledger holds them."""

    run_id: str
    started: tuple[int, dict[str, Any]]
    results: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    finished: tuple[int, dict[str, Any]] | None = None
    checkpoint: tuple[int, str, list[dict[str, str]], dict[str, Any]] | None = None  # seq, hash, sigs, payload

    def checkpoint_head(self) -> dict[str, Any]:
        """The ``run.ledger`` block the run wrote (as :class:`LedgerRecorder` makes it)."""
        seq, digest, sigs, payload = self.checkpoint
        sig = next((s["sig"] for s in sigs if s.get("role") == "checkpoint"), sigs[0]["sig"] if sigs else "")
        signed_tree = {TLOG_FIELD: payload[TLOG_FIELD]} if payload.get(TLOG_FIELD) else {}  # format v2
        return {**Checkpoint(seq, digest, sig, str(payload.get("key_id", ""))).to_dict(),
                "key_protected": self.started[1].get("key_protected"),
                **({"key_protection": self.started[1]["key_protection"]} if "key_protection" in self.started[1] else {}),
                **signed_tree}


@dataclass
class Binding:
    """What :func:`check_document` established, for the report's evidence appendix."""

    run_id: str
    store: str
    checkpoint_seq: int
    results: int
    notes: list[str] = field(default_factory=list)

    @property
    def statement(self) -> str:
        return (f"verified against the ledger at {self.store}: the {self.results} results match the run's "
                f"result entries, and the ledger verifies up to its signed checkpoint (entry {self.checkpoint_seq})")


def store_reachable(store_dir: Path | str | None, db_url: str | None = None) -> bool:
    """Whether a ledger exists where ``open_store`` would look, without creating one."""
    import os

    if db_url or os.environ.get(DB_ENV):
        return True
    path = Path(store_dir or os.environ.get("GOLIVE_STORE") or "evidence")
    return (path / "ledger.db").is_file()


def read_run(store: Store, run_id: str) -> RecordedRun | None:
    with store.read() as conn:
        rows = conn.execute(text("SELECT seq, kind, payload, entry_hash, signatures FROM ledger_entries "
                                 "WHERE run_id = :r ORDER BY seq"), {"r": run_id}).all()
    run: RecordedRun | None = None
    for seq, kind, payload, digest, signatures in rows:
        body = parse(payload_bytes(payload))
        if kind == "run-started" and run is None:
            run = RecordedRun(run_id, (seq, body))
        elif run is None:
            continue
        elif kind == "result":
            run.results.append((seq, body))
        elif kind == "run-finished":
            run.finished = (seq, body)
        elif kind == "checkpoint":
            run.checkpoint = (seq, digest, json.loads(signatures or "[]"), body)
    return run


def _norm(value: Any) -> Any:
    """A value as the ledger stores it (RFC 8785 after golive's conversions), for comparing."""
    try:
        return parse(canonical_bytes(to_jsonable(value)))
    except (PayloadError, TypeError, ValueError):
        return repr(value)


def _show(value: Any) -> str:
    text_ = json.dumps(value, sort_keys=True, default=str)
    return text_ if len(text_) <= 80 else text_[:77] + "..."


def _recorded_run(store: Store, doc: Mapping[str, Any], where: str) -> RecordedRun:
    run_id = str((doc.get("run") or {}).get("id") or "")
    run = read_run(store, run_id) if run_id else None
    if run is None:
        raise NotRecorded(f"{where} claims run {run_id!r}, which the ledger at {store.path} never recorded")
    if run.finished is None or run.checkpoint is None:
        raise NotRecorded(f"run {run_id} has no run-finished and checkpoint entries in the ledger (killed or "
                       f"still running): its results were never signed, so {where} cannot be bound to them")
    return run


def check_document(store: Store, doc: Mapping[str, Any], where: str = "the results document",
                   bands: Mapping[str, float] | None = None, verify: bool = True) -> Binding:
    """Check ``doc`` against the ledger (module docstring); :class:`Mismatch` names the first
    difference. ``verify=False`` skips re-verifying the ledger, for a caller that just did
    (earlier runs of the same store)."""
    run = _recorded_run(store, doc, where)
    cp_seq = run.checkpoint[0]
    _check_head(store, run, doc, where)
    notes = _verify_ledger(store, doc, where, cp_seq) if verify else []
    shown = _check_results(store, run, doc, where)
    _check_counts(run, doc, where)
    _check_waivers(store, run, doc, where)
    _check_groups(doc, where, bands)
    return Binding(run.run_id, str(store.path), cp_seq, len(shown), notes)


def _check_head(store: Store, run: RecordedRun, doc: Mapping[str, Any], where: str) -> None:
    claimed = (doc.get("run") or {}).get("ledger")
    truth = run.checkpoint_head()
    if not isinstance(claimed, Mapping):
        raise Mismatch(f"{where} has no run.ledger, but run {run.run_id} is signed by the ledger's "
                       f"checkpoint entry {truth['size']}")
    recorded = [k for k in ("key_protected", "key_protection") if truth.get(k) is not None]  # None: older runs
    for key in ("size", "head", "key_id", "checkpoint_signature", *recorded, *((TLOG_FIELD,) if TLOG_FIELD in claimed else ())):
        if claimed.get(key) != truth.get(key):
            raise Mismatch(f"{where} says run.ledger.{key} {_show(claimed.get(key))}; the run's checkpoint "
                           f"entry {truth['size']} has {_show(truth.get(key))}")


def _verify_ledger(store: Store, doc: Mapping[str, Any], where: str, cp_seq: int) -> list[str]:
    try:
        checkpoint = Checkpoint.from_dict(dict(doc["run"]["ledger"]), f"{where} run.ledger")
    except CheckpointError as exc:
        raise LedgerNotVerified(str(exc)) from None
    report = verify_store(store, checkpoint)
    blocking = [p for p in report.problems if p.seq is None or p.seq <= cp_seq]
    if blocking:
        raise LedgerNotVerified(f"the ledger at {store.path} does not verify up to run {doc['run']['id']}'s checkpoint "
                       f"(entry {cp_seq}): {blocking[0]}; run `golive evidence verify` for every problem")
    return [f"a later entry does not verify: {p}" for p in report.problems]


def _check_results(store: Store, run: RecordedRun, doc: Mapping[str, Any], where: str) -> dict[str, dict]:
    shown: dict[str, dict] = {}
    for i, r in enumerate(doc.get("results") or ()):
        rid = str(r.get("requirement_id"))
        if rid in shown:
            raise Mismatch(f"{where} lists {rid} twice (results[{i}])")
        shown[rid] = r
    waived = waived_in_run(store, run.run_id)
    recorded_ids = set()
    for seq, payload in run.results:
        rid = str(payload.get("requirement_id"))
        recorded_ids.add(rid)
        truth = f"the ledger's entry {seq}"
        if rid not in shown:
            raise Mismatch(f"{where} has no result for {rid}; {truth} records it {payload.get('status')}")
        r = shown[rid]
        status, recorded = r.get("status"), payload.get("status")
        if status == "waived":
            if r.get("recorded_status") != recorded:
                raise Mismatch(f"{where} says {rid} waived with recorded status {r.get('recorded_status')}; "
                               f"{truth} says {recorded}")
            if recorded not in WAIVABLE or rid not in waived:
                why = "passes" if recorded not in WAIVABLE else "has no signed waiver in force for this run"
                raise Mismatch(f"{where} says {rid} waived; {truth} says {recorded} and it {why}")
        elif status != recorded:
            raise Mismatch(f"{where} says {rid} {status}; {truth} says {recorded}")
        keys = [k for k in FIRST_FIELDS if k in payload] + sorted(set(payload) - set(FIRST_FIELDS))
        for key in keys:
            if key in NOT_COMPARED:
                continue
            if key not in r:
                raise Mismatch(f"{where} has no {key} for {rid}; {truth} holds {_show(payload[key])}")
            if _norm(r[key]) != payload[key]:
                raise Mismatch(f"{where} says {rid} {key} {_show(r[key])}; {truth} says {_show(payload[key])}")
    extra = [rid for rid in shown if rid not in recorded_ids]
    if extra:
        raise Mismatch(f"{where} lists {extra[0]} ({shown[extra[0]].get('status')}), which run {run.run_id} never "
                       "recorded")
    return shown


def _check_counts(run: RecordedRun, doc: Mapping[str, Any], where: str) -> None:
    seq, finished = run.finished
    expected = {str(k): int(v) for k, v in (finished.get("by_status") or {}).items()}
    for r in doc.get("results") or ():
        if r.get("status") == "waived":
            expected[str(r.get("recorded_status"))] = expected.get(str(r.get("recorded_status")), 0) - 1
            expected["waived"] = expected.get("waived", 0) + 1
    claimed = (doc.get("summary") or {}).get("by_status") or {}
    for status in sorted(set(expected) | set(claimed)):
        if int(claimed.get(status) or 0) != expected.get(status, 0):
            raise Mismatch(f"{where} says summary.by_status {status} {claimed.get(status) or 0}; the ledger's "
                           f"run-finished entry {seq} counts {expected.get(status, 0)}")


def _check_waivers(store: Store, run: RecordedRun, doc: Mapping[str, Any], where: str) -> None:
    end = run.finished[0]
    recorded = {(str(w.get("requirement_id")), str(w.get("expires"))) for w in authored_entries(store, "waiver")
                if w["seq"] < end}
    for i, w in enumerate(doc.get("waivers") or ()):
        if (str(w.get("requirement_id")), str(w.get("expires"))) not in recorded:
            raise Mismatch(f"{where} lists a waiver for {w.get('requirement_id')} (waivers[{i}], expires "
                           f"{w.get('expires')}) that the ledger never recorded before the run ended")


def group_counts(results: list[Mapping[str, Any]], key: str, gid: str) -> dict[str, Any] | None:
    """A coverage group's counts from the (waiver-applied) results, as ``scoring.group_figures``."""
    members = [r for r in results if not r.get("not_applicable") and str(r.get(key)) == gid]
    n = len(members)
    if not n:
        return None
    covered = sum(bool(r.get("covered", r.get("implemented"))) for r in members)
    verified = sum(bool(r.get("verified")) for r in members)
    return {"requirements": n, "covered": covered, "implemented": covered, "verified": verified,
            "rate": round(covered / n, 4), "verification_rate": round(verified / n, 4)}


def _check_groups(doc: Mapping[str, Any], where: str, bands: Mapping[str, float] | None) -> None:
    from golive.report.waivers import refresh_groups

    results = list(doc.get("results") or ())
    expected = {"coverage": copy.deepcopy(doc.get("coverage") or {}), "results": results}
    refresh_groups(expected, dict(bands) if bands else None)  # failing, partial and band, as run/report grade
    for grouping, key in GROUPINGS.items():
        for group, truth in zip((doc.get("coverage") or {}).get(grouping) or (),
                                expected["coverage"].get(grouping) or ()):
            counts = group_counts(results, key, str(group.get("id")))
            if counts is None:
                raise Mismatch(f"{where} has coverage.{grouping} group {group.get('id')} with no recorded result")
            checked = {**counts, "failing": truth.get("failing"), "partial": truth.get("partial")}
            if bands:
                checked["band"] = truth.get("band")
            for name, value in checked.items():
                if name in group and group[name] != value:
                    raise Mismatch(f"{where} says coverage.{grouping} {group.get('id')} {name} {group[name]}; "
                                   f"the recorded results give {value}")


def rebuild_document(store: Store, doc: Mapping[str, Any] | None, run_id: str,
                     bands: Mapping[str, float] | None = None) -> dict[str, Any]:
    """The run's results document re-made from its ledger entries: results from the result
    payloads, run facts from run-started/run-finished, ``run.ledger`` from the checkpoint entry,
    waivers from the waiver entries the run saw; ``doc`` (the stored one) only lends what the
    ledger does not hold (tests, suggestions, group titles, the readiness policy)."""
    run = read_run(store, run_id)
    if run is None or run.finished is None or run.checkpoint is None:
        raise NotRecorded(f"run {run_id} is not a finished, checkpointed run of the ledger at {store.path}")
    base = copy.deepcopy(dict(doc or {}))
    old = {str(r.get("requirement_id")): r for r in base.get("results") or () if isinstance(r, Mapping)}
    results = []
    order = {rid: i for i, rid in enumerate(old)}  # the document's order (the plan's), not completion order
    for _seq, payload in sorted(run.results, key=lambda e: order.get(str(e[1].get("requirement_id")), len(order))):
        r = {k: v for k, v in payload.items() if k not in LEDGER_ONLY}
        prior = old.get(str(r.get("requirement_id"))) or {}
        r["covered_via"] = prior.get("covered_via") or {}
        r["suggested"] = prior.get("suggested") or []
        results.append(r)
    started, finished = run.started[1], run.finished[1]
    run_block = dict(base.get("run") or {})
    plan = {**(run_block.get("plan") or {}), **{k: v for k, v in (started.get("plan") or {}).items()
                                                  if k in ("id", "version", "digest")}}
    run_block.update(id=run_id, started=started.get("started"), finished=finished.get("finished"),
                     target=started.get("target"), selection=started.get("selection") or [],
                     tailoring_digest=started.get("tailoring_digest"), plan=plan, ledger=run.checkpoint_head())
    run_block.setdefault("golive_version", (started.get("environment") or {}).get("golive_version", ""))
    summary = dict(base.get("summary") or {})
    statuses = [r["status"] for r in results]
    summary["by_status"] = {s: statuses.count(s) for s in
                            dict.fromkeys([*summary.get("by_status", {}), *(st.value for st in Status), *statuses])}
    applicable = [r for r in results if not r.get("not_applicable")]
    covered = sum(bool(r.get("covered")) for r in applicable)
    verified = sum(bool(r.get("verified")) for r in applicable)
    n = len(applicable)
    summary.update(requirements=n, not_applicable=len(results) - n, covered=covered, implemented=covered,
                   verified=verified, coverage_rate=round(covered / n, 4) if n else 0.0,
                   compliance_rate=round(covered / n, 4) if n else 0.0,
                   verification_rate=round(verified / n, 4) if n else 0.0)
    summary.setdefault("verdict", {"policy": {}})
    coverage = copy.deepcopy(base.get("coverage") or {})
    for grouping, key in GROUPINGS.items():
        titled = {str(g.get("id")): g for g in coverage.get(grouping) or ()}
        ids = dict.fromkeys([*titled, *(str(r.get(key)) for r in applicable)])
        coverage[grouping] = [{"title": gid, **titled.get(gid, {}), "id": gid, **counts} for gid in ids
                              if (counts := group_counts(results, key, gid)) is not None]
    rebuilt = {**base, "schema_version": base.get("schema_version") or SCHEMA_VERSION, "run": run_block,
               "summary": summary, "coverage": coverage, "results": results, "tests": base.get("tests") or [],
               "additional_tests": base.get("additional_tests") or []}
    scoped = in_scope(store, run_id, "waivers")  # bound to the run's target and plan (golive.ledger.scope)
    entries = authored_entries(store, "waiver")
    seconds = co_approvers(store, run_id, entries)
    waivers = [{"requirement_id": w.get("requirement_id"),
                "approver": w.get("approver") or str(w.get("author_key_id", ""))[:16],
                "co_approvers": seconds.get(w["seq"], []),
                "reason": w.get("justification", ""), "expires": w.get("expires"), "created": w.get("time", ""),
                "files": w.get("blobs") or []}  # as golive run lists them (cli_run.authored_evidence)
               for w in entries if w["seq"] < run.started[0]  # those the run saw
               and (w.get("revoked") or {}).get("seq", run.started[0]) >= run.started[0]  # not yet revoked
               and (scoped is None or w["seq"] in scoped)]
    _apply_waivers(rebuilt, waivers, bands)
    return rebuilt


def _apply_waivers(doc: dict[str, Any], waivers: list[dict[str, Any]], bands: Mapping[str, float] | None) -> None:
    """The waivers the run applied, judged at its finish, then the counts, group grades and
    verdict recomputed, as ``golive run`` does (``cli_run.apply_waivers_to_document``)."""
    from golive.report.waivers import apply_waivers, refresh_groups
    from golive.run.readiness import refresh_summary

    known = {r["requirement_id"] for r in doc["results"]}
    views = apply_waivers(doc, [w for w in waivers if w["requirement_id"] in known], as_of=doc["run"]["finished"])
    doc["waivers"] = [v.as_dict() for v in views]  # JSON's own types: a stored document must equal the one rebuilt
    statuses = [r["status"] for r in doc["results"]]
    doc["summary"]["by_status"] = {s: statuses.count(s) for s in doc["summary"]["by_status"]}
    refresh_groups(doc, dict(bands) if bands else None)
    refresh_summary(doc)
