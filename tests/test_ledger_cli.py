"""The `golive evidence` and `golive keys` commands: exit codes, key files, rotation, export."""
from __future__ import annotations

import json
import sqlite3
import stat
from datetime import date as _date, timedelta as _timedelta

import click
import pytest
from click.testing import CliRunner

from golive.ledger import KeyDirectory, KeyFileError, LedgerRecorder, Store, default_signer, verify_store
from golive.ledger.cli import evidence, keys
from golive.ledger.export import ExportError, verify_envelope
from golive.ledger.keyring import recorded_keys
from golive.ledger.keys import key_id_of, load_public_key
from golive.ledger.simulate import record_run
from ledger_guard import unguard_sqlite
from people import enrol, private_key_files

SOON = (_date.today() + _timedelta(days=30)).isoformat()  # waivers run at most 90 days (P1)


@click.group()
def golive() -> None:
    """Stand-in for golive.cli, mounting the groups the way the main CLI does."""


golive.add_command(evidence)
golive.add_command(keys)


def invoke(*args: str, input: str | None = None):
    return CliRunner().invoke(golive, list(args), input=input, catch_exceptions=False)


@pytest.fixture
def store_dir(tmp_path):
    path = tmp_path / "evidence"
    assert invoke("keys", "init", "--store", str(path)).exit_code == 0
    store = Store(path)
    recorder = LedgerRecorder(store, default_signer(store))
    record_run(recorder, 5, tmp_path)
    (tmp_path / "head.json").write_text(json.dumps({"run": {"ledger": recorder.head}}))
    store.close()
    return path


def test_keys_init_writes_private_key_0600_and_records_it(store_dir):
    keydir = KeyDirectory(store_dir / "keys")
    key_id = keydir.current_id
    mode = stat.S_IMODE((store_dir / "keys" / f"{key_id}.key").stat().st_mode)
    assert mode == 0o600
    assert key_id_of(keydir.public_raw(key_id)) == key_id
    listing = invoke("keys", "list", "--store", str(store_dir))
    assert listing.exit_code == 0 and key_id[:16] in listing.output and "active" in listing.output
    again = invoke("keys", "init", "--store", str(store_dir))
    assert again.exit_code == 2 and "rotate" in again.output


def test_passphrase_protected_key(tmp_path, monkeypatch):
    path = tmp_path / "ev"
    result = invoke("keys", "init", "--store", str(path), "--passphrase", input="pw-123\npw-123\n")
    assert result.exit_code == 0, result.output
    keydir = KeyDirectory(path / "keys")
    monkeypatch.delenv("GOLIVE_KEY_PASSPHRASE", raising=False)
    with pytest.raises(KeyFileError, match="encrypted"):
        keydir.load()
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        keydir.load(passphrase="nope")
    monkeypatch.setenv("GOLIVE_KEY_PASSPHRASE", "pw-123")
    assert keydir.load().key_id == keydir.current_id


def test_verify_exit_codes(store_dir, tmp_path):
    ok = invoke("evidence", "verify", "--store", str(store_dir), "--checkpoint", str(tmp_path / "head.json"))
    assert ok.exit_code == 0 and "OK" in ok.output
    missing = invoke("evidence", "verify", "--store", str(tmp_path / "nowhere"))
    assert missing.exit_code == 2 and "no evidence store" in missing.output
    bad_cp = invoke("evidence", "verify", "--store", str(store_dir), "--checkpoint", '{"size": 3}')
    assert bad_cp.exit_code == 2 and "missing field" in bad_cp.output
    with sqlite3.connect(store_dir / "ledger.db") as conn:
        unguard_sqlite(conn)  # as the database's owner can
        conn.execute("UPDATE ledger_entries SET payload = replace(payload, 'fail', 'pass') WHERE seq = 5")
    tampered = invoke("evidence", "verify", "--store", str(store_dir), "--json")
    assert tampered.exit_code == 1
    report = json.loads(tampered.output)
    assert report["ok"] is False and report["problems"][0]["seq"] == 5


