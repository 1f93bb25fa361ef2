"""The evidence ledger on both back ends: SQLite always, PostgreSQL when ``GOLIVE_TEST_PG_URL``
is set (``.ci/run`` starts one). Same behaviour through a URL: recording, verification,
tamper detection, the run index, export, kill -9 mid-run, and concurrent appends from several
processes keeping one linear chain."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import text

from golive.ledger import Checkpoint, LedgerRecorder, Store, default_signer, verify_store
from golive.ledger.export import export_runs, verify_envelope
from golive.ledger.show import list_runs, requirement_history, run_results
from golive.ledger.simulate import record_run
from golive.ledger.store import StoreError

from pg import db_url  # noqa: F401 -- the parametrised fixture
from ledger_guard import unguard

# Records runs into Store(path, url) and prints progress; run as a separate process.
RECORDER_SCRIPT = textwrap.dedent("""
    import sys, time
    from golive.ledger import LedgerRecorder, Store, default_signer
    from golive.ledger.simulate import record_run
    path, url, runs, results, delay = sys.argv[1], sys.argv[2] or None, *map(float, sys.argv[3:6])
    store = Store(path, url)
    recorder = LedgerRecorder(store, default_signer(store, announce=lambda m: None))
    for _ in range(int(runs)):
        record_run(recorder, int(results), delay_s=delay, progress=lambda n: print(f"result {n}", flush=True))
    print("done", flush=True)
