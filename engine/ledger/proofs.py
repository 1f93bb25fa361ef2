"""Offline proofs from the evidence store: an entry's inclusion in a signed tree head, and
one signed tree head's consistency with another. Both verify with public keys alone.

* Inclusion proofs use the C2SP tlog-proof text format (``c2sp.org/tlog-proof@v1``): the
  ``extra`` line carries the entry itself (base64 of RFC 8785 JSON ``{"seq", "run_id",
  "kind", "prev_hash", "payload" (base64 of the stored bytes), "entry_hash"}``) so the verifier
  recomputes the leaf from the entry, then ``index`` (= seq - 1), the audit path, a blank
  line and the log's signed checkpoint.
* Consistency proofs are JSON ``{"format": "golive-tlog-consistency/v1", "old", "new"
  (signed checkpoints, verbatim), "proof": [base64 hashes]}`` (C2SP defines no text form).

A checkpoint for a size comes from the ledger when a run's checkpoint entry recorded one at
that size; otherwise the store's current key signs the tree head at that size (a true head
of an append-only log is always consistent with every other one it signs).
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Callable, Iterable

from sqlalchemy import text
from sqlalchemy.engine import Connection

from golive.ledger import tlog
from golive.ledger.canonical import canonical_bytes
from golive.ledger.chain import TLOG_FIELD, entry_hash, first_entry_hash, last_entry, log_origin
from golive.ledger.keys import Signer
from golive.ledger.note import NoteError, TreeHead, is_size, parse_checkpoint, parse_vkey
from golive.ledger.store import payload_bytes
from golive.ledger.treestore import StoredTree, TreeIndexError, root_from_entries

PROOF_HEADER = "c2sp.org/tlog-proof@v1"
CONSISTENCY_FORMAT = "golive-tlog-consistency/v1"
MAX_PROOF_BYTES = 64 << 20
DAMAGED = ("the store's tree index (tlog_nodes) disagrees with its signed checkpoints, so no proof is "
           "given; run `golive evidence migrate` to rebuild it from the entries")


class ProofError(ValueError):
    """A proof cannot be made (no such entry or size) or does not verify (with the reason)."""


class NotADocumentError(ProofError):
    """The input is not a document of the format asked for: nothing was checked (exit 2, an
    unreadable input), unlike a document that fails its checks (exit 1)."""


# -- making proofs ---------------------------------------------------------------------------
def _tree_checkpoint(payload) -> str | None:  # noqa: ANN001 -- a payload column value
    try:
        note = json.loads(payload_bytes(payload)).get(TLOG_FIELD)
        parse_checkpoint(note)
        return note
    except (ValueError, AttributeError, TypeError):
        return None  # v1 checkpoint (no tree head) or damaged: verify reports the latter


def recorded_checkpoint(conn: Connection, after: int = 0, before: int | None = None) -> tuple[int, str] | None:
    """(tree size, signed text) of the newest checkpoint recorded in the ledger whose tree
    size is in ``[after + 1, before]``. A checkpoint entry at seq ``s`` covers the tree of size
    ``s - 1``, so this reads a few entries through the seq and kind indexes."""
    sql = ("SELECT seq, payload FROM ledger_entries WHERE kind = 'checkpoint' AND seq > :a"
           + (" AND seq <= :b" if before is not None else "") + " ORDER BY seq DESC")
    for seq, payload in conn.execute(text(sql), {"a": after + 1, "b": (before or 0) + 1}):
        note = _tree_checkpoint(payload)
        if note is not None:
            return seq - 1, note
    return None


def signed_checkpoint(conn: Connection, size: int | None, signer: Callable[[], Signer],
                      covering: int = 0) -> str:
    """The signed checkpoint at ``size`` (recorded, else signed now by ``signer()``); with
    ``size`` None the newest recorded one with more than ``covering`` leaves, else the
    current tree head signed now."""
    current, _ = last_entry(conn)
    if size is not None and not 0 < size <= current:
        raise ProofError(f"the ledger has {current} entries; no tree of size {size}")
    if size is None:
        found = recorded_checkpoint(conn, after=covering)
        if found is not None:
            return found[1]
        size = current
    exact = recorded_checkpoint(conn, after=size - 1, before=size)
    if exact is not None:
        return exact[1]
    tree = StoredTree(conn)
    root = tree.root(size)
    anchor_found = recorded_checkpoint(conn, before=size)
    if anchor_found is not None:  # never sign a head the log's own earlier heads contradict (a damaged index)
        anchor = parse_checkpoint(anchor_found[1])[0]
        if not tlog.verify_consistency(anchor.size, size, anchor.root, root, tree.consistency(anchor.size, size)):
            raise TreeIndexError(DAMAGED)
    origin = log_origin(first_entry_hash(conn) or "")
    return str(TreeHead(origin, size, root).signed(origin, signer()))


def entry_record(conn: Connection, seq: int) -> dict:
    row = conn.execute(text("SELECT seq, run_id, kind, payload, prev_hash, entry_hash FROM ledger_entries "
                            "WHERE seq = :s"), {"s": seq}).first()
    if row is None:
        raise ProofError(f"the ledger has no entry {seq}")
    return {"seq": row[0], "run_id": row[1], "kind": row[2],
            "payload": base64.b64encode(payload_bytes(row[3])).decode(), "prev_hash": row[4], "entry_hash": row[5]}


def inclusion_proof(conn: Connection, seq: int, size: int | None, signer: Callable[[], Signer]) -> str:
    """The tlog-proof text proving entry ``seq`` is in the signed tree of ``size`` entries."""
    entry = entry_record(conn, seq)
    checkpoint = signed_checkpoint(conn, size, signer, covering=seq - 1)
    head = parse_checkpoint(checkpoint)[0]
    if seq > head.size:
        raise ProofError(f"entry {seq} is not in the tree of size {head.size}")
    path = StoredTree(conn).inclusion(seq - 1, head.size)
    if not tlog.verify_inclusion(seq - 1, head.size, tlog.leaf_hash(bytes.fromhex(entry["entry_hash"])), path, head.root):
        raise TreeIndexError(DAMAGED)
    extra = base64.b64encode(canonical_bytes(entry)).decode()
    lines = [PROOF_HEADER, f"extra {extra}", f"index {seq - 1}"]
    lines += [base64.b64encode(h).decode() for h in path]
    return "\n".join(lines) + "\n\n" + checkpoint


def consistency_proof(conn: Connection, old: str | int, new: str | int | None,
                      signer: Callable[[], Signer]) -> str:
    """The JSON consistency proof between two checkpoints; each given as its signed text
    (one the verifier kept) or as a tree size."""
    old_text = old if isinstance(old, str) else signed_checkpoint(conn, old, signer)
    new_text = new if isinstance(new, str) else signed_checkpoint(conn, new, signer)
    old_head, new_head = parse_checkpoint(old_text)[0], parse_checkpoint(new_text)[0]
    if not 0 < old_head.size <= new_head.size:
        raise ProofError(f"no consistency proof from size {old_head.size} to size {new_head.size}")
    tree = StoredTree(conn)
    for head in (old_head, new_head):  # refuse to vouch for a head this ledger never had
        if tree.root(head.size) != head.root:
            if root_from_entries(conn, head.size) == tree.root(head.size):
                raise ProofError(f"this ledger's tree at size {head.size} has a different root than the "
                                 "given checkpoint: the ledger was rewritten, or the checkpoint is another log's")
            raise TreeIndexError(DAMAGED)
    path = tree.consistency(old_head.size, new_head.size)
    if not tlog.verify_consistency(old_head.size, new_head.size, old_head.root, new_head.root, path):
        raise TreeIndexError(DAMAGED)
    return json.dumps({"format": CONSISTENCY_FORMAT, "old": old_text, "new": new_text,
                       "proof": [base64.b64encode(h).decode() for h in path]}, indent=1) + "\n"


# -- verifying proofs --------------------------------------------------------------------------
@dataclass
class Verified:
    """What a proof established."""

    origin: str
    size: int
    root: bytes
    signers: list[str]
    checkpoint: str = ""  # the (new) checkpoint as given, with any cosignatures
    entry: dict | None = None
    old_size: int | None = None


def trusted_keys(specs: Iterable[str], load_public_key: Callable[[str], bytes]) -> list[tuple[str | None, bytes]]:
    """(name or None, raw key) per ``--trusted-key``: a vkey names its log; a plain public
    key (file or base64) is trusted under whatever origin the checkpoint names."""
    keys = []
    for spec in specs:
        if spec.count("+") >= 2 and not spec.startswith("-----"):
            try:
                keys.append(parse_vkey(spec))
                continue
            except NoteError:
                pass  # base64 keys contain '+' too: try it as one
        keys.append((None, load_public_key(spec)))
    return keys


def check_checkpoint(checkpoint: str, keys: list[tuple[str | None, bytes]], origin: str | None):
    try:
        head, note = parse_checkpoint(checkpoint)
    except NoteError as exc:
        raise ProofError(f"checkpoint: {exc}") from None
    if origin is not None and head.origin != origin:
        raise ProofError(f"checkpoint is for log {head.origin!r}, not {origin!r}")
    try:
        good = note.verified_by([(name or head.origin, raw) for name, raw in keys])
    except NoteError as exc:
        raise ProofError(f"checkpoint of {head.origin} at size {head.size}: {exc}") from None
    return head, [f"{name}+{base64.b64encode(raw).decode()}" for name, raw in good]


def _hashes(lines: list[str], where: str) -> list[bytes]:
    try:
        return tlog.decode_hashes(lines)
    except ValueError as exc:
        raise ProofError(f"{where}: {exc}") from None


def verify_inclusion_text(data: str, keys: list[tuple[str | None, bytes]], origin: str | None = None,
                          leaf_entry_hash: str | None = None) -> Verified:
    """Check a tlog-proof: the checkpoint's signature, the entry (from ``extra``, or only its
    hash given by the caller), and the audit path to the checkpoint's root."""
    if len(data) > MAX_PROOF_BYTES:
        raise ProofError("proof is larger than 64 MiB")
    body, sep, checkpoint = data.partition("\n\n")
    lines = body.split("\n")
    if not sep or lines[0] != PROOF_HEADER:
        raise ProofError(f"not a tlog proof: the first line must be {PROOF_HEADER} and a blank line "
                         "must separate the proof from the checkpoint")
    extra = None
    rest = lines[1:]
    if rest and rest[0].startswith("extra "):
        extra, rest = rest[0][6:], rest[1:]
    if not rest or not rest[0].startswith("index ") or not is_size(rest[0][6:]):
        raise ProofError("tlog proof: missing or malformed 'index N' line")
    index, path = int(rest[0][6:]), _hashes(rest[1:], "tlog proof")
    head, signers = check_checkpoint(checkpoint, keys, origin)
    entry = _entry_from_extra(extra) if extra is not None else None
    if entry is not None:
        if entry["seq"] != index + 1:
            raise ProofError(f"the proof's entry is entry {entry['seq']}, but the proof is for index {index}")
        leaf_entry_hash = entry["entry_hash"]
    if leaf_entry_hash is None:
        raise ProofError("the proof carries no entry (no 'extra' line): give the entry hash to check")
    try:
        leaf = tlog.leaf_hash(bytes.fromhex(leaf_entry_hash))
    except ValueError:
        raise ProofError("the entry hash is not hex") from None
    if not tlog.verify_inclusion(index, head.size, leaf, path, head.root):
        raise ProofError(f"the inclusion proof for index {index} does not lead to the root of the signed "
                         f"checkpoint at size {head.size}: the entry or the proof was changed")
    return Verified(head.origin, head.size, head.root, signers, checkpoint, entry)