def test_rotation_is_signed_by_old_and_new_key(store_dir, tmp_path):
    old_id = KeyDirectory(store_dir / "keys").current_id
    result = invoke("keys", "rotate", "--store", str(store_dir))
    assert result.exit_code == 0, result.output
    store = Store(store_dir)
    new = default_signer(store)
    assert new.key_id != old_id
    record_run(LedgerRecorder(store, new), 2, tmp_path)
    report = verify_store(store)
    assert report.ok, report.problems
    assert report.keys == {old_id: "retired", new.key_id: "active"}
    assert report.last_checkpoint.key_id == new.key_id


def test_rotation_during_a_run_switches_the_checkpoint_to_the_new_key(store_dir, tmp_path):
    store = Store(store_dir)
    recorder = LedgerRecorder(store, default_signer(store))
    run = record_run(recorder, 2, tmp_path, finish=False)  # a long run is still going ...
    assert invoke("keys", "rotate", "--store", str(store_dir)).exit_code == 0  # ... when keys rotate
    recorder.golive_run_finished(run=run, outcomes=[])
    new_id = KeyDirectory(store_dir / "keys").current_id
    assert recorder.head["key_id"] == new_id
    assert verify_store(store).ok


def test_old_key_cannot_sign_after_rotation(store_dir):
    from golive.ledger import Ledger
    from golive.ledger.chain import NO_RUN

    old = KeyDirectory(store_dir / "keys").load()
    assert invoke("keys", "rotate", "--store", str(store_dir)).exit_code == 0
    store = Store(store_dir)
    # a process that ignores the rotation and signs a checkpoint with the retired key
    done = Ledger(store).append(NO_RUN, "checkpoint", lambda seq, prev, conn: {"size": seq}, [(old, "checkpoint")])
    report = verify_store(store)
    assert not report.ok and report.first_problem.seq == done.seq and "retired" in report.first_problem.message


def test_recorder_refuses_a_key_the_ledger_never_recorded(store_dir, tmp_path):
    from golive.ledger import LedgerError, Signer

    with pytest.raises(LedgerError, match="not the active key"):
        record_run(LedgerRecorder(Store(store_dir), Signer.generate()), 1, tmp_path)


def test_show_lists_runs_results_and_requirement_history(store_dir):
    runs = invoke("evidence", "show", "--store", str(store_dir))
    assert runs.exit_code == 0 and "finished" in runs.output
    run_id = Store(store_dir).engine.connect().exec_driver_sql("SELECT id FROM runs").scalar()
    one = invoke("evidence", "show", "--store", str(store_dir), run_id[:8])
    assert one.exit_code == 0 and "SIM-REQ-00004" in one.output
    req = invoke("evidence", "show", "--store", str(store_dir), "SIM-REQ-00002")
    assert req.exit_code == 0 and "fail" in req.output
    unknown = invoke("evidence", "show", "--store", str(store_dir), "NOPE-1")
    assert unknown.exit_code == 2


def test_export_is_verifiable_with_the_public_key_alone(store_dir, tmp_path):
    out = tmp_path / "run.intoto.jsonl"
    result = invoke("evidence", "export", "--store", str(store_dir), "-o", str(out))
    assert result.exit_code == 0, result.output
    key_id = KeyDirectory(store_dir / "keys").current_id
    pub = store_dir / "keys" / f"{key_id}.pub"
    envelope = json.loads(out.read_text().splitlines()[0])
    statement = verify_envelope(envelope, load_public_key(str(pub)))
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://in-toto.io/attestation/test-result/v0.1"
    predicate = statement["predicate"]
    assert predicate["result"] == "FAILED" and "SIM-REQ-00002" in predicate["failedTests"]
    assert "SIM-REQ-00000" in predicate["passedTests"] and "SIM-REQ-00003" in predicate["warnedTests"]
    checked = invoke("evidence", "verify-envelope", str(out), "--key", str(pub))
    assert checked.exit_code == 0 and "FAILED" in checked.output

    forged = dict(envelope, payload=envelope["payload"][:-8] + "AAAAAAA=")
    with pytest.raises(ExportError):
        verify_envelope(forged, load_public_key(str(pub)))
    out.write_text(json.dumps(forged) + "\n")
    assert invoke("evidence", "verify-envelope", str(out), "--key", str(pub)).exit_code == 1


