"""The hash chain: how an entry is hashed, what a signature signs, and transactional appends.

An entry's hash covers its sequence number, run id, kind, the previous entry's hash and the
exact payload bytes::

    entry_hash = sha256("golive-ledger-entry/v1\\n{seq}\\n{run_id}\\n{kind}\\n{prev_hash}\\n{len}\\n" + payload)

Run ids and kinds are restricted to characters without newlines, so the header is unambiguous.
The first entry's ``prev_hash`` is 64 zeros. Every signature (checkpoint, author, key change)
signs the *ledger head* at its entry -- ``"golive-ledger-head/v1\\n{size}\\n{head}\\n"`` with
size = the entry's seq and head = its hash -- so, like a Certificate Transparency signed tree
head, one signature commits to the entry and everything before it. The same message is what a
report's ``run.ledger`` head carries, so a head can be checked with the public key alone.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence, Union

from sqlalchemy import insert, text
from sqlalchemy.engine import Connection

from golive.ledger.canonical import canonical_bytes
from golive.ledger.keys import Signer, b64
from golive.ledger.note import TreeHead
from golive.ledger.store import LedgerEntry, Store
from golive.ledger.treestore import TreeAppender

GENESIS_HASH = "0" * 64
ENTRY_DOMAIN = "golive-ledger-entry/v1"
HEAD_DOMAIN = "golive-ledger-head/v1"
KINDS = ("run-started", "result", "attestation", "waiver", "key", "run-finished", "checkpoint",
         "schedule", "correction", "revocation", "signoff",
         "notification")  # schedule: the scheduler's run log (runs, skips, misfires), run id "-"; notification: one sent, run id "-"
NO_RUN = "-"  # run id of entries that belong to no run (key changes, standalone waivers)
RUN_ID_RE = re.compile(r"^[A-Za-z0-9._:@+-]{1,128}$")
ORIGIN_PREFIX = "golive.invalid/ledger/"  # + 32 hex digits of entry 1's hash (FORMAT.md)
TLOG_FIELD = "tlog_checkpoint"  # a checkpoint payload's signed C2SP checkpoint (format v2)

PayloadBuilder = Callable[[int, str, Connection], Any]  # (seq, prev_hash, conn) -> payload


class LedgerError(Exception):
    """An append was refused (bad kind or run id, unsignable entry)."""


def entry_hash(seq: int, run_id: str, kind: str, prev_hash: str, payload: bytes) -> str:
    header = f"{ENTRY_DOMAIN}\n{seq}\n{run_id}\n{kind}\n{prev_hash}\n{len(payload)}\n".encode()
    return hashlib.sha256(header + payload).hexdigest()


def head_message(size: int, head: str) -> bytes:
    """The bytes every ledger signature signs."""
    return f"{HEAD_DOMAIN}\n{size}\n{head}\n".encode()


def log_origin(first_entry_hash: str) -> str:
    """The log's C2SP origin line (and note key name): fixed by its first entry."""
    return ORIGIN_PREFIX + first_entry_hash[:32]


def first_entry_hash(conn: Connection) -> str | None:
    return conn.execute(text("SELECT entry_hash FROM ledger_entries WHERE seq = 1")).scalar()


def merkle_root(leaf_hashes: Sequence[str]) -> str:
    """RFC 6962 Merkle tree hash over entry hashes (hex); the empty tree hashes ''.

    Built bottom-up: pairing neighbours level by level and carrying an odd last node up
    unchanged gives RFC 6962's tree (left subtrees are the largest powers of two)."""
    sha256 = hashlib.sha256
    if not leaf_hashes:
        return sha256(b"").hexdigest()
    level = [sha256(b"\x00" + bytes.fromhex(h)).digest() for h in leaf_hashes]
    while len(level) > 1:
        paired = [sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0].hex()


@dataclass
class PendingEntry:
    """An entry to append. ``payload`` is data (canonicalised here), canonical bytes, or a
    builder called inside the append transaction with the entry's seq and prev hash (a
    checkpoint must name its own position). ``signers`` sign the head at this entry with the
    given role. ``on_appended(conn, seq, payload_obj)`` writes index rows in the same
    transaction, so an index row exists exactly when its entry does."""

    run_id: str
    kind: str
    payload: Union[Any, bytes, PayloadBuilder]
    signers: Sequence[tuple[Signer, str]] = ()
    on_appended: Callable[[Connection, int, Any], None] | None = None


