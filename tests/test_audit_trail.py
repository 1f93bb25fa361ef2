"""Records kept as an audit trail (issue 15.6): the ledger refuses UPDATE and DELETE on both back
ends, artifact objects are write-once, corrections and revocations are new signed entries that
count from their own entry on, and a record's trail exports and verifies offline."""
from __future__ import annotations

import base64
import json
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from golive.cli import cli
from golive.ledger import LedgerRecorder, Store, default_signer, verify_store
from golive.ledger.show import run_results
from golive.ledger.simulate import record_run
from ledger_guard import unguard
from people import co_approve, enrol
from pg import db_url  # noqa: F401 -- the parametrised fixture (SQLite, and PostgreSQL in CI)

WORKSPACE = Path(__file__).parent / "fixtures" / "reference-workspace"
SOON = (date.today() + timedelta(days=30)).isoformat()


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


# -- nothing stored is updated or deleted --------------------------------------------------------
def _refused(store: Store, sql: str) -> str:
    with pytest.raises(DBAPIError) as caught:
        with store.engine.begin() as conn:
            conn.execute(text(sql))
    return str(caught.value.orig)


def test_ledger_entries_refuse_update_and_delete(tmp_path, db_url):  # noqa: F811
    store = Store(tmp_path / "evidence", db_url)
    record_run(LedgerRecorder(store, default_signer(store, announce=lambda m: None)), 3, tmp_path)
    with store.read() as conn:
        before = conn.execute(text("SELECT seq, payload, entry_hash FROM ledger_entries ORDER BY seq")).all()
    assert len(before) == 1 + 3 + 3  # key, run-started, results, run-finished, checkpoint
    assert "append-only" in _refused(store, "UPDATE ledger_entries SET kind = 'result' WHERE seq = 2")
    assert "append-only" in _refused(store, "DELETE FROM ledger_entries WHERE seq = 3")
    assert "append-only" in _refused(store, "DELETE FROM ledger_entries")
    if store.engine.dialect.name == "postgresql":
        assert "append-only" in _refused(store, "TRUNCATE ledger_entries")
    with store.engine.begin() as conn:  # index tables stay maintainable
        conn.execute(text("UPDATE runs SET status = 'incomplete'"))
    with store.read() as conn:
        assert conn.execute(text("SELECT seq, payload, entry_hash FROM ledger_entries ORDER BY seq")).all() == before
    assert verify_store(store).ok
    # a store whose guard is gone (created before it existed, or dropped) gets it back on open
    with store.engine.begin() as conn:
        unguard(conn)
        conn.execute(text("UPDATE ledger_entries SET signatures = '[]' WHERE seq = 2"))
    store.close()
    reopened = Store(tmp_path / "evidence", db_url)
    assert "append-only" in _refused(reopened, "DELETE FROM ledger_entries WHERE seq = 2")
    reopened.close()


def test_artifact_objects_are_write_once(tmp_path):
    store = Store(tmp_path / "evidence")
    digest = store.put_blob(b"fills of 2026-12-02\n")
    path = store.blob_path(digest)
    path.chmod(0o644)
    path.write_bytes(b"edited later\n")  # someone with file access changes an object ...
    assert store.put_blob(b"fills of 2026-12-02\n") == digest
    assert path.read_bytes() == b"edited later\n"  # ... and golive never rewrites it: verify shows the change
    assert not list(path.parent.glob(".tmp-*"))


# -- corrections, revocations, the trail -------------------------------------------------------
def _run(store: str, out: Path) -> dict:
    res = invoke("run", "--target", WORKSPACE, "--store", store, "-q", "--only", "LIVE-SHADOW-01",
                 "--only", "AUD-07", "--json", out)
    assert res.exit_code in (0, 1), res.output
    doc = json.loads(out.read_text())
    return {"id": doc["run"]["id"], "status": {r["requirement_id"]: r["status"] for r in doc["results"]}}