def test_authored_waiver_carries_the_person_signature(store_dir):
    from golive.ledger import LedgerError, Signer, append_authored, record_key

    store = Store(store_dir)
    ledger_key = default_signer(store)
    approver = Signer.generate()
    with pytest.raises(LedgerError, match="not an active key"):
        append_authored(store, "waiver", {"requirement_id": "SIM-REQ-00002"}, approver)
    record_key(store, approver, role="person", name="Risk officer", endorser=ledger_key)
    append_authored(store, "waiver", {"requirement_id": "SIM-REQ-00002", "justification": "vendor fix due",
                                      "expires": "2026-12-31", "approver_password": "hunter2"}, approver)
    report = verify_store(store)
    assert report.ok, report.problems
    assert b"hunter2" not in (store_dir / "ledger.db").read_bytes() + (store_dir / "ledger.db-wal").read_bytes()

    with sqlite3.connect(store_dir / "ledger.db") as conn:  # strip the approver's signature
        seq = conn.execute("SELECT max(seq) FROM ledger_entries").fetchone()[0]
        unguard_sqlite(conn)
        conn.execute("UPDATE ledger_entries SET signatures = '[]' WHERE seq = ?", (seq,))
    report = verify_store(store)
    assert report.first_problem.seq == seq and "no valid author signature" in report.first_problem.message


def test_person_key_without_endorsement_is_rejected(store_dir):
    from golive.ledger import Signer, record_key

    store = Store(store_dir)
    seq = record_key(store, Signer.generate(), role="person", name="self-appointed")
    report = verify_store(store)
    assert report.first_problem.seq == seq and "endorsement" in report.first_problem.message


def test_person_attests_and_waives_through_the_cli(store_dir, tmp_path):
    from golive.ledger.show import authored_entries

    refused = invoke("keys", "add-person", "--store", str(store_dir), "Risk Officer", "--role", "risk")
    assert refused.exit_code == 2 and "person-init" in refused.output  # no private key made in the store
    enrol(invoke, "Risk Officer", "--store", str(store_dir))
    assert private_key_files(store_dir) == []
    store = Store(store_dir)
    person_id = next(k for k, v in recorded_keys(store).items() if v["role"] == "person")
    proof = tmp_path / "kill-switch-drill.txt"
    proof.write_text("drill 2026-11-20: all orders cancelled in 84 ms\nbroker_password = s3cret-pw\n")
    attest = invoke("evidence", "attest", "RISK-09", "--store", str(store_dir), "--by", person_id[:10],
                    "--statement", "Kill switch drill observed", "--file", str(proof), "--target", str(tmp_path))
    assert attest.exit_code == 0, attest.output
    waive = invoke("evidence", "waive", "AUD-07", "--store", str(store_dir), "--by", person_id[:10],
                   "--justification", "auditor access pending", "--expires", SOON, "--target", str(tmp_path))
    assert waive.exit_code == 0, waive.output
    past = invoke("evidence", "waive", "AUD-07", "--store", str(store_dir), "--by", person_id[:10],
                  "--justification", "late", "--expires", "2001-01-01", "--target", str(tmp_path))
    assert past.exit_code == 2
    unknown = invoke("evidence", "attest", "RISK-09", "--store", str(store_dir), "--by", "ffff",
                     "--statement", "x", "--target", str(tmp_path))
    assert unknown.exit_code == 2 and "person key" in unknown.output

    report = verify_store(store)
    assert report.ok, report.problems
    assert report.blobs == 1  # the attested file, copied with its secret masked
    [attestation] = authored_entries(store, "attestation")
    assert attestation["requirement_id"] == "RISK-09" and attestation["author_key_id"] == person_id
    copy = store.blob_path(attestation["blobs"][0]["blob"]).read_text()
    assert "84 ms" in copy and "s3cret-pw" not in copy
    [waiver] = authored_entries(store, "waiver")
    assert waiver["expires"] == SOON and waiver["approver"] == "Risk Officer"
