"""Offline verification of an evidence store: recompute everything, trust nothing stored.

One pass over ``ledger_entries`` in sequence order checks, per entry: the sequence has no gap,
``prev_hash`` links to the previous entry, the recomputed hash matches, the kind is known, the
payload is not a copy of an earlier one (replay), the run lifecycle holds (a run starts once;
results come between its start and its end), every signature verifies against a key recorded
earlier in the ledger (key entries are self-signed, and a later ledger key must be endorsed by
an active one or be trusted explicitly), checkpoints are signed by an active ledger key and
their Merkle root matches the run's entries, and every artifact blob a payload names exists
with the right sha256. Finally a given checkpoint (a head printed in a report) must still be
extended by the ledger, which catches truncation and rollback.

The first problem is the answer to "which entry or blob does not match, and why"; later ones
are listed too. Index tables (runs, results, artifacts) are not consulted.
"""
from __future__ import annotations

import hashlib
import itertools
import json
from concurrent.futures import Executor
from typing import Any, Callable, Iterable

from sqlalchemy import text

from golive.ledger.chain import (ENTRY_DOMAIN, GENESIS_HASH, KINDS, NO_RUN, TLOG_FIELD, entry_hash, head_message,
                                 log_origin)
from golive.ledger.checkpoint import Checkpoint, TreeCheckpoint
from golive.ledger.tlog import TreeBuilder, root_of_leaves
from golive.ledger.verify_keys import KeyChecks, _Key
from golive.ledger.verify_tlog import TreeChecks
from golive.ledger.keys import KeyDirectory, key_id_of, unb64, verify_signature
from golive.ledger.store import Store, payload_bytes
from golive.ledger.verify_digest import Digested, digested, start_worker
from golive.ledger.verify_report import Problem, VerifyReport

__all__ = ["Problem", "VerifyReport", "verify_store"]

FETCH_BATCH = 2_000  # in-process: ~2.5 MB of rows, read, hashed and freed while in the CPU cache
WORKER_BATCH = 20_000  # with a digest worker: fewer, larger tasks (the scan reads no payloads)
MAX_PROBLEMS = 100
NO_KEYS = itertools.repeat(None)  # in-process: each payload's key is computed in the scan
AUTHORED = ("attestation", "waiver", "correction", "revocation", "signoff")  # signed by a person key
SCAN_SQL = ("SELECT seq, run_id, kind, payload, prev_hash, entry_hash, signatures "
            "FROM ledger_entries ORDER BY seq")
# SQLite only: with a digest worker, the scan reads payloads only where it needs them
PAYLOAD_SQL = "SELECT payload FROM ledger_entries WHERE seq = ?"
RANGE_SQL = SCAN_SQL.replace("ORDER BY", "WHERE seq BETWEEN ? AND ? ORDER BY")