def _entry_from_extra(extra: str) -> dict:
    try:
        entry = json.loads(base64.b64decode(extra, validate=True))
        payload = base64.b64decode(entry["payload"], validate=True)
        fields = entry["seq"], entry["run_id"], entry["kind"], entry["prev_hash"]
    except (ValueError, KeyError, TypeError, RecursionError):
        raise ProofError("the proof's extra line is not a golive entry (base64 JSON with seq, run_id, "
                         "kind, prev_hash, payload, entry_hash)") from None
    if not isinstance(fields[0], int) or not all(isinstance(f, str) for f in fields[1:]):
        raise ProofError("the proof's entry has fields of the wrong type")
    recomputed = entry_hash(*fields, payload)
    if recomputed != entry.get("entry_hash"):
        raise ProofError(f"the proof's entry {fields[0]} does not hash to its entry_hash: the entry was changed")
    return {**entry, "payload": payload}


def verify_consistency_json(data: str, keys: list[tuple[str | None, bytes]], origin: str | None = None) -> Verified:
    try:
        doc = json.loads(data)
        old_text, new_text, proof = doc["old"], doc["new"], doc["proof"]
        fmt = doc.get("format")
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise ProofError("not a consistency proof: expected JSON with old, new and proof") from None
    if fmt != CONSISTENCY_FORMAT or not isinstance(proof, list) or not all(isinstance(p, str) for p in proof):
        raise ProofError(f"not a {CONSISTENCY_FORMAT} proof")
    if not isinstance(old_text, str) or not isinstance(new_text, str):
        raise ProofError("consistency proof: old and new must be checkpoint texts")
    old, old_signers = check_checkpoint(old_text, keys, origin)
    new, signers = check_checkpoint(new_text, keys, origin or old.origin)
    if not tlog.verify_consistency(old.size, new.size, old.root, new.root, _hashes(proof, "consistency proof")):
        raise ProofError(f"the tree at size {new.size} does not extend the tree at size {old.size}: the log "
                         "was rewritten between the two checkpoints (or the proof was changed)")
    return Verified(new.origin, new.size, new.root, sorted(set(signers + old_signers)), new_text, old_size=old.size)