""")


def recorder_process(store_dir: Path, url: str | None, runs: int, results: int, delay: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", RECORDER_SCRIPT, str(store_dir), url or "",
                             str(runs), str(results), str(delay)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def store(tmp_path, db_url):  # noqa: F811 -- pytest fixture injection
    s = Store(tmp_path / "evidence", db_url)
    yield s
    s.close()


def test_backend_is_the_one_asked_for(store, db_url):  # noqa: F811
    assert store.is_sqlite == (db_url is None)
    if db_url:
        assert store.engine.dialect.name == "postgresql"
        from sqlalchemy.engine import make_url
        # the password (if any) never reaches messages
        assert store.safe_url == make_url(db_url).render_as_string(hide_password=True)


def test_recorded_runs_verify_and_fill_the_index(store, tmp_path):
    signer = default_signer(store, announce=lambda m: None)
    recorder = LedgerRecorder(store, signer)
    run1 = record_run(recorder, 5, tmp_path)
    head1 = Checkpoint.from_dict(recorder.head)
    run2 = record_run(recorder, 3, tmp_path)

    report = verify_store(store, head1)
    assert report.ok, report.problems
    assert report.entries == 1 + (5 + 3) + 2 * 3  # key, results, start/finish/checkpoint per run
    assert report.runs == 2 and report.checkpoints == 2
    assert report.head == recorder.head["head"]

    runs = {r["id"]: r for r in list_runs(store)}
    assert set(runs) == {run1["id"], run2["id"]}
    assert all(r["status"] == "finished" for r in runs.values())
    _rid, results = run_results(store, run1["id"])
    assert len(results) == 5
    assert len(requirement_history(store, results[0]["requirement_id"])) >= 1


def test_payload_bytes_round_trip_exactly(store):
    """psycopg returns BYTEA as memoryview; the hashes must still recompute byte for byte."""
    recorder = LedgerRecorder(store, default_signer(store, announce=lambda m: None))
    record_run(recorder, 2)
    with store.read() as conn:
        rows = conn.execute(text("SELECT seq, run_id, kind, payload, prev_hash, entry_hash "
                                 "FROM ledger_entries ORDER BY seq")).all()
    from golive.ledger.chain import entry_hash
    from golive.ledger.store import payload_bytes
    for seq, run_id, kind, payload, prev, digest in rows:
        assert entry_hash(seq, run_id, kind, prev, payload_bytes(payload)) == digest


def test_edited_payload_is_detected(store):
    recorder = LedgerRecorder(store, default_signer(store, announce=lambda m: None))
    record_run(recorder, 4)
    with store.read() as conn:
        seq, payload = conn.execute(text("SELECT seq, payload FROM ledger_entries WHERE kind = 'result' "
                                         "ORDER BY seq LIMIT 1")).one()
    from golive.ledger.store import payload_bytes
    forged = payload_bytes(payload) + b" "
    with store.engine.begin() as conn:
        unguard(conn)  # as the database's owner can
        conn.execute(text("UPDATE ledger_entries SET payload = :p WHERE seq = :s"), {"p": forged, "s": seq})
    report = verify_store(store)
    assert not report.ok
    assert any(p.seq == seq for p in report.problems), report.problems


def test_deleted_entry_is_detected(store):
    recorder = LedgerRecorder(store, default_signer(store, announce=lambda m: None))
    record_run(recorder, 4)
    with store.engine.begin() as conn:
        unguard(conn)
        conn.execute(text("DELETE FROM ledger_entries WHERE seq = 4"))
    assert not verify_store(store).ok


def test_export_verifies_with_the_public_key_alone(store, tmp_path):
    signer = default_signer(store, announce=lambda m: None)
    run = record_run(LedgerRecorder(store, signer), 3)
    out = tmp_path / "export.intoto.jsonl"
    assert export_runs(store, signer, out) == 1
    env = json.loads(out.read_text().splitlines()[0])
    statement = verify_envelope(env, signer.public_raw)
    assert run["id"] in json.dumps(statement)


def test_unreachable_database_is_a_clear_store_error(tmp_path):
    bad = "postgresql+psycopg://golive:secret-pw@127.0.0.1:1/nowhere"
    with pytest.raises(StoreError) as err:
        Store(tmp_path / "evidence", bad)
    assert "127.0.0.1:1/nowhere" in str(err.value)
    assert "secret-pw" not in str(err.value)


def test_kill_9_mid_run_leaves_a_verifiable_ledger(tmp_path, db_url):  # noqa: F811
    store_dir = tmp_path / "evidence"
    Store(store_dir, db_url).close()  # tables exist before the child starts
    proc = recorder_process(store_dir, db_url, 1, 10_000, 0.002)
    try:
        for line in proc.stdout:
            if line.strip() == "result 20":
                break
        else:
            raise AssertionError(f"recorder ended early: {proc.stderr.read()}")
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    store = Store(store_dir, db_url)
    try:
        report = verify_store(store)
        assert report.ok, report.problems
        assert len(report.incomplete_runs) == 1
        record_run(LedgerRecorder(store, default_signer(store, announce=lambda m: None)), 2)
        with store.read() as conn:
            statuses = sorted(s for (s,) in conn.execute(text("SELECT status FROM runs")))
        assert statuses == ["finished", "incomplete"]
        assert verify_store(store).ok
    finally:
        store.close()


def test_concurrent_appends_from_three_processes_keep_one_linear_chain(tmp_path, db_url):  # noqa: F811
    """Three processes open the same (new) store at once -- schema creation races too -- and
    append interleaved runs; the chain must have no fork, no gap and no shared number."""
    store_dir = tmp_path / "evidence"
    runs, results, writers = 2, 30, 3
    procs = [recorder_process(store_dir, db_url, runs, results, 0.005) for _ in range(writers)]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0 and out.strip().endswith("done"), err

    store = Store(store_dir, db_url)
    try:
        report = verify_store(store)
        assert report.ok, report.problems
        assert report.entries == 1 + writers * runs * (results + 3)
        assert report.runs == writers * runs and report.incomplete_runs == []
        with store.read() as conn:
            rows = conn.execute(text("SELECT seq, prev_hash, entry_hash, run_id FROM ledger_entries "
                                     "ORDER BY seq")).all()
            head = conn.execute(text("SELECT size, head FROM ledger_head")).one()
        assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
        assert all(b[1] == a[2] for a, b in zip(rows, rows[1:]))
        assert tuple(head) == (len(rows), rows[-1][2])
        switches = sum(1 for a, b in zip(rows, rows[1:]) if a[3] != b[3])
        assert switches > writers * runs, "the processes never appended at the same time"
    finally:
        store.close()
