"""A run's proof bundle: everything needed to check, offline and with public keys only, that
a run's results are the ones the log recorded -- so a report can be checked against the ledger
without the store (issue 15.4).

JSON ``{"format": "golive-proof-bundle/v1", "run_id", "checkpoint" (the signed checkpoint the
run's own checkpoint entry recorded, with any witness cosignatures kept for it), "timestamp"
(base64 DER RFC 3161 response for that checkpoint, or null), "entries": [{"seq", "run_id",
"kind", "prev_hash", "payload" (base64), "entry_hash", "proof": [base64 hashes]}]}`` with every
entry of the run up to its run-finished entry, each with its inclusion proof in the checkpoint's
tree. :func:`verify_bundle` re-hashes each entry, checks each proof and the checkpoint's
signature, and returns the run's results as the log holds them; :func:`compare_results` says
where a results document (a report's attachment) disagrees with them.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from sqlalchemy import text
from sqlalchemy.engine import Connection

from golive.ledger import tlog
from golive.ledger.chain import TLOG_FIELD, entry_hash
from golive.ledger.note import NoteError, parse_checkpoint
from golive.ledger.proofs import NotADocumentError, ProofError, check_checkpoint
from golive.ledger.show import WAIVABLE
from golive.ledger.store import payload_bytes
from golive.ledger.treestore import StoredTree, TreeIndexError

BUNDLE_FORMAT = "golive-proof-bundle/v1"
MAX_BUNDLE_BYTES = 256 << 20


def make_bundle(conn: Connection, run_id: str, checkpoints_dir: Path | None = None) -> dict[str, Any]:
    """The bundle of ``run_id`` (a finished, checkpointed run of a v2 ledger)."""
    rows = conn.execute(text("SELECT seq, run_id, kind, payload, prev_hash, entry_hash FROM ledger_entries "
                             "WHERE run_id = :r ORDER BY seq"), {"r": run_id}).all()
    marker = next((r for r in rows if r[2] == "checkpoint"), None)
    if marker is None:
        raise ProofError(f"run {run_id} has no checkpoint entry (unfinished, or not in this ledger)")
    try:
        checkpoint = json.loads(payload_bytes(marker[3]))[TLOG_FIELD]
        head = parse_checkpoint(checkpoint)[0]
    except (KeyError, ValueError, TypeError):
        raise ProofError(f"run {run_id} was checkpointed by format v1 (no signed tree head): "
                         "`golive evidence migrate` records one for the whole log, but not per run") from None
    timestamp = None
    if checkpoints_dir is not None:
        kept = checkpoints_dir / f"{head.size}.checkpoint"
        if kept.is_file() and parse_checkpoint(kept.read_text(encoding="utf-8"))[1].text == parse_checkpoint(checkpoint)[1].text:
            checkpoint = kept.read_text(encoding="utf-8")  # with the witnesses' cosignatures
        if kept.with_suffix(".tsr").is_file():
            timestamp = base64.b64encode(kept.with_suffix(".tsr").read_bytes()).decode()
    tree, entries = StoredTree(conn), []
    for seq, rid, kind, payload, prev_hash, digest in rows:
        if seq > head.size:
            continue  # the checkpoint entry itself, after the tree it signs
        path = tree.inclusion(seq - 1, head.size)
        if not tlog.verify_inclusion(seq - 1, head.size, tlog.leaf_hash(bytes.fromhex(digest)), path, head.root):
            raise TreeIndexError("the store's tree index disagrees with the run's signed checkpoint; run "
                                 "`golive evidence migrate`")
        entries.append({"seq": seq, "run_id": rid, "kind": kind, "prev_hash": prev_hash, "entry_hash": digest,
                        "payload": base64.b64encode(payload_bytes(payload)).decode(),
                        "proof": [base64.b64encode(h).decode() for h in path]})
    return {"format": BUNDLE_FORMAT, "run_id": run_id, "checkpoint": checkpoint, "timestamp": timestamp,
            "entries": entries}


@dataclass
class BundleReport:
    run_id: str
    origin: str
    size: int
    signers: list[str]
    results: dict[str, str] = field(default_factory=dict)  # requirement id -> status, as recorded
    payloads: dict[str, dict] = field(default_factory=dict)  # requirement id -> its result payload
    finished_counts: dict[str, int] | None = None  # the run-finished entry's by_status
    finished_payload: dict[str, Any] = field(default_factory=dict)  # the whole run-finished payload
    by_status: dict[str, int] = field(default_factory=dict)
    entries: int = 0
    checkpoint: str = ""
    timestamp: bytes | None = None
    finished: bool = False


def verify_bundle(data: str, keys: list[tuple[str | None, bytes]], origin: str | None = None) -> BundleReport:
    """Check every entry of a bundle against its signed checkpoint; ProofError says what fails."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise ProofError("bundle is larger than 256 MiB")
    try:
        doc = json.loads(data)
        checkpoint, items, run_id = doc["checkpoint"], doc["entries"], doc["run_id"]
        ok_format = doc.get("format") == BUNDLE_FORMAT and isinstance(items, list) and isinstance(checkpoint, str)
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        ok_format = False
    if not ok_format:
        raise NotADocumentError(f"not a {BUNDLE_FORMAT} document")
    head, signers = check_checkpoint(checkpoint, keys, origin)
    report = BundleReport(str(run_id), head.origin, head.size, signers, checkpoint=checkpoint)
    seen: set[int] = set()
    for item in items:
        seq, kind, payload = _check_entry(item, head, str(run_id))
        if seq in seen:
            raise ProofError(f"entry {seq} appears twice in the bundle")
        seen.add(seq)
        report.entries += 1
        report.finished |= kind == "run-finished"
        if kind == "run-finished":
            report.finished_payload = json.loads(payload)
            counts = report.finished_payload.get("by_status")
            report.finished_counts = counts if isinstance(counts, dict) else None
        if kind == "result":
            body = json.loads(payload)
            req, status = str(body.get("requirement_id", "?")), str(body.get("status", "?"))
            report.results[req] = status
            report.payloads[req] = body
            report.by_status[status] = report.by_status.get(status, 0) + 1
    if not report.finished:
        raise ProofError(f"the bundle does not prove run {run_id}'s run-finished entry: results may be missing")
    if doc.get("timestamp"):
        try:
            report.timestamp = base64.b64decode(doc["timestamp"], validate=True)
        except (ValueError, TypeError):
            raise ProofError("the bundle's timestamp is not base64") from None
    return report


