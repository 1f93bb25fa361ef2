"""Tamper tests: each builds a fresh ledger from a real recorder run, tampers with it the way
an operator with database and file access could, and checks that verify names the right entry
or blob and why."""
from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from golive.ledger import Checkpoint, LedgerRecorder, Signer, Store, default_signer, verify_store
from golive.ledger.chain import entry_hash, head_message
from golive.ledger.keys import b64
from golive.ledger.simulate import record_run
from golive.model import Artifact
from golive.digest import file_sha256
from ledger_guard import unguard_sqlite


@pytest.fixture
def evidence(tmp_path: Path):
    """Two recorded runs of 4 results each, the second with artifact copies."""
    target = tmp_path / "target"
    (target / "logs").mkdir(parents=True)
    log = target / "logs" / "pipeline_runs.jsonl"
    log.write_text('{"run": 1, "duration_s": 84.2}\n{"run": 2, "duration_s": 91.0}\n')
    store = Store(tmp_path / "evidence")
    signer = default_signer(store, announce=lambda m: None)
    recorder = LedgerRecorder(store, signer)
    run1 = record_run(recorder, 4, target)
    head1 = Checkpoint.from_dict(recorder.head)
    arts = {0: [Artifact("logs/pipeline_runs.jsonl", file_sha256(log))]}
    run2 = record_run(recorder, 4, target, artifacts=arts)
    head2 = Checkpoint.from_dict(recorder.head)
    store.close()
    return {"store": store, "db": store.path / "ledger.db", "signer": signer, "runs": [run1, run2],
            "heads": [head1, head2], "log": log}


def rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT seq, run_id, kind, payload, prev_hash, entry_hash, signatures "
                            "FROM ledger_entries ORDER BY seq").fetchall()


def seq_of(db: Path, kind: str, nth: int = 0) -> int:
    return [r[0] for r in rows(db) if r[2] == kind][nth]


def execute(db: Path, sql: str, *params) -> None:
    with sqlite3.connect(db) as conn:
        unguard_sqlite(conn)  # the append-only triggers go first: the database's owner can drop them
        conn.execute(sql, params)


def without_constraints(db: Path) -> None:
    """What an attacker does first to insert or reorder rows: drop the table's unique keys."""
    with sqlite3.connect(db) as conn:
        conn.executescript("CREATE TABLE t AS SELECT * FROM ledger_entries; DROP TABLE ledger_entries;"
                           "ALTER TABLE t RENAME TO ledger_entries;")


def rechain_from(db: Path, start: int) -> None:
    """Recompute every hash from ``start`` on, as an attacker who knows the hashing rule can."""
    all_rows = rows(db)
    prev = all_rows[start - 2][5] if start > 1 else "0" * 64
    with sqlite3.connect(db) as conn:
        unguard_sqlite(conn)
        for seq, run_id, kind, payload, _prev, _hash, _sigs in all_rows[start - 1:]:
            digest = entry_hash(seq, run_id, kind, prev, payload)
            conn.execute("UPDATE ledger_entries SET prev_hash = ?, entry_hash = ? WHERE seq = ?",
                         (prev, digest, seq))
            prev = digest


def check(ev, expect_seq=None, words=(), checkpoint=None, blob=False):
    report = verify_store(Store(ev["store"].path), checkpoint)
    assert not report.ok, "tampering went undetected"
    first = report.first_problem
    if blob:
        assert first.blob is not None
    else:
        assert first.seq == expect_seq, f"named {first}, expected entry {expect_seq}"
    for word in words:
        assert word in first.message, first.message
    return report


def test_untouched_ledger_verifies(evidence):
    report = verify_store(Store(evidence["store"].path), evidence["heads"][0])
    assert report.ok, report.problems
    assert report.runs == 2 and report.checkpoints == 2 and report.blobs == 1
    assert report.entries == evidence["heads"][1].size == 1 + 2 * 7
    assert report.last_checkpoint == evidence["heads"][1]
    assert report.incomplete_runs == []


@pytest.mark.tamper
def test_payload_edited(evidence):
    db = evidence["db"]
    target = seq_of(db, "result", 2)
    payload = rows(db)[target - 1][3]
    forged = payload.replace(b'"status":"fail"', b'"status":"pass"')
    assert forged != payload
    execute(db, "UPDATE ledger_entries SET payload = ? WHERE seq = ?", forged, target)
    check(evidence, target, ["does not match its hash"])


