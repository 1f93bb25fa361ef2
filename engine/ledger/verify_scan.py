"""The ordered pass of ``verify_store`` over the ledger's entries, one batch of rows at a time.

Every entry is checked for a gap in the sequence, a ``prev_hash`` that does not link to the
entry before it and a stored hash that differs from the recomputed one; it becomes a leaf of
the recomputed Merkle tree; and each entry beyond the common case -- an unsigned result of an
open run, naming no artifact blobs, not a copy of an earlier payload -- goes to the verifier's
``entry`` checks (lifecycle, signatures, keys, checkpoints, replays, blobs).

Nearly every batch has no problem at all, so a batch is first checked whole (``whole_batch``):
sequence, links and hashes as list operations that run in C, the tree extended by complete
subtrees, the common-case entries taken as stretches of consecutive results of one run. When a
batch check fails the batch is checked entry by entry (``exact_batch``), which names each
problem. Both call ``entry`` for the same entries, in order, with the tree as it stands before
each, so the findings are the same whichever path a batch takes.
"""
from __future__ import annotations

import hashlib
import itertools
from operator import eq, itemgetter
from typing import TYPE_CHECKING, Any, Iterable

from golive.ledger.chain import ENTRY_DOMAIN, GENESIS_HASH, log_origin
from golive.ledger.store import payload_bytes

if TYPE_CHECKING:
    from golive.ledger.tlog import TreeBuilder
    from golive.ledger.verify_digest import Digested
    from golive.ledger.verify_report import VerifyReport

# the columns of a scanned row: (seq, run_id, kind, payload, prev_hash, entry_hash, signatures)
SEQ, RUN_ID, KIND, PAYLOAD, PREV_HASH, ENTRY_HASH, SIGNATURES = range(7)
COLUMN = [itemgetter(i) for i in range(7)]
NO_KEYS = itertools.repeat(None)  # in-process: each payload's key is computed in the scan
BLOBS_MARK = b'"blobs":[{'  # a payload naming artifact blobs (``entry`` checks them)
ENTRY_PREFIX = ENTRY_DOMAIN + "\n"
NO_BLOBS: frozenset[int] = frozenset()