def _check_entry(item: Any, head, run_id: str) -> tuple[int, str, bytes]:  # noqa: ANN001 -- TreeHead
    try:
        seq, rid, kind, prev = item["seq"], item["run_id"], item["kind"], item["prev_hash"]
        payload = base64.b64decode(item["payload"], validate=True)
        path = tlog.decode_hashes(item["proof"])
        digest = item["entry_hash"]
        assert isinstance(seq, int) and all(isinstance(v, str) for v in (rid, kind, prev, digest))
    except (KeyError, TypeError, ValueError, AssertionError):
        raise ProofError("a bundle entry lacks seq, run_id, kind, prev_hash, payload, entry_hash or proof") from None
    if rid != run_id:
        raise ProofError(f"entry {seq} belongs to run {rid}, not {run_id}")
    if entry_hash(seq, rid, kind, prev, payload) != digest:
        raise ProofError(f"entry {seq} does not hash to its entry_hash: the entry was changed")
    if not tlog.verify_inclusion(seq - 1, head.size, tlog.leaf_hash(bytes.fromhex(digest)), path, head.root):
        raise ProofError(f"entry {seq} is not in the signed tree of size {head.size} (proof fails)")
    if kind in ("result", "run-finished"):
        try:
            assert isinstance(json.loads(payload), dict)
        except (ValueError, AssertionError, RecursionError):
            raise ProofError(f"entry {seq}'s payload is not a JSON object") from None
    return seq, kind, payload