@pytest.mark.tamper
def test_payload_edited_and_rehashed_is_caught_by_checkpoint(evidence):
    db = evidence["db"]
    target = seq_of(db, "result", 2)
    forged = rows(db)[target - 1][3].replace(b'"status":"fail"', b'"status":"pass"')
    execute(db, "UPDATE ledger_entries SET payload = ? WHERE seq = ?", forged, target)
    rechain_from(db, target)
    check(evidence, seq_of(db, "checkpoint", 0), ["does not verify"])


@pytest.mark.tamper
def test_signature_edited(evidence):
    db = evidence["db"]
    cp = seq_of(db, "checkpoint", 0)
    sigs = json.loads(rows(db)[cp - 1][6])
    raw = bytearray(__import__("base64").b64decode(sigs[0]["sig"]))
    raw[5] ^= 0x01
    sigs[0]["sig"] = b64(bytes(raw))
    execute(db, "UPDATE ledger_entries SET signatures = ? WHERE seq = ?", json.dumps(sigs), cp)
    check(evidence, cp, ["does not verify"])


@pytest.mark.tamper
def test_entry_deleted(evidence):
    db = evidence["db"]
    target = seq_of(db, "result", 1)
    execute(db, "DELETE FROM ledger_entries WHERE seq = ?", target)
    check(evidence, target + 1, [f"entry {target} is missing"])


@pytest.mark.tamper
def test_two_entries_swapped(evidence):
    db = evidence["db"]
    a = seq_of(db, "result", 1)
    without_constraints(db)
    execute(db, "UPDATE ledger_entries SET seq = -1 WHERE seq = ?", a)
    execute(db, "UPDATE ledger_entries SET seq = ? WHERE seq = ?", a, a + 1)
    execute(db, "UPDATE ledger_entries SET seq = ? WHERE seq = -1", a + 1)
    check(evidence, a, ["does not link"])


@pytest.mark.tamper
def test_entry_inserted(evidence):
    db = evidence["db"]
    at = seq_of(db, "result", 2)  # forge a passing result right before this one
    old = rows(db)
    run_id, prev = old[at - 1][1], old[at - 2][5]
    body = json.loads(old[at - 1][3])
    body.update(requirement_id="FORGED-01", status="pass")
    payload = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    without_constraints(db)
    execute(db, "UPDATE ledger_entries SET seq = seq + 1 WHERE seq >= ?", at)
    execute(db, "INSERT INTO ledger_entries VALUES (?, ?, 'result', ?, ?, ?, '[]')",
            at, run_id, payload, prev, entry_hash(at, run_id, "result", prev, payload))
    check(evidence, at, ["inserted"])


@pytest.mark.tamper
def test_a_result_edited_with_its_hash_recomputed_is_named(evidence):
    """fail -> pass in a result payload, its entry hash recomputed: the next entry still links to
    the old hash, and the edited entry (not the next) is named, with the cause."""
    db = evidence["db"]
    at = seq_of(db, "result", 1)
    old = rows(db)[at - 1]
    body = json.loads(old[3])
    body["status"] = "pass" if body.get("status") != "pass" else "fail"
    payload = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    without_constraints(db)
    execute(db, "UPDATE ledger_entries SET payload = ?, entry_hash = ? WHERE seq = ?",
            payload, entry_hash(at, old[1], old[2], old[4], payload), at)
    check(evidence, at, ["changed and its hash recomputed", f"entry {at + 1} was written after"])


@pytest.mark.tamper
def test_truncated_against_checkpoint(evidence):
    db = evidence["db"]
    head2 = evidence["heads"][1]
    keep = evidence["heads"][0].size
    execute(db, "DELETE FROM ledger_entries WHERE seq > ?", keep)
    assert verify_store(Store(evidence["store"].path)).ok  # consistent on its own ...
    check(evidence, keep + 1, ["truncated"], checkpoint=head2)  # ... but shorter than promised


@pytest.mark.tamper
def test_rolled_back_against_checkpoint(evidence, tmp_path):
    db = evidence["db"]
    head2 = evidence["heads"][1]
    execute(db, "DELETE FROM ledger_entries WHERE seq > ?", evidence["heads"][0].size)
    recorder = LedgerRecorder(Store(evidence["store"].path), evidence["signer"])
    record_run(recorder, 5, tmp_path)  # a different history, longer than the checkpoint
    check(evidence, head2.size, ["rolled back"], checkpoint=head2)


@pytest.mark.tamper
def test_artifact_blob_changed(evidence):
    blob = evidence["store"].blob_path(file_sha256(evidence["log"]))
    os.chmod(blob, 0o644)
    blob.write_text('{"run": 1, "duration_s": 14.2}\n')
    report = check(evidence, blob=True, words=["blob changed"])
    assert "logs/pipeline_runs.jsonl" in report.first_problem.blob


