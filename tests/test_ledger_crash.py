"""Crash safety and concurrency with real processes: kill -9 in the middle of a run, and two
processes appending to the same store at once."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from golive.ledger import LedgerRecorder, Store, default_signer, verify_store
from golive.ledger.simulate import record_run


def simulate(store: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "golive.ledger.simulate", str(store), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_kill_9_mid_run_leaves_a_verifiable_ledger(tmp_path):
    store_dir = tmp_path / "evidence"
    proc = simulate(store_dir, "--runs", "1", "--results", "10000", "--delay", "0.002")
    try:
        for line in proc.stdout:
            if line.strip() == "result 25":
                break
        else:
            raise AssertionError(f"simulator ended early: {proc.stderr.read()}")
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    store = Store(store_dir)
    report = verify_store(store)
    assert report.ok, report.problems
    assert len(report.incomplete_runs) == 1
    assert report.entries >= 1 + 1 + 25  # key, run-started, results appended before the kill

    # The next run marks the dead run incomplete in the index and records normally.
    recorder = LedgerRecorder(store, default_signer(store, announce=lambda m: None))
    record_run(recorder, 3, tmp_path)
    with store.read() as conn:
        statuses = dict(conn.execute(text("SELECT id, status FROM runs")).all())
    assert statuses[report.incomplete_runs[0]] == "incomplete"
    assert sorted(statuses.values()) == ["finished", "incomplete"]
    after = verify_store(store)
    assert after.ok and after.incomplete_runs == report.incomplete_runs


def test_two_processes_append_concurrently(tmp_path):
    store_dir = tmp_path / "evidence"
    runs, results = 3, 40
    # the delay keeps both processes appending over the same second or so, so they interleave
    procs = [simulate(store_dir, "--runs", str(runs), "--results", str(results), "--delay", "0.01")
             for _ in range(2)]
    for proc in procs:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err

    report = verify_store(Store(store_dir))
    assert report.ok, report.problems
    # one key entry (the key lock stops the second process creating its own key), then per run:
    # run-started, results, run-finished, checkpoint -- with no gap and no shared sequence number
    assert report.entries == 1 + 2 * runs * (results + 3)
    assert report.runs == 2 * runs and report.checkpoints == 2 * runs
    assert report.incomplete_runs == []
    with Store(store_dir).read() as conn:
        order = [r for (r,) in conn.execute(text("SELECT run_id FROM ledger_entries ORDER BY seq"))]
    switches = sum(1 for a, b in zip(order, order[1:]) if a != b)
    assert switches > 2 * runs, "the two processes never appended at the same time"
