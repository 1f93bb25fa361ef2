"""Verification in-process with tiny batches (golive.ledger.verify_scan): the whole tamper suite
again with batches of 2 entries, so that clean batches are checked whole and tampered ones entry
by entry within one verification; a property test that random tampering gives the same report
(every finding, its entry and its order) whichever path each batch takes; and the tree's block
extension against one-leaf appends."""
from __future__ import annotations

import os
import shutil
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from golive.ledger import Store, verify, verify_digest, verify_scan, verify_store
from golive.ledger.chain import entry_hash
from golive.ledger.store import payload_bytes
from golive.ledger.tlog import TreeBuilder, root_of_leaves
from ledger_guard import unguard_sqlite
from test_ledger_tamper import *  # noqa: F401,F403 -- the tamper cases, run again here
from test_ledger_tamper import evidence, rows  # noqa: F401 -- the fixture, by name


@pytest.fixture(autouse=True)
def tiny_batches(monkeypatch):
    """In-process (no digest worker), two entries per batch."""
    monkeypatch.setattr(verify_digest, "PARALLEL_MIN_ENTRIES", 10**9)
    monkeypatch.setattr(verify, "FETCH_BATCH", 2)
    yield


def summary(report: verify.VerifyReport) -> tuple:
    return ([(p.message, p.seq, p.blob) for p in report.problems], report.entries, report.head,
            report.tree_root, report.runs, report.checkpoints, report.signatures, report.blobs,
            report.notes, report.incomplete_runs)


def test_clean_batches_are_checked_whole(evidence, monkeypatch):
    taken = []
    whole = verify_scan.Scan.whole_batch
    monkeypatch.setattr(verify_scan.Scan, "whole_batch", lambda self, *a: taken.append(whole(self, *a)) or taken[-1])
    report = verify_store(Store(evidence["store"].path))
    assert report.ok, report.problems
    assert taken and all(taken), "a clean batch was checked entry by entry"


def _tamper(db, action: str, seq: int, other: int) -> None:
    with sqlite3.connect(db) as conn:
        unguard_sqlite(conn)
        if action == "payload byte":
            conn.execute("UPDATE ledger_entries SET payload = CAST(replace(CAST(payload AS TEXT), '\"', '''') "
                         "AS BLOB) WHERE seq = ?", (seq,))
        elif action == "kind":
            conn.execute("UPDATE ledger_entries SET kind = 'result' WHERE seq = ?", (seq,))
        elif action == "run id":
            conn.execute("UPDATE ledger_entries SET run_id = 'forged' WHERE seq = ?", (seq,))
        elif action == "copy payload":
            conn.execute("UPDATE ledger_entries SET payload = (SELECT payload FROM ledger_entries WHERE seq = ?) "
                         "WHERE seq = ?", (other, seq))
        elif action == "unsign":
            conn.execute("UPDATE ledger_entries SET signatures = '[]' WHERE seq = ?", (seq,))
        elif action == "delete":
            conn.execute("DELETE FROM ledger_entries WHERE seq = ?", (seq,))
        elif action == "text payload":
            conn.execute("UPDATE ledger_entries SET payload = CAST(payload AS TEXT) WHERE seq = ?", (seq,))


def _rechain(db, start: int) -> None:
    """Recompute every hash from entry ``start`` on (a text payload hashed as its UTF-8 bytes,
    as verify reads it), as an attacker who knows the hashing rule can."""
    with sqlite3.connect(db) as conn:
        unguard_sqlite(conn)
        entries = conn.execute("SELECT seq, run_id, kind, payload, prev_hash FROM ledger_entries "
                               "WHERE seq >= ? ORDER BY seq", (start,)).fetchall()
        prev = entries[0][4] if entries else ""
        for seq, run_id, kind, payload, _prev in entries:
            digest = entry_hash(seq, run_id, kind, prev, payload_bytes(payload))
            conn.execute("UPDATE ledger_entries SET prev_hash = ?, entry_hash = ? WHERE seq = ?", (prev, digest, seq))
            prev = digest


ACTIONS = ["payload byte", "kind", "run id", "copy payload", "unsign", "delete", "text payload"]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """One recorded store (the tamper suite's), copied for each example."""
    return evidence.__wrapped__(tmp_path_factory.mktemp("pristine"))["store"].path


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(ACTIONS), st.integers(1, 30), st.integers(1, 30), st.booleans()),
                max_size=3),
       st.integers(1, 9))
def test_whole_batches_report_what_entry_by_entry_does(pristine, tmp_path_factory, tampers, batch):
    path = tmp_path_factory.mktemp("copy") / "evidence"
    shutil.copytree(pristine, path)
    db = path / "ledger.db"
    size = len(rows(db))
    for action, seq, other, rechain in tampers:
        seq, other = 1 + (seq - 1) % size, 1 + (other - 1) % size
        _tamper(db, action, seq, other)
        if rechain and action != "delete":  # an attacker who recomputes the hashes from there on
            _rechain(db, seq)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(verify, "FETCH_BATCH", batch)
        whole = verify_store(Store(path))
        mp.setattr(verify_scan.Scan, "whole_batch", lambda self, *a: False)
        exact = verify_store(Store(path))
    assert summary(whole) == summary(exact)


@given(st.lists(st.integers(0, 70), max_size=12), st.integers(0, 40))
def test_tree_extended_in_blocks_is_the_tree_of_its_leaves(chunks, start):
    leaves = [os.urandom(32) for _ in range(start + sum(chunks))]
    one, blocks = TreeBuilder(), TreeBuilder()
    for h in leaves[:start]:
        one.append_hash(h)
        blocks.append_hash(h)
    at = start
    for n in chunks:
        blocks.extend_hashes(leaves[at:at + n])
        for h in leaves[at:at + n]:
            one.append_hash(h)
        at += n
        assert (blocks.size, blocks.edge, blocks.root()) == (one.size, one.edge, one.root())
    assert blocks.root() == root_of_leaves(leaves)
