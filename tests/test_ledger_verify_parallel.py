"""Verification with its digest worker (golive.ledger.verify_digest) forced on for tiny ledgers:
the whole tamper suite again, with batches of 3 entries, must name the same entry with the same
message as the in-process path; and a worker whose answer does not cover the scanned rows is
replaced by digests computed in the verifier, from the same snapshot."""
from __future__ import annotations

import pytest

from golive.ledger import Store, verify, verify_digest, verify_store
from test_ledger_tamper import *  # noqa: F401,F403 -- the tamper cases, run again here
from test_ledger_tamper import evidence, execute, seq_of  # noqa: F401 -- the fixture, by name

WORKERS: list = []


@pytest.fixture(autouse=True)
def digest_worker(monkeypatch):
    """Every verification of a gap-free ledger uses the worker, in batches of 3 entries."""
    monkeypatch.setattr(verify_digest, "PARALLEL_MIN_ENTRIES", 1)
    monkeypatch.setattr(verify_digest, "idle_core", lambda: True)  # however busy the machine is
    monkeypatch.setattr(verify, "WORKER_BATCH", 3)
    start = verify_digest.start_worker

    def recorded(*args):  # noqa: ANN002, ANN202
        pool = start(*args)
        WORKERS.append(pool)
        return pool
    monkeypatch.setattr(verify, "start_worker", recorded)
    WORKERS.clear()
    yield


def in_process(path) -> verify.VerifyReport:  # noqa: ANN001
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(verify_digest, "PARALLEL_MIN_ENTRIES", 10**9)
        return verify_store(Store(path))


def test_worker_verifies_as_the_verifier_does(evidence):
    report = verify_store(Store(evidence["store"].path))
    assert WORKERS and WORKERS[-1] is not None, "the digest worker was not used"
    assert report.ok, report.problems
    alone = in_process(evidence["store"].path)
    assert (report.entries, report.head, report.tree_root, report.runs, report.checkpoints, report.blobs) == \
        (alone.entries, alone.head, alone.tree_root, alone.runs, alone.checkpoints, alone.blobs)


def test_a_worker_answer_for_other_rows_is_not_used(evidence, monkeypatch):
    """The worker reads in its own snapshot: if its rows differ from the scan's (here: it
    claims every entry matches, for the wrong seqs), the verifier digests the batch itself."""
    seq = seq_of(evidence["db"], "result", 1)
    execute(evidence["db"], "UPDATE ledger_entries SET kind = 'results' WHERE seq = ?", seq)
    real = verify_digest._digest_range
    monkeypatch.setattr(verify_digest, "_digest_range",
                        lambda db, first, last, blobs: ((first + 100, last + 100, 0), real(db, first, last, blobs)[1]))
    report = verify_store(Store(evidence["store"].path))
    assert WORKERS[-1] is not None
    assert report.first_problem.seq == seq and "content does not match" in report.first_problem.message


def test_a_failing_worker_costs_only_speed(evidence, monkeypatch):
    seq = seq_of(evidence["db"], "result", 3)
    execute(evidence["db"], "UPDATE ledger_entries SET run_id = 'forged' WHERE seq = ?", seq)

    def broken(*args):  # noqa: ANN002, ANN202
        raise OSError("the worker cannot read the database")
    monkeypatch.setattr(verify_digest, "_digest_range", broken)
    report = verify_store(Store(evidence["store"].path))
    assert WORKERS[-1] is not None
    assert report.first_problem.seq == seq and "content does not match" in report.first_problem.message