@pytest.mark.tamper
def test_artifact_blob_removed(evidence):
    evidence["store"].blob_path(file_sha256(evidence["log"])).unlink()
    check(evidence, blob=True, words=["missing"])


@pytest.mark.tamper
def test_signature_by_unknown_key(evidence):
    db = evidence["db"]
    cp = seq_of(db, "checkpoint", 1)
    mallory = Signer.generate()
    digest = rows(db)[cp - 1][5]
    sig = [{"key_id": mallory.key_id, "role": "checkpoint", "sig": b64(mallory.sign(head_message(cp, digest)))}]
    execute(db, "UPDATE ledger_entries SET signatures = ? WHERE seq = ?", json.dumps(sig), cp)
    check(evidence, cp, ["unknown key"])


@pytest.mark.tamper
def test_replayed_entry(evidence):
    db = evidence["db"]
    old = rows(db)
    victim = old[seq_of(db, "result", 0) - 1]  # a result of run 1, replayed at the end
    seq, prev = len(old) + 1, old[-1][5]
    execute(db, "INSERT INTO ledger_entries VALUES (?, ?, 'result', ?, ?, ?, '[]')", seq, victim[1],
            victim[3], prev, entry_hash(seq, victim[1], "result", prev, victim[3]))
    check(evidence, seq, ["replayed"])


@pytest.mark.tamper
def test_result_forged_into_finished_run(evidence):
    db = evidence["db"]
    old = rows(db)
    run_id = evidence["runs"][0]["id"]
    payload = json.dumps({"requirement_id": "SIM-REQ-00002", "run_id": run_id, "status": "pass"}).encode()
    seq, prev = len(old) + 1, old[-1][5]
    execute(db, "INSERT INTO ledger_entries VALUES (?, ?, 'result', ?, ?, ?, '[]')", seq, run_id,
            payload, prev, entry_hash(seq, run_id, "result", prev, payload))
    check(evidence, seq, ["already finished"])


@pytest.mark.tamper
def test_external_checkpoint_with_forged_signature(evidence):
    head = evidence["heads"][0]
    forged = Checkpoint(head.size, head.head, b64(b"\x00" * 64), head.key_id)
    report = verify_store(Store(evidence["store"].path), forged)
    assert not report.ok and "signature does not verify" in report.first_problem.message


@pytest.mark.tamper
def test_wiped_ledger_is_caught_by_the_store_key(evidence):
    execute(evidence["db"], "DELETE FROM ledger_entries")
    report = verify_store(Store(evidence["store"].path))
    assert not report.ok and "entries were deleted" in report.first_problem.message


@pytest.mark.tamper
def test_replaced_ledger_is_caught_by_the_store_key(evidence, tmp_path):
    other = Store(tmp_path / "other")
    record_run(LedgerRecorder(other, default_signer(other, announce=lambda m: None)), 2, tmp_path)
    other.close()
    evidence["db"].unlink()
    for suffix in ("-wal", "-shm"):
        evidence["db"].with_name("ledger.db" + suffix).unlink(missing_ok=True)
    (other.path / "ledger.db").rename(evidence["db"])
    report = verify_store(Store(evidence["store"].path))
    assert not report.ok and "ledger was replaced" in report.first_problem.message


def test_format_document_is_enough_to_verify_independently(evidence):
    """Re-derive hashes and the last checkpoint signature from FORMAT.md's formulas alone
    (sqlite3, hashlib, cryptography), without golive's verifier."""
    import base64
    import hashlib

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    entries = rows(evidence["db"])
    prev = "0" * 64
    public_keys = {}
    for seq, run_id, kind, payload, prev_hash, digest, sigs in entries:
        header = f"golive-ledger-entry/v1\n{seq}\n{run_id}\n{kind}\n{prev_hash}\n{len(payload)}\n".encode()
        assert prev_hash == prev and hashlib.sha256(header + payload).hexdigest() == digest
        prev = digest
        if kind == "key":
            body = json.loads(payload)
            raw = base64.b64decode(body["public_key"])
            assert hashlib.sha256(raw).hexdigest() == body["key_id"]
            public_keys[body["key_id"]] = Ed25519PublicKey.from_public_bytes(raw)
    head = evidence["heads"][1]
    Ed25519PublicKey.verify(public_keys[head.key_id], base64.b64decode(head.signature),
                            f"golive-ledger-head/v1\n{head.size}\n{head.head}\n".encode())
