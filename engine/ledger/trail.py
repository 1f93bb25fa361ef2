"""A record's audit trail (issue 15.6, SEC 17a-4(f)'s audit-trail alternative): the original
entry exactly as stored and every later entry that bears on it, each with an inclusion proof in
one signed checkpoint, so the history re-creates and verifies offline with public keys only.

Nothing stored is edited: a correction (``corrects``) or a revocation (``revokes``) is a new
entry naming the old one. The trail of entry ``S`` holds (``role`` of each):

* ``record``: entry S, with its stored artifact copies (``blobs``) when they fit;
* ``correction`` / ``revocation``: entries naming S, or naming one of those (transitively);
* for a result: the waivers and attestations of its requirement (``waiver``, ``attestation``)
  with their own corrections and revocations, and its run's ``run-started``, ``run-finished``
  and ``checkpoint`` entries;
* ``rerun``: the ``run-started`` entry of every other run of the same target, plan and
  selection, and ``rerun-result``: that run's result for the same requirement (a re-run is a
  new run; the trail links them);
* ``key``: the key entries of every key that signed an entry of the trail.

Document: JSON ``{"format": "golive-audit-trail/v1", "record": S, "checkpoint": signed C2SP
checkpoint (+ kept cosignatures), "timestamp": base64 RFC 3161 response or null, "entries":
[{"seq", "run_id", "kind", "prev_hash", "entry_hash", "payload" (base64 of the stored bytes),
"signatures" (as stored), "role", "proof": [base64 hashes]}], "blobs": {sha256: base64},
"blobs_left_out": [sha256, ...]}``. :mod:`golive.ledger.trail_verify` checks it.
"""
from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import text
from sqlalchemy.engine import Connection

from golive.ledger import tlog
from golive.ledger.keys import Signer
from golive.ledger.note import parse_checkpoint
from golive.ledger.proofs import ProofError, signed_checkpoint
from golive.ledger.store import Store, payload_bytes
from golive.ledger.treestore import StoredTree, TreeIndexError

TRAIL_FORMAT = "golive-audit-trail/v1"
REVOCABLE = ("attestation", "waiver")
REFERENCES = {"correction": "corrects", "revocation": "revokes"}
MAX_TRAIL_BLOB_BYTES = 32 << 20  # the record's artifact copies travel in the trail up to this total
ROW_SQL = "SELECT seq, run_id, kind, payload, prev_hash, entry_hash, signatures FROM ledger_entries"


def _rows(conn: Connection, where: str, params: dict[str, Any]) -> list[tuple]:
    return conn.execute(text(f"{ROW_SQL} WHERE {where} ORDER BY seq"), params).all()


def _body(payload: Any) -> dict[str, Any]:
    try:
        body = json.loads(payload_bytes(payload))
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def entry_row(conn: Connection, seq: int) -> tuple | None:
    rows = _rows(conn, "seq = :s", {"s": seq})
    return rows[0] if rows else None


class _Collector:
    """Which entries belong to the trail of one record, and in which role."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.roles: dict[int, str] = {}
        self.rows: dict[int, tuple] = {}
        refs = _rows(conn, "kind IN ('correction', 'revocation')", {})
        self.referrers: dict[int, list[tuple]] = {}
        for row in refs:
            target = _body(row[3]).get(REFERENCES[row[2]])
            if isinstance(target, int):
                self.referrers.setdefault(target, []).append(row)

    def add(self, row: tuple, role: str) -> None:
        if row[0] in self.roles:
            return
        self.roles[row[0]], self.rows[row[0]] = role, row
        for ref in self.referrers.get(row[0], []):  # corrections of corrections too
            self.add(ref, ref[2])

    def run_entries(self, run_id: str) -> None:
        for row in _rows(self.conn, "run_id = :r AND kind IN ('run-started', 'run-finished', 'checkpoint')",
                         {"r": run_id}):
            self.add(row, row[2])

    def authored_for(self, requirement_id: str) -> None:
        for row in _rows(self.conn, "kind IN ('attestation', 'waiver')", {}):
            if _body(row[3]).get("requirement_id") == requirement_id:
                self.add(row, row[2])

    def reruns(self, run_id: str, requirement_id: str | None) -> None:
        started = _rows(self.conn, "kind = 'run-started'", {})
        this = next((_body(r[3]) for r in started if r[1] == run_id), None)
        if this is None:
            return
        for row in started:
            body = _body(row[3])
            if row[1] != run_id and same_selection(body, this):
                self.add(row, "rerun")
                if requirement_id is not None:
                    self.rerun_result(row[1], requirement_id)

    def rerun_result(self, run_id: str, requirement_id: str) -> None:
        seqs = [s for (s,) in self.conn.execute(text(  # the index finds it; the entry itself decides
            "SELECT entry_seq FROM results WHERE run_id = :r AND requirement_id = :q"),
            {"r": run_id, "q": requirement_id})]
        for seq in seqs:
            row = entry_row(self.conn, int(seq))
            if row and row[2] == "result" and row[1] == run_id and _body(row[3]).get("requirement_id") == requirement_id:
                self.add(row, "rerun-result")

    def signing_keys(self) -> None:
        """Key entries of the trail's signers, and of their endorsers (a person key is endorsed by
        the ledger key), until no new key is needed."""
        seen: set[str] = set()
        while True:
            key_ids = {str(s.get("key_id")) for row in list(self.rows.values()) for s in _signatures(row[6])} - seen
            if not key_ids:
                return
            seen |= key_ids
            for row in _rows(self.conn, "kind = 'key'", {}):
                if _body(row[3]).get("key_id") in key_ids:
                    self.add(row, "key")


def same_selection(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two runs are re-runs of each other: same target, plan id and selection."""
    return (a.get("target") == b.get("target") and (a.get("plan") or {}).get("id") == (b.get("plan") or {}).get("id")
            and sorted(map(str, a.get("selection") or [])) == sorted(map(str, b.get("selection") or [])))