def _seq(output: str, words: str) -> int:
    return int(output.split(words)[1].split()[0].rstrip(",:"))


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """Run 1; a waiver and an attestation; run 2 (both applied); both revoked; run 3."""
    tmp = tmp_path_factory.mktemp("trail")
    store = str(tmp / "store")
    runs = [_run(store, tmp / "r1.json")]
    enrol(invoke, "Ada Risk", "--store", store)
    report = tmp / "validation.txt"
    report.write_text("independent validation by Example Audit LLP\n")
    waived = invoke("waive", "LIVE-SHADOW-01", "--approver", "Ada Risk", "--reason", "shadow week in Q1",
                    "--expires", SOON, "--store", store, "--target", WORKSPACE)
    seconded = co_approve(invoke, waived.output, "LIVE-SHADOW-01", "--store", store, "--target", WORKSPACE)  # P1
    attested = invoke("attest", "AUD-07", "--by", "Ada Risk", "--note", "validation report reviewed",
                      "--file", report, "--store", store, "--target", WORKSPACE)
    waiver, attestation = _seq(waived.output, "recorded as entry"), _seq(attested.output, "recorded as entry")
    runs.append(_run(store, tmp / "r2.json"))
    revoked = [invoke("evidence", "revoke", seq, "--by", "Ada Risk", "--reason", "withdrawn", "--store", store)
               for seq in (waiver, attestation)]
    assert all(r.exit_code == 0 for r in revoked), [r.output for r in revoked]
    runs.append(_run(store, tmp / "r3.json"))
    ledger = Store(store)
    result = next(r["seq"] for r in run_results(ledger, runs[1]["id"])[1] if r["requirement_id"] == "LIVE-SHADOW-01")
    corrected = invoke("evidence", "correct", result, "--by", "Ada Risk", "--reason", "shadow logs were incomplete",
                       "--note", "partial, not missing", "--store", store)
    assert corrected.exit_code == 0, corrected.output
    key = Path(store) / "keys" / ((Path(store) / "keys" / "current").read_text().strip() + ".pub")
    return {"tmp": tmp, "store": store, "ledger": ledger, "runs": runs, "waiver": waiver, "attestation": attestation,
            "co_approval": _seq(seconded, "recorded as entry"),
            "revocations": [_seq(r.output, "revoked by entry") for r in revoked], "result": result,
            "correction": _seq(corrected.output, "recorded as entry"), "key": key}


def test_revocations_count_from_their_own_entry_on(history):
    first, second, third = history["runs"]
    assert first["status"] == {"LIVE-SHADOW-01": "missing", "AUD-07": "missing"}
    assert second["status"] == {"LIVE-SHADOW-01": "waived", "AUD-07": "pass"}  # waiver and attestation applied
    assert third["status"] == {"LIVE-SHADOW-01": "missing", "AUD-07": "missing"}  # revoked before run 3
    effective = {run["id"]: {r["requirement_id"]: r["effective"] for r in run_results(history["ledger"], run["id"])[1]}
                 for run in history["runs"]}
    assert effective[second["id"]]["LIVE-SHADOW-01"] == "waived"  # the earlier run keeps its recorded state
    assert effective[third["id"]]["LIVE-SHADOW-01"] == "missing"
    assert invoke("evidence", "verify", "--store", history["store"]).exit_code == 0


def test_unknown_or_unrevocable_entries_exit_2(history):
    store = history["store"]
    for args in (("revoke", 99999), ("correct", 99999), ("export", "--with-trail", "--record", 99999)):
        res = invoke("evidence", *args, "--by", "Ada Risk", "--reason", "x", "--store", store) if args[0] != "export" \
            else invoke("evidence", *args, "--store", store)
        assert res.exit_code == 2 and "entry 99999 is not in the ledger" in res.output, res.output
    res = invoke("evidence", "revoke", history["result"], "--by", "Ada Risk", "--reason", "x", "--store", store)
    assert res.exit_code == 2 and "only attestations and waivers can be revoked" in res.output
    res = invoke("evidence", "revoke", history["waiver"], "--by", "Ada Risk", "--reason", "x", "--store", store)
    assert res.exit_code == 2 and "revoked already" in res.output
    assert invoke("evidence", "export", "--record", 3, "--store", store).exit_code == 2  # --with-trail is required