def compare_results(document: dict[str, Any], report: BundleReport) -> list[str]:
    """Where a results document disagrees with the results the log holds for its run."""
    problems = []
    run = document.get("run") if isinstance(document.get("run"), dict) else {}
    if run.get("id") != report.run_id:
        problems.append(f"the document is for run {run.get('id')!r}, the bundle for {report.run_id}")
    shown = {str(r.get("requirement_id")): str(r.get("status")) for r in document.get("results") or []
             if isinstance(r, dict)}
    for req, status in sorted(report.results.items()):
        if req not in shown:
            problems.append(f"{req}: recorded as {status}, missing from the document")
        elif shown[req] == "waived" and status in WAIVABLE:
            continue  # a waiver applied on top; waived_results() lists these for the verifier
        elif shown[req] != status:
            problems.append(f"{req}: the document says {shown[req]}, the log recorded {status}")
    for req in sorted(set(shown) - set(report.results)):
        problems.append(f"{req}: in the document ({shown[req]}) but not recorded in the log for this run")
    return problems + _field_problems(document, report) + _count_problems(document, report) \
        + _digest_problems(document, report)


def _digest_problems(document: dict[str, Any], report: BundleReport) -> list[str]:
    """The test list and the rest of the document (golive.ledger.bound) against the digests the
    run-finished entry records."""
    from golive.ledger.bound import extras_changed_finished, tests_match_finished

    problems = [] if tests_match_finished(report.finished_payload, document) else [
        "tests[]: the document's test list and outcomes differ from the digest the run-finished entry records"]
    return problems + [f"{part}: the document's differ from the digest the run-finished entry records"
                       for part in extras_changed_finished(report.finished_payload, document)]


def _field_problems(document: dict[str, Any], report: BundleReport) -> list[str]:
    """Every field a recorded result payload holds must be equal in the document (as
    golive.ledger.bind compares them against a store)."""
    from golive.ledger.bind import NOT_COMPARED, _norm
    problems = []
    for r in document.get("results") or []:
        payload = report.payloads.get(str(r.get("requirement_id"))) if isinstance(r, dict) else None
        for key in sorted(set(payload or ()) - NOT_COMPARED):
            if key not in r or _norm(r[key]) != payload[key]:
                problems.append(f"{r['requirement_id']}: the document's {key} differs from the recorded result")
    return problems


def _count_problems(document: dict[str, Any], report: BundleReport) -> list[str]:
    """summary.by_status must be the run-finished entry's counts (waivers moved to waived)."""
    if report.finished_counts is None:
        return []
    expected = {str(k): v for k, v in report.finished_counts.items()}
    for r in document.get("results") or []:
        if isinstance(r, dict) and r.get("status") == "waived" and report.results.get(str(r.get("requirement_id"))):
            was = report.results[str(r.get("requirement_id"))]
            expected[was] = expected.get(was, 0) - 1
            expected["waived"] = expected.get("waived", 0) + 1
    claimed = ((document.get("summary") or {}).get("by_status") or {}) if isinstance(document.get("summary"), dict) else {}
    return [f"summary.by_status {status}: the document says {claimed.get(status) or 0}, the run-finished entry "
            f"counts {expected.get(status, 0)}" for status in sorted(set(expected) | set(claimed))
            if (claimed.get(status) or 0) != expected.get(status, 0)]


def waived_results(document: dict[str, Any], report: BundleReport) -> list[str]:
    """Requirements the document shows waived where the log recorded a waivable status: the
    waiver itself is a separate signed ledger entry, not part of the run's bundle."""
    return sorted(str(r.get("requirement_id")) for r in document.get("results") or []
                  if isinstance(r, dict) and r.get("status") == "waived"
                  and report.results.get(str(r.get("requirement_id"))) in WAIVABLE)


def witness_names(report: BundleReport, witnesses: Iterable[tuple[str, bytes]]) -> tuple[list[str], list[str]]:
    from golive.ledger.witness import count_cosigners
    try:
        return count_cosigners(report.checkpoint, witnesses)
    except NoteError as exc:
        return [], [str(exc)]