def _signatures(value: Any) -> list[dict]:
    try:
        sigs = json.loads(value or "[]")
    except ValueError:
        return []
    return [s for s in sigs if isinstance(s, dict)] if isinstance(sigs, list) else []


def collect(conn: Connection, seq: int) -> dict[int, tuple[str, tuple]]:
    """``{seq: (role, row)}`` of the trail of entry ``seq``; ProofError if there is no such entry."""
    row = entry_row(conn, seq)
    if row is None:
        raise ProofError(f"the ledger has no entry {seq}")
    c = _Collector(conn)
    c.add(row, "record")
    body = _body(row[3])
    requirement = body.get("requirement_id") if isinstance(body.get("requirement_id"), str) else None
    if row[2] == "result" and requirement:
        c.authored_for(requirement)
    if row[1] != "-":
        c.run_entries(row[1])
        if row[2] in ("result", "run-started"):
            c.reruns(row[1], requirement if row[2] == "result" else None)
    c.signing_keys()
    return {s: (c.roles[s], c.rows[s]) for s in sorted(c.roles)}


def _record_blobs(store: Store, payload: Any) -> tuple[dict[str, str], list[str]]:
    kept, left_out, total = {}, [], 0
    for item in _body(payload).get("blobs") or []:
        digest = item.get("blob") if isinstance(item, dict) else None
        if not isinstance(digest, str) or len(digest) != 64 or digest in kept:
            continue
        path = store.blob_path(digest)
        size = path.stat().st_size if path.is_file() else None
        if size is None or total + size > MAX_TRAIL_BLOB_BYTES:
            left_out.append(digest)
            continue
        kept[digest] = base64.b64encode(path.read_bytes()).decode()
        total += size
    return kept, left_out


def make_trail(store: Store, seq: int, signer: Callable[[], Signer]) -> dict[str, Any]:
    """The audit trail of entry ``seq`` (see the module docstring). ``signer()`` signs a fresh
    tree head when no checkpoint recorded in the ledger covers every entry of the trail."""
    with store.read() as conn:
        members = collect(conn, seq)
        checkpoint = signed_checkpoint(conn, None, signer, covering=max(members) - 1)
        head = parse_checkpoint(checkpoint)[0]  # its size covers every member
        tree, entries = StoredTree(conn), []
        for s, (role, row) in members.items():
            path = tree.inclusion(s - 1, head.size)
            if not tlog.verify_inclusion(s - 1, head.size, tlog.leaf_hash(bytes.fromhex(row[5])), path, head.root):
                raise TreeIndexError("the store's tree index disagrees with its signed checkpoint; run "
                                     "`golive evidence migrate`")
            entries.append({"seq": s, "run_id": row[1], "kind": row[2], "prev_hash": row[4], "entry_hash": row[5],
                            "payload": base64.b64encode(payload_bytes(row[3])).decode(),
                            "signatures": _signatures(row[6]), "role": role,
                            "proof": [base64.b64encode(h).decode() for h in path]})
        blobs, left_out = _record_blobs(store, members[seq][1][3])
    checkpoint, timestamp = _kept_extras(store.path, checkpoint, head.size)
    return {"format": TRAIL_FORMAT, "record": seq, "checkpoint": checkpoint, "timestamp": timestamp,
            "entries": entries, "blobs": blobs, "blobs_left_out": left_out}


def _kept_extras(store_path: Path, checkpoint: str, size: int) -> tuple[str, str | None]:
    """The checkpoint with witness cosignatures kept for it, and its kept RFC 3161 token."""
    from golive.ledger.cli_witness import cosigned_path, merge_signatures
    kept = cosigned_path(store_path, size)
    timestamp = None
    if kept.is_file():
        text_ = kept.read_text(encoding="utf-8")
        if parse_checkpoint(text_)[1].text == parse_checkpoint(checkpoint)[1].text:
            checkpoint = merge_signatures(checkpoint, text_.partition("\n\n")[2])
            if kept.with_suffix(".tsr").is_file():
                timestamp = base64.b64encode(kept.with_suffix(".tsr").read_bytes()).decode()
    return checkpoint, timestamp