class Scan:
    """Mixed into ``verify._Verifier``; needs its ``runs``, ``run_hashes``, ``payload_seen``,
    ``wanted_sizes``, ``hash_at``, ``root_at``, ``tree``, ``report``, ``check_blobs``, ``leaf``,
    ``origin``, ``problem`` and ``entry``."""

    runs: dict[str, str]
    run_hashes: dict[str, list[bytes]]
    payload_seen: dict[int, int]
    wanted_sizes: set[int]
    hash_at: dict[int, str]
    root_at: dict[int, bytes]
    tree: "TreeBuilder"
    report: "VerifyReport"
    check_blobs: bool
    leaf: bytes
    origin: str

    def problem(self, message: str, seq: int | None = None, blob: str | None = None) -> None:
        raise NotImplementedError

    def entry(self, seq: int, run_id: str, kind: str, payload: Any, key: int, digest: str,
              signatures: str) -> None:
        raise NotImplementedError

    def scan(self, batches: Iterable["Digested"]) -> None:
        """One pass over the entries, given as batches of rows in ``seq`` order, each with its
        digests (``verify_digest``: the seqs whose content does not match their hash, a replay
        key per row, the seqs naming blobs) or, in-process, Nones."""
        self.next_seq, self.prev, self.before_prev, last = 1, GENESIS_HASH, None, 0
        for rows, bad, keys, blobbed in batches:
            if not rows:
                continue
            if not self.whole_batch(rows, bad, keys, blobbed):
                self.exact_batch(rows, bad, keys, blobbed)
            last = rows[-1][SEQ]
        self.report.entries, self.report.head = last, self.prev
        self.report.tree_root = self.tree.root()

    def whole_batch(self, rows: list[tuple], bad: set[int] | None, keys: list[int] | None,
                    blobbed: set[int] | None) -> bool:
        """Check ``rows`` as a whole; False, having changed nothing, if they hold a sequence,
        link or hash problem (or a size whose tree head a given checkpoint needs)."""
        first, n, sha256 = self.next_seq, len(rows), hashlib.sha256
        hashes = list(map(COLUMN[ENTRY_HASH], rows))
        if not (all(map(eq, map(COLUMN[SEQ], rows), itertools.count(first)))
                and rows[0][PREV_HASH] == self.prev and list(map(COLUMN[PREV_HASH], rows[1:])) == hashes[:-1]):
            return False
        if any(first <= size < first + n for size in self.wanted_sizes):
            return False
        if bad is None:  # in-process: hash here (``verify_digest.digest_rows`` in a worker)
            types = set(map(type, map(COLUMN[PAYLOAD], rows)))
            if not types <= {bytes, str, memoryview}:
                return False
            if types != {bytes}:  # memoryview from a driver, text from an edited row
                rows = [(*row[:PAYLOAD], payload_bytes(row[PAYLOAD]), *row[PAYLOAD + 1:]) for row in rows]
            digests = [sha256(f"{ENTRY_PREFIX}{seq}\n{run_id}\n{kind}\n{prev_hash}\n{len(payload)}\n".encode()
                              + payload).digest() for seq, run_id, kind, payload, prev_hash, _, _ in rows]
            if list(map(bytes.hex, digests)) != hashes:
                return False
            leaves = [sha256(b"\x00" + digest).digest() for digest in digests]
            keys = list(map(hash, map(COLUMN[PAYLOAD], rows)))
            blobbed = {seq for seq, payload in zip(itertools.count(first), map(COLUMN[PAYLOAD], rows))
                       if BLOBS_MARK in payload} if self.check_blobs else NO_BLOBS
        else:
            if bad or keys is None:
                return False
            try:  # every stored hash matched a recomputed one, so it is hex
                leaves = [sha256(b"\x00" + bytes.fromhex(h)).digest() for h in hashes]
            except (TypeError, ValueError):
                return False
            blobbed = blobbed if self.check_blobs and blobbed else NO_BLOBS
        if first == 1:
            self.origin = log_origin(hashes[0])
        self.take(rows, first, keys, leaves, hashes, blobbed)
        self.next_seq, self.before_prev, self.prev = first + n, hashes[-2] if n > 1 else self.prev, hashes[-1]
        return True

    def take(self, rows: list[tuple], first: int, keys: list[int], leaves: list[bytes], hashes: list[str],
             blobbed: set[int] | frozenset[int]) -> None:
        """The entry checks of a batch whose sequence, links and hashes hold: stretches of
        unsigned results at once, every other entry through ``entry`` (the tree brought up to
        the entry before it first, as a checkpoint needs its head)."""
        runs, run_hashes, seen, tree = self.runs, self.run_hashes, self.payload_seen, self.tree
        in_tree = 0  # leaves of this batch already in the tree

        def check(i: int) -> None:
            nonlocal in_tree
            tree.extend_hashes(leaves[in_tree:i])
            in_tree = i
            row, self.leaf = rows[i], leaves[i]
            self.entry(row[SEQ], row[RUN_ID], row[KIND], row[PAYLOAD], keys[i], hashes[i], row[SIGNATURES])

        others = [i for i, row in enumerate(rows) if row[KIND] != "result" or row[SIGNATURES] != "[]"]
        start = 0
        for stop in [*others, len(rows)]:
            if start < stop:  # rows start..stop-1: unsigned results
                run_id, stretch = rows[start][RUN_ID], rows[start:stop]
                if (runs.get(run_id) == "open" and list(map(COLUMN[RUN_ID], stretch)).count(run_id) == stop - start
                        and (not blobbed or blobbed.isdisjoint(range(first + start, first + stop)))
                        and self.first_copies(keys[start:stop], list(map(COLUMN[SEQ], stretch)))):
                    run_hashes[run_id].extend(leaves[start:stop])
                else:
                    for i in range(start, stop):  # exact_batch's common case, entry by entry
                        run_id, key = rows[i][RUN_ID], keys[i]
                        if runs.get(run_id) == "open" and first + i not in blobbed and key not in seen:
                            seen[key] = rows[i][SEQ]
                            run_hashes[run_id].append(leaves[i])
                        else:
                            check(i)
            if stop < len(rows):
                check(stop)
            start = stop + 1
        tree.extend_hashes(leaves[in_tree:])

    def first_copies(self, keys: list[int], seqs: list[int]) -> bool:
        """Record ``keys`` (of entries ``seqs``) in the replay index if none is there yet and
        they differ from each other; else leave the index as it was and return False."""
        seen = self.payload_seen
        firsts = list(map(seen.setdefault, keys, seqs))  # one look-up per key: the index is large
        if firsts == seqs:
            return True
        for key, seq, first in zip(keys, seqs, firsts):
            if first == seq:
                del seen[key]  # added just now
        return False

    def exact_batch(self, rows: list[tuple], bad: set[int] | None, keys: list[int] | None,
                    blobbed: set[int] | None) -> None:
        """Entry by entry, naming every sequence, link and hash problem."""
        expected, prev, before_prev = self.next_seq, self.prev, self.before_prev
        runs, run_hashes, seen, wanted = self.runs, self.run_hashes, self.payload_seen, self.wanted_sizes
        check_blobs, sha256, fromhex = self.check_blobs, hashlib.sha256, bytes.fromhex
        tree = self.tree
        edge, count = tree.edge, tree.size
        # In-process (bad is None), the digests are computed here as the loop goes.
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
                else:
                    self.problem(f"prev_hash does not link to entry {seq - 1}'s hash: an entry was "
                                 "inserted, deleted or reordered here", seq)
            elif (seq in bad) if bad is not None else sha256(
                    f"{ENTRY_PREFIX}{seq}\n{run_id}\n{kind}\n{prev_hash}\n{len(payload)}\n".encode()
                    + payload).hexdigest() != stored_hash:
                self.problem("content does not match its hash (payload, kind or run id edited)", seq)
            expected, prev, before_prev = seq + 1, stored_hash, prev
            if seq == 1:
                self.origin = log_origin(stored_hash)
            try:  # leaf data: the 32 bytes of the entry hash
                leaf = sha256(b"\x00" + fromhex(stored_hash)).digest()
            except (TypeError, ValueError):
                leaf = sha256(b"\x00" + str(stored_hash).encode()).digest()  # malformed: reported above
            if key is None:
                key = hash(payload)
            if (kind == "result" and signatures == "[]" and runs.get(run_id) == "open"
                    and not (check_blobs and (seq in blobbed if bad is not None else BLOBS_MARK in payload))
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
        self.next_seq, self.prev, self.before_prev = expected, prev, before_prev