class _Verifier(TreeChecks, KeyChecks):
    def __init__(self, store: Store, trusted: set[str], check_blobs: bool) -> None:
        self.store = store
        self.trusted = trusted
        self.check_blobs = check_blobs
        self.report = VerifyReport()
        self.keys: dict[str, _Key] = {}
        self.runs: dict[str, str] = {}              # run id -> open | finished | checkpointed
        self.run_hashes: dict[str, list[bytes]] = {}  # leaf hashes of runs not yet checkpointed
        self.leaf = b""  # the leaf hash of the entry being checked
        self.payload_seen: dict[int, int] = {}      # hash(payload) -> first seq with it
        self.blobs_ok: set[str] = set()
        self.hash_at: dict[int, str] = {}
        self.root_at: dict[int, bytes] = {}
        self.wanted_sizes: set[int] = set()
        self.tree = TreeBuilder()  # the whole log's Merkle tree, recomputed from the entries
        self.origin = ""
        self.revocable: set[int] = set()  # attestations and waivers not revoked yet
        self.latest_time = ""  # the newest time an authored or key entry recorded so far
        self.read_payload: Callable[[int], tuple | None] | None = None

    def problem(self, message: str, seq: int | None = None, blob: str | None = None) -> None:
        if len(self.report.problems) < MAX_PROBLEMS:
            self.report.problems.append(Problem(message, seq, blob))

    # -- the pass ------------------------------------------------------------------------
    def scan(self, batches: Iterable[Digested]) -> None:
        """One pass over the entries, given as batches of rows in ``seq`` order, each with its
        digests (``verify_digest``: the seqs whose content does not match their hash, a replay
        key per row, the seqs naming blobs)."""
        expected, prev, before_prev, seq, count = 1, GENESIS_HASH, None, 0, 0
        # Locals: this loop runs once per entry and dominates verification time, so the common
        # path is inlined, with TreeBuilder.append_hash.
        runs, run_hashes, seen, wanted = self.runs, self.run_hashes, self.payload_seen, self.wanted_sizes
        check_blobs, sha256, fromhex = self.check_blobs, hashlib.sha256, bytes.fromhex
        tree = self.tree
        edge = tree.edge
        for rows, bad, keys, blobbed in batches:
            # In-process (bad is None), the digests are computed here as the loop goes: a second
            # pass over the rows would cost more than the hashing itself.
            for (seq, run_id, kind, payload, prev_hash, stored_hash, signatures), key in zip(rows, keys or NO_KEYS):
                if payload.__class__ is not bytes and payload is not None:
                    payload = payload_bytes(payload)
                if seq != expected:
                    missing = f"entry {expected} is missing" if seq > expected else f"entry {seq} is duplicated or out of order"
                    self.problem(f"{missing}: the sequence goes from {expected - 1} to {seq} "
                                 "(entries deleted or renumbered)", seq)
                elif prev_hash != prev:
                    if prev_hash == before_prev:
                        self.problem(f"inserted: entry {seq} links past it to entry {seq - 2}", seq - 1)
                    elif (seq not in bad) if bad is not None else entry_hash(
                            seq, run_id, kind, prev_hash, payload) == stored_hash:
                        # this entry is intact and was written after another entry seq - 1: that
                        # one was rewritten with a recomputed hash (or this link was, and re-hashed)
                        self.problem(f"changed and its hash recomputed: entry {seq} was written after an entry "
                                     f"{seq - 1} hashing to {str(prev_hash)[:16]}..., which now hashes to "
                                     f"{str(prev)[:16]}... (or entry {seq}'s link was rewritten)", seq - 1)
                    else:
                        self.problem(f"prev_hash does not link to entry {seq - 1}'s hash: an entry was "
                                     "inserted, deleted or reordered here", seq)
                elif (seq in bad) if bad is not None else sha256(
                        f"{ENTRY_DOMAIN}\n{seq}\n{run_id}\n{kind}\n{prev_hash}\n{len(payload)}\n".encode()
                        + payload).hexdigest() != stored_hash:
                    self.problem("content does not match its hash (payload, kind or run id edited)", seq)
                expected, prev, before_prev = seq + 1, stored_hash, prev
                if seq == 1:
                    self.origin = log_origin(stored_hash)
                try:  # leaf data: the 32 bytes of the entry hash
                    leaf = sha256(b"\x00" + fromhex(stored_hash)).digest()
                except (TypeError, ValueError):
                    leaf = sha256(b"\x00" + str(stored_hash).encode()).digest()  # malformed: reported above
                # The common case -- an unsigned result of an open run, no blobs -- inline; the
                # rest of ``entry`` would find nothing more to check.
                if key is None:
                    key = hash(payload)
                if (kind == "result" and signatures == "[]" and runs.get(run_id) == "open"
                        and not (check_blobs and (seq in blobbed if bad is not None else b'"blobs":[{' in payload))
                        and key not in seen):
                    seen[key] = seq
                    run_hashes[run_id].append(leaf)
                else:
                    self.leaf = leaf
                    self.entry(seq, run_id, kind, payload, key, stored_hash, signatures)
                # after the entry: a checkpoint covers the entries before it
                n, h = count, leaf
                while n & 1:  # TreeBuilder.append_hash: merge each complete subtree on the edge
                    h = sha256(b"\x01" + edge.pop() + h).digest()
                    n >>= 1
                edge.append(h)
                count += 1
                tree.size = count
                if seq in wanted:
                    self.hash_at[seq] = stored_hash
                    self.root_at[seq] = tree.root()
        self.report.entries, self.report.head = seq, prev
        self.report.tree_root = self.tree.root()

    def entry(self, seq: int, run_id: str, kind: str, payload: bytes | str | None, key: int, digest: str,
              signatures: str) -> None:
        """The checks beyond the common case; ``payload`` is None when the scan left it to the
        digest worker (read here), ``key`` its Python hash (``verify_digest.digest_rows``)."""
        if kind not in KINDS:
            self.problem(f"unknown kind {kind!r}", seq)
            return
        payload = self.payload_of(seq) if payload is None else payload_bytes(payload)
        # Python's bytes hash keys the index (fast); a hit is confirmed by comparing the
        # bytes, so a hash collision is never reported as a replay.
        earlier = self.payload_seen.get(key)
        if earlier is not None and self.payload_of(earlier) == payload:
            self.problem(f"payload is identical to entry {earlier}'s: a replayed entry", seq)
        elif earlier is None:
            self.payload_seen[key] = seq
        sigs = self.parse_signatures(seq, signatures) if signatures != "[]" else []
        signers, unknown = self.signatures(seq, digest, sigs) if sigs else (set(), [])
        self.lifecycle(seq, run_id, kind, payload, digest, sigs, signers, unknown)
        if self.check_blobs and b'"blobs":[{' in payload:
            self.blobs(seq, payload)

    def payload_of(self, seq: int) -> bytes:
        if self.read_payload is not None:  # the scan's own SQLite connection: no pool round trip
            row = self.read_payload(seq)
            return payload_bytes(row[0]) if row is not None else b""
        with self.store.engine.connect() as conn:
            value = conn.execute(text("SELECT payload FROM ledger_entries WHERE seq = :s"), {"s": seq}).scalar()
        return payload_bytes(value) if value is not None else b""

    def parse_signatures(self, seq: int, signatures: str) -> list[dict[str, str]]:
        try:
            sigs = json.loads(signatures)
        except ValueError:
            sigs = None
        if not isinstance(sigs, list) or not all(isinstance(s, dict) for s in sigs):
            self.problem("signatures column is not a JSON list of signatures", seq)
            return []
        return sigs

    def signatures(self, seq: int, digest: str, sigs: list[dict[str, str]]) -> tuple[set[str], list[dict]]:
        """Key ids whose signature on this entry's head verifies, and the signatures by keys
        not recorded yet (a key entry's own key is one; ``lifecycle`` judges those)."""
        message, valid, unknown = head_message(seq, digest), set(), []
        for sig in sigs:
            key_id = str(sig.get("key_id", ""))
            key = self.keys.get(key_id)
            if key is None:
                unknown.append(sig)
                continue
            try:
                good = verify_signature(key.public_raw, unb64(str(sig.get("sig", ""))), message)
            except ValueError:
                good = False
            self.report.signatures += 1
            if not good:
                self.problem(f"signature by key {key_id[:16]} does not verify (signature edited, "
                             "or the entry/earlier entries were changed and re-hashed)", seq)
            elif key.status != "active":
                when = f" (key entry {key.revoked_seq})" if key.revoked_seq else ""
                self.problem(f"signed by {key.label(key_id)}, which was {key.status} before this entry{when}: "
                             f"a signature made after the key was {key.status}", seq)
            else:
                valid.add(key_id)
        return valid, unknown

    def lifecycle(self, seq: int, run_id: str, kind: str, payload: bytes, digest: str,
                  sigs: list[dict], signers: set[str], unknown: list[dict]) -> None:
        state = self.runs.get(run_id)
        if kind == "key":
            self.key_entry(seq, payload, digest, unknown, signers)
            return
        for sig in unknown:
            self.problem(f"signed by key {str(sig.get('key_id', '?'))[:16]}, which is not recorded "
                         "in the ledger (unknown key)", seq)
        if kind == "run-started":
            if run_id == NO_RUN or state is not None:
                self.problem(f"run {run_id} started a second time: a replayed or forged entry", seq)
                return
            self.runs[run_id] = "open"
            self.run_hashes[run_id] = [self.leaf]
            self.report.runs += 1
        elif kind in ("result", "run-finished"):
            if state != "open":
                why = "never started" if state is None else "already finished"
                self.problem(f"{kind} for run {run_id}, which {why}: a replayed or inserted entry", seq)
                return
            self.run_hashes[run_id].append(self.leaf)
            if kind == "run-finished":
                self.runs[run_id] = "finished"
        elif kind in AUTHORED:
            if not signers:
                self.problem(f"{kind} carries no valid author signature", seq)
            self.validity(seq, kind, payload, signers)
            if state == "open":
                self.run_hashes[run_id].append(self.leaf)
            self.references(seq, kind, payload)
        elif kind == "checkpoint":
            self.checkpoint(seq, run_id, payload, digest, sigs, signers)

    def references(self, seq: int, kind: str, payload: bytes) -> None:
        """A correction names an earlier entry; a revocation an earlier attestation or waiver
        not revoked before (nothing is edited in place: docs/retention.md)."""
        if kind in ("attestation", "waiver"):
            self.revocable.add(seq)
            return
        if kind == "signoff":  # refers to its run in the payload; golive signoff status checks the binding
            return
        field = "corrects" if kind == "correction" else "revokes"
        target = self.parse(seq, payload).get(field)
        if not isinstance(target, int) or isinstance(target, bool) or not 0 < target < seq:
            self.problem(f"{kind} must name an earlier entry in {field!r}, not {target!r}", seq)
        elif kind == "revocation" and target not in self.revocable:
            self.problem(f"revocation of entry {target}, which is no attestation or waiver, or was revoked before", seq)
        else:
            self.revocable.discard(target)

    def checkpoint(self, seq: int, run_id: str, payload: bytes, digest: str, sigs: list[dict],
                   signers: set[str]) -> None:
        body = self.parse(seq, payload)
        ledger_signers = [k for k in signers if self.keys[k].role == "ledger"]
        if not ledger_signers:
            self.problem("checkpoint carries no valid signature by an active ledger key", seq)
        if body.get("size") != seq:
            self.problem(f"checkpoint claims size {body.get('size')} but sits at position {seq}", seq)
        if run_id != NO_RUN:
            if self.runs.get(run_id) != "finished":
                self.problem(f"checkpoint for run {run_id}, which is not a finished, "
                             "un-checkpointed run", seq)
            else:
                hashes = self.run_hashes.pop(run_id)
                if body.get("merkle_root") != root_of_leaves(hashes).hex() or body.get("entries") != len(hashes):
                    self.problem(f"Merkle root over run {run_id}'s {len(hashes)} entries does not "
                                 "match the checkpoint", seq)
                self.runs[run_id] = "checkpointed"
        self.report.checkpoints += 1
        if ledger_signers:
            sig = next(s for s in sigs if s.get("key_id") in ledger_signers)
            self.report.last_checkpoint = Checkpoint(seq, digest, str(sig["sig"]), str(sig["key_id"]))
        if TLOG_FIELD in body:
            self.tree_checkpoint(seq, body[TLOG_FIELD], ledger_signers)

    def parse(self, seq: int, payload: bytes) -> dict[str, Any]:
        try:
            body = json.loads(payload)
        except ValueError:
            self.problem("payload is not valid JSON", seq)
            return {}
        if not isinstance(body, dict):
            self.problem("payload is not a JSON object", seq)
            return {}
        return body

    def blobs(self, seq: int, payload: bytes) -> None:
        for item in self.parse(seq, payload).get("blobs", []):
            if not isinstance(item, dict) or item.get("blob") is None:
                continue  # recorded by digest only (too large, or gone before the copy)
            digest = str(item["blob"])
            if digest in self.blobs_ok:
                continue
            path = self.store.blob_path(digest) if len(digest) == 64 else None
            label = f"{digest[:2]}/{digest[2:]} ({item.get('path', '?')}, entry {seq})"
            if path is None or not path.is_file():
                self.problem("artifact blob is missing", blob=label)
                continue
            h = hashlib.sha256()
            with open(path, "rb") as f:
                while chunk := f.read(1 << 20):
                    h.update(chunk)
            if h.hexdigest() != digest:
                self.problem(f"artifact blob content has sha256 {h.hexdigest()[:16]}..., "
                             "not the digest its entry records (blob changed)", blob=label)
                continue
            self.blobs_ok.add(digest)
            self.report.blobs += 1

    def finish(self, checkpoint: Checkpoint | None) -> VerifyReport:
        report = self.report
        for run_id, state in self.runs.items():
            if state == "open":
                report.incomplete_runs.append(run_id)
                report.notes.append(f"run {run_id} is incomplete: no run-finished entry "
                                    "(killed, crashed, or still running)")
            elif state == "finished":
                report.notes.append(f"run {run_id} finished but has no checkpoint yet")
        last = report.last_checkpoint
        tail = report.entries - (last.size if last else 0)
        if tail > 0:
            report.notes.append(f"{tail} entries after the last checkpoint are not yet covered by a signature")
        if isinstance(checkpoint, TreeCheckpoint):
            self.external_tree(checkpoint)
        elif checkpoint is not None:
            self.external(checkpoint)
        self.tree_index()
        return report

    def external(self, cp: Checkpoint) -> None:
        report = self.report
        public_raw = self.keys[cp.key_id].public_raw if cp.key_id in self.keys else None
        if public_raw is None:
            self.problem(f"the given checkpoint is signed by key {cp.key_id[:16]}, which the ledger never recorded")
        elif not verify_signature(public_raw, cp.signature_bytes, head_message(cp.size, cp.head)):
            self.problem("the given checkpoint's signature does not verify (size, head or signature altered)")
        if report.entries < cp.size:
            self.problem(f"ledger truncated: it has {report.entries} entries, the checkpoint commits "
                         f"to {cp.size}", seq=report.entries + 1)
        elif self.hash_at.get(cp.size) != cp.head:
            self.problem(f"entry {cp.size}'s hash differs from the checkpoint head {cp.head[:16]}...: "
                         "the ledger was rolled back or rewritten", seq=cp.size)