def _export(history, seq: int, name: str) -> Path:
    path = history["tmp"] / name
    res = invoke("evidence", "export", "--record", seq, "--with-trail", "-o", path, "--store", history["store"])
    assert res.exit_code == 0, res.output
    return path


def _verify(history, path: Path, key=None):
    return invoke("evidence", "verify-trail", path, "--trusted-key", key or history["key"], "--json")


def test_trail_export_round_trip(history):
    path = _export(history, history["result"], "result.trail.json")
    res = _verify(history, path)
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    roles = {e["seq"]: e["role"] for e in report["entries"]}
    assert roles[history["result"]] == "record" and roles[history["waiver"]] == "waiver"
    assert roles[history["revocations"][0]] == "revocation" and roles[history["correction"]] == "correction"
    assert {"run-started", "run-finished", "checkpoint", "rerun", "rerun-result", "key"} <= set(roles.values())
    assert [r for r, role in roles.items() if role == "rerun-result"] and report["corrected_by"] == [history["correction"]]
    # in force when run 2 ended (the waiver revoked after), with the second approval a P1 waiver needs
    assert report["in_force"] == {str(history["waiver"]): True, str(history["co_approval"]): True}
    doc = json.loads(path.read_text())
    with sqlite3.connect(Path(history["store"]) / "ledger.db") as conn:  # the original, byte for byte
        payload, digest = conn.execute("SELECT payload, entry_hash FROM ledger_entries WHERE seq = ?",
                                       (history["result"],)).fetchone()
    record = next(e for e in doc["entries"] if e["role"] == "record")
    assert base64.b64decode(record["payload"]) == payload and record["entry_hash"] == digest


def _tampered(history, path: Path, change) -> str:  # noqa: ANN001
    doc = json.loads(path.read_text())
    change(doc)
    forged = path.with_suffix(".forged.json")
    forged.write_text(json.dumps(doc))
    res = _verify(history, forged)
    assert res.exit_code == 1, res.output
    return res.output


def test_a_changed_trail_does_not_verify(history):
    path = _export(history, history["waiver"], "waiver.trail.json")
    assert _verify(history, path).exit_code == 0
    revocation = history["revocations"][0]

    def edit_payload(doc):
        item = next(e for e in doc["entries"] if e["role"] == "record")
        item["payload"] = base64.b64encode(base64.b64decode(item["payload"]).replace(b"Q1", b"Q2")).decode()

    def strip_signature(doc):
        next(e for e in doc["entries"] if e["seq"] == revocation)["signatures"] = []

    def drop_record(doc):
        doc["entries"] = [e for e in doc["entries"] if e["role"] != "record"]

    assert "does not hash to its entry_hash" in _tampered(history, path, edit_payload)
    assert "carries no signature" in _tampered(history, path, strip_signature)
    assert "does not hold its record" in _tampered(history, path, drop_record)
    from golive.ledger import Signer
    foreign = _verify(history, path, Signer.generate().public_b64)  # another log's key
    assert foreign.exit_code == 1 and "no signature by a trusted key" in foreign.output


def test_the_trail_carries_the_records_artifact_copies(history):
    path = _export(history, history["attestation"], "attestation.trail.json")
    doc = json.loads(path.read_text())
    assert len(doc["blobs"]) == 1
    assert base64.b64decode(next(iter(doc["blobs"].values()))) == b"independent validation by Example Audit LLP\n"
    assert json.loads(_verify(history, path).output)["blobs"] == 1

    def swap_copy(d):
        d["blobs"] = {k: base64.b64encode(b"another report\n").decode() for k in d["blobs"]}

    assert "does not hash to it" in _tampered(history, path, swap_copy)