@dataclass
class Appended:
    seq: int
    entry_hash: str
    kind: str
    run_id: str
    signatures: list[dict[str, str]] = field(default_factory=list)


def _check(entry: PendingEntry) -> None:
    if entry.kind not in KINDS:
        raise LedgerError(f"unknown entry kind {entry.kind!r}; expected one of {', '.join(KINDS)}")
    if not RUN_ID_RE.match(entry.run_id):
        raise LedgerError(f"run id {entry.run_id!r} must be 1-128 characters of A-Z a-z 0-9 . _ : @ + -")


def last_entry(conn: Connection) -> tuple[int, str]:
    row = conn.execute(text("SELECT seq, entry_hash FROM ledger_entries ORDER BY seq DESC LIMIT 1")).first()
    return (0, GENESIS_HASH) if row is None else (int(row[0]), str(row[1]))


class Ledger:
    """Appends entries to a store's chain; every append is one transaction under the lock."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def head(self) -> tuple[int, str]:
        with self.store.read() as conn:
            return last_entry(conn)

    def append(self, run_id: str, kind: str, payload: Any,
               signers: Sequence[tuple[Signer, str]] = (),
               on_appended: Callable[[Connection, int, Any], None] | None = None) -> Appended:
        return self.append_many([PendingEntry(run_id, kind, payload, signers, on_appended)])[0]

    def append_many(self, entries: Iterable[PendingEntry]) -> list[Appended]:
        """Append entries in order, in one transaction: all of them or none."""
        pending = list(entries)
        for entry in pending:
            _check(entry)
        with self.store.write() as conn:
            return self.append_in(conn, pending)

    def append_in(self, conn: Connection, pending: list[PendingEntry]) -> list[Appended]:
        """Append within a write transaction the caller holds (``store.write()``)."""
        seq, prev = last_entry(conn)
        tree = TreeAppender(conn, seq)
        start, first = seq, None  # first: entry 1's hash, read only when a checkpoint names the log
        rows, done = [], []
        for entry in pending:
            _check(entry)
            seq += 1
            if callable(entry.payload):
                if rows:  # a builder may read the chain (a checkpoint's Merkle root): flush first
                    conn.execute(insert(LedgerEntry.__table__), rows)
                    rows = []
                value = entry.payload(seq, prev, conn)
            else:
                value = entry.payload
            if entry.kind == "checkpoint" and isinstance(value, dict) and tree.size:
                first = first or (first_entry_hash(conn) if start else done[0].entry_hash)
                value = _with_tree_head(value, entry, log_origin(first or ""), tree)
            data = value if isinstance(value, bytes) else canonical_bytes(value)
            digest = entry_hash(seq, entry.run_id, entry.kind, prev, data)
            tree.add(digest)
            message = head_message(seq, digest)
            sigs = [{"key_id": s.key_id, "role": role, "sig": b64(s.sign(message))}
                    for s, role in entry.signers]
            rows.append({"seq": seq, "run_id": entry.run_id, "kind": entry.kind, "payload": data,
                         "prev_hash": prev, "entry_hash": digest,
                         "signatures": json.dumps(sigs, sort_keys=True) if sigs else "[]"})
            done.append(Appended(seq, digest, entry.kind, entry.run_id, sigs))
            if entry.on_appended is not None:
                # Index rows reference the entry; flush the entries so far first.
                conn.execute(insert(LedgerEntry.__table__), rows)
                rows = []
                entry.on_appended(conn, seq, value if not isinstance(value, bytes) else None)
            prev = digest
        if rows:
            conn.execute(insert(LedgerEntry.__table__), rows)
        tree.flush()
        conn.execute(text("UPDATE ledger_head SET size = :s, head = :h WHERE id = 1"),
                     {"s": seq, "h": prev})
        return done


def _with_tree_head(value: dict, entry: PendingEntry, origin: str, tree: TreeAppender) -> dict:
    """A checkpoint payload with the C2SP checkpoint of the tree before it (size = its seq - 1),
    signed by the entry's checkpoint signer under the log's origin (format v2)."""
    signer = next((s for s, role in entry.signers if role == "checkpoint"), None)
    if signer is None:
        return value
    head = TreeHead(origin, tree.size, tree.root())
    return {**value, TLOG_FIELD: str(head.signed(origin, signer))}