def verify_store(store: Store, checkpoint: Checkpoint | TreeCheckpoint | None = None,
                 trusted_keys: Iterable[bytes] = (), check_blobs: bool = True) -> VerifyReport:
    """Verify ``store`` (see the module docstring); optionally prove it extends ``checkpoint``."""
    verifier = _Verifier(store, {key_id_of(k) for k in trusted_keys}, check_blobs)
    if checkpoint is not None:
        verifier.wanted_sizes.add(checkpoint.size)
    pool, db_file, size = _digest_worker(store)
    try:
        with store.read() as conn:
            dbapi = conn.connection.dbapi_connection
            cursor = dbapi.cursor()
            try:
                if pool is not None:  # the worker reads and hashes payloads; read here only when needed
                    verifier.read_payload = lambda seq: dbapi.execute(PAYLOAD_SQL, (seq,)).fetchone()
                cursor.execute(SCAN_SQL if pool is None else SCAN_SQL.replace("payload", "NULL"))
                batch = FETCH_BATCH if pool is None else WORKER_BATCH
                rows = iter(lambda: cursor.fetchmany(batch), [])
                verifier.scan(digested(rows, pool, db_file, size, batch,
                                       lambda first, last: dbapi.execute(RANGE_SQL, (first, last)).fetchall(),
                                       check_blobs))
            finally:
                cursor.close()
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    _check_store_key(store, verifier)
    return verifier.finish(checkpoint)


def _digest_worker(store: Store) -> tuple[Executor | None, str, int]:
    """A worker process digesting entries ahead of the scan, when the ledger is large enough
    to repay it (``verify_digest.start_worker``); its SQLite file and entry count."""
    db_file = store.engine.url.database if store.is_sqlite else None
    if not db_file or db_file == ":memory:":
        return None, "", 0
    with store.read() as conn:
        size, first, last = conn.execute(text("SELECT count(*), min(seq), max(seq) FROM ledger_entries")).one()
    return start_worker(size, first, last), db_file, size


def _check_store_key(store: Store, verifier: _Verifier) -> None:
    """The store's own signing key must appear in its ledger: a key whose ledger is empty, or
    a ledger that never recorded the key, means entries were wiped or the ledger replaced."""
    current = KeyDirectory(store.keys_dir).current_id
    if current is None:
        return
    if verifier.report.entries == 0:
        verifier.problem(f"the ledger is empty, but the store holds signing key {current[:16]}..., "
                         "which is recorded when a ledger starts: entries were deleted")
    elif current not in verifier.keys:
        verifier.problem(f"the store's current signing key {current[:16]}... is not recorded in this "
                         "ledger: the ledger was replaced, or keys/current points at a foreign key")
