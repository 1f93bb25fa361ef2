"""The dashboard's run list lives in the database (``serve_runs``), paged and filtered in SQL:
runs recorded while the server runs appear, documents saved after a run's last entry are
attached, several servers syncing one ledger agree, and no server object keeps a list of runs.
On SQLite and, with GOLIVE_TEST_PG_URL, on PostgreSQL."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from golive import history as hist
from golive.ledger import LedgerRecorder, Signer, Store, record_key
from golive.ledger.simulate import record_run
from golive.serve import runindex
from golive.serve.runindex import RunFilters, RunIndex

from pg import backends, create_database, drop_database, pg_url


@pytest.fixture(params=backends())
def store(request, tmp_path):
    url = create_database(pg_url()) if request.param == "postgresql" else None
    s = Store(tmp_path / "store", url)
    yield s
    s.close()
    if url:
        drop_database(pg_url(), url)


def recorder_of(store: Store) -> LedgerRecorder:
    signer = Signer.generate()
    record_key(store, signer)
    return LedgerRecorder(store, signer, copy_artifacts=False)


def test_pages_and_filters_come_from_sql_and_follow_new_runs(store):
    rec = recorder_of(store)
    runs = [record_run(rec, 2, target=f"/srv/t{n % 2}") for n in range(7)]
    index = RunIndex(store)
    first, total = index.page(RunFilters(), 0, 3)
    assert total == 7 and [r.id for r in first] == [r["id"] for r in reversed(runs)][:3]  # newest first
    second, _ = index.page(RunFilters(), 3, 3)
    assert [r.id for r in second] == [r["id"] for r in reversed(runs)][3:6]
    only_t1, total_t1 = index.page(RunFilters(target="/srv/t1"), 0, 10)
    assert total_t1 == 3 and {r.target for r in only_t1} == {"/srv/t1"}
    assert all(r.status == "finished" and r.results == 2 and r.checkpoint_seq for r in first)
    assert index.page(RunFilters(since="2999-01-01"), 0, 10) == ([], 0)
    assert index.choices()["targets"] == ("/srv/t0", "/srv/t1")

    later = record_run(rec, 2, target="/srv/t1")  # recorded while the server runs
    newest, total = index.page(RunFilters(), 0, 1)
    assert total == 8 and newest[0].id == later["id"]
    assert index.get(later["id"]).by_status == newest[0].by_status and index.get("no-such-run") is None


def test_two_servers_syncing_one_ledger_agree(store):
    rec = recorder_of(store)
    for _ in range(3):
        record_run(rec, 2)
    a, b = RunIndex(store), RunIndex(store)
    a.refresh()
    record_run(rec, 2, finish=False)
    b.refresh()
    a.refresh()
    with store.read() as conn:
        rows = conn.execute(text("SELECT id, status FROM serve_runs ORDER BY seq")).all()
        synced = conn.execute(text("SELECT synced_seq FROM serve_sync")).scalar()
        size = conn.execute(text("SELECT size FROM ledger_head")).scalar()
    assert len(rows) == 4 and [s for _, s in rows] == ["finished"] * 3 + ["incomplete"]
    assert synced == size


def test_a_document_saved_after_the_last_entry_gives_the_run_its_verdict(store, monkeypatch):
    monkeypatch.setattr(runindex, "DOC_CHECK_EVERY_S", 0.0)
    rec = recorder_of(store)
    run = record_run(rec, 2)
    docless = record_run(rec, 2)
    index = RunIndex(store)
    assert index.get(run["id"]).verdict is None
    hist.save(store.path, {"run": {**run, "id": run["id"]}, "results": [],
                           "summary": {"verdict": {"state": "NOT READY"}, "coverage_rate": 0.5,
                                       "verification_rate": 0.25}})
    seen = index.get(run["id"])
    assert (seen.verdict, seen.coverage_rate, seen.verification_rate) == ("NOT READY", 0.5, 0.25)
    assert [r.id for r in index.page(RunFilters(verdict="NOT READY"), 0, 10)[0]] == [run["id"]]
    assert [r.id for r in index.page(RunFilters(verdict="none"), 0, 10)[0]] == [docless["id"]]
    # a run finished long ago without a document is no longer looked up
    monkeypatch.setattr(runindex, "DOC_GRACE", runindex.timedelta(seconds=-1))
    index.refresh()
    with store.read() as conn:
        states = dict(conn.execute(text("SELECT id, doc_state FROM serve_runs")).all())
    assert states == {run["id"]: "found", docless["id"]: "none"}


def test_no_server_object_holds_the_runs(store):
    rec = recorder_of(store)
    ids = {record_run(rec, 1)["id"] for _ in range(12)}
    index = RunIndex(store)
    runs, total = index.page(RunFilters(), 0, 5)
    assert total == 12 and len(runs) == 5
    held = json.dumps({k: repr(v) for k, v in vars(index).items()})
    assert not any(run_id in held for run_id in ids)  # only the database knows them


def test_every_pending_document_is_attached_in_one_pass(store, monkeypatch):
    monkeypatch.setattr(runindex, "DOC_CHECKS", 2)  # several transactions' worth of pending runs
    rec = recorder_of(store)
    runs = [record_run(rec, 1) for _ in range(5)]
    for n, run in enumerate(runs):
        hist.save(store.path, {"run": run, "results": [], "summary": {"verdict": {"state": f"V{n}"}}})
    index = RunIndex(store)
    listed, _ = index.page(RunFilters(), 0, 10)
    assert sorted(r.verdict for r in listed) == [f"V{n}" for n in range(5)]
