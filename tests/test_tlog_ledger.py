"""The ledger as a transparency log: checkpoints recorded as C2SP signed notes, inclusion and
consistency proofs from the CLI checked offline with public keys only, migration of a store
written by the format-v1 code (tests/data/ledger-v1, recorded by commit 60d0fa4), and what
the tree catches that the chain alone does not."""
from __future__ import annotations

import base64
import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from golive.ledger import LedgerRecorder, Store, default_signer, verify_store
from golive.ledger.chain import NO_RUN, TLOG_FIELD, Ledger
from golive.ledger.checkpoint import TreeCheckpoint
from golive.ledger.note import parse_checkpoint
from golive.ledger.simulate import record_run
from tlogcli import invoke

from pg import db_url  # noqa: F401 -- the parametrised fixture (SQLite, and PostgreSQL in CI)
from ledger_guard import unguard_sqlite

V1_FIXTURE = Path(__file__).parent / "data" / "ledger-v1"


def vkeys(store: Path) -> dict[str, str]:
    listing = invoke("keys", "vkey", "--store", store)
    assert listing.exit_code == 0
    return {line.split("(")[1].split(",")[0]: line.split()[0] for line in listing.output.splitlines()}


@pytest.fixture
def v1_store(tmp_path):
    path = tmp_path / "v1"
    shutil.copytree(V1_FIXTURE, path)
    return path


@pytest.fixture
def v2_store(tmp_path):
    store = Store(tmp_path / "v2")
    recorder = LedgerRecorder(store, default_signer(store, announce=lambda m: None), copy_artifacts=False)
    for results in (3, 6, 2):
        record_run(recorder, results)
    store.close()
    return store.path


def entries(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT seq, kind, payload, entry_hash FROM ledger_entries ORDER BY seq").fetchall()


def test_v1_ledger_verifies_and_migrates_to_proofs(v1_store, tmp_path):
    report = verify_store(Store(v1_store))
    assert report.ok and report.entries == 21 and report.checkpoints == 2
    assert any("golive evidence migrate" in n for n in report.notes)
    refused = invoke("evidence", "prove", "3", "--store", v1_store)
    assert refused.exit_code == 2 and "golive evidence migrate" in refused.output

    migrated = invoke("evidence", "migrate", "--store", v1_store)
    assert migrated.exit_code == 0 and "21 leaves" in migrated.output and "as entry 22" in migrated.output
    again = invoke("evidence", "migrate", "--store", v1_store)
    assert again.exit_code == 0 and "already migrated" in again.output
    report = verify_store(Store(v1_store))
    assert report.ok and report.entries == 22 and not any("migrate" in n for n in report.notes)
    head, _ = parse_checkpoint(report.last_tree_checkpoint)
    assert head.size == 21 and head.root == report_root_at(v1_store, 21)

    proof = tmp_path / "entry3.tlog-proof"
    assert invoke("evidence", "prove", "3", "--store", v1_store, "-o", proof).exit_code == 0
    active = vkeys(v1_store)["active"]
    ok = invoke("evidence", "verify-proof", proof, "--trusted-key", active)
    assert ok.exit_code == 0 and "entry 3 (result" in ok.output and "tree size 21" in ok.output
    retired = invoke("evidence", "verify-proof", proof, "--trusted-key", vkeys(v1_store)["retired"])
    assert retired.exit_code == 1 and "no signature by a trusted key" in retired.output
    anchor = invoke("evidence", "verify", "--store", v1_store, "--trusted-key", vkeys(v1_store)["retired"])
    assert anchor.exit_code == 0 and "pass --trusted-key" not in anchor.output  # a vkey pins the first key
    assert f"root {base64.b64encode(report_root_at(v1_store, 22)).decode()}; newest signed tree head: size 21" \
        in anchor.output
    wrong = invoke("evidence", "verify", "--store", v1_store, "--trusted-key", active)
    assert wrong.exit_code == 1 and "not among the trusted keys" in wrong.output


def report_root_at(store: Path, size: int) -> bytes:
    from golive.ledger.tlog import MemoryTree
    return MemoryTree(bytes.fromhex(r[3]) for r in entries(store / "ledger.db")[:size]).root()


def test_appending_to_an_unmigrated_store_builds_the_tree_first(v1_store):
    store = Store(v1_store)
    record_run(LedgerRecorder(store, default_signer(store), copy_artifacts=False), 2)
    report = verify_store(store)
    assert report.ok and report.entries == 21 + 5
    head, _ = parse_checkpoint(report.last_tree_checkpoint)
    assert head.size == 25 and head.root == report_root_at(v1_store, 25)


def test_recorded_checkpoints_are_c2sp_notes_of_the_tree_before_them(v2_store):
    rows = entries(v2_store / "ledger.db")
    notes = [(seq, json.loads(p)[TLOG_FIELD]) for seq, kind, p, _ in rows if kind == "checkpoint"]
    assert len(notes) == 3
    origin = "golive.invalid/ledger/" + rows[0][3][:32]
    for seq, text in notes:
        head, note = parse_checkpoint(text)
        assert (head.origin, head.size) == (origin, seq - 1)
        assert head.root == report_root_at(v2_store, seq - 1)
        assert note.signatures[0].name == origin


def test_inclusion_proof_of_every_entry_verifies_offline(v2_store, tmp_path):
    active = vkeys(v2_store)["active"]
    pub = next((v2_store / "keys").glob("*.pub"))
    size = len(entries(v2_store / "ledger.db"))
    for seq in range(1, size + 1):
        proof = tmp_path / f"{seq}.proof"
        made = invoke("evidence", "prove", seq, "--store", v2_store, "-o", proof)
        assert made.exit_code == 0, made.output
        key = active if seq % 2 else pub  # a vkey or the plain public key file
        checked = invoke("evidence", "verify-proof", proof, "--trusted-key", key)
        assert checked.exit_code == 0 and f"entry {seq} " in checked.output, checked.output
    whole = invoke("evidence", "prove", "2", "--store", v2_store, "--size", size)
    assert whole.exit_code == 0 and f"\n{size}\n" in whole.output  # a head signed now, not recorded
    too_big = invoke("evidence", "prove", "2", "--store", v2_store, "--size", size + 1)
    assert too_big.exit_code == 2 and "no tree of size" in too_big.output
    by_hash = invoke("evidence", "prove", entries(v2_store / "ledger.db")[4][3][:12], "--store", v2_store)
    assert by_hash.exit_code == 0 and "\nindex 4\n" in by_hash.output


@pytest.mark.tamper
@pytest.mark.parametrize("change", ["entry payload", "proof hash", "index", "checkpoint root", "signature"])
def test_a_changed_proof_fails(v2_store, tmp_path, change):
    made = invoke("evidence", "prove", "5", "--store", v2_store)
    lines = made.output.split("\n")
    if change == "entry payload":
        entry = json.loads(base64.b64decode(lines[1][6:]))
        body = base64.b64decode(entry["payload"]).replace(b'"status":"pass"', b'"status":"fail"')
        body = body.replace(b'"status":"fail"', b'"status":"pass"') if body == base64.b64decode(entry["payload"]) else body
        assert body != base64.b64decode(entry["payload"])
        entry["payload"] = base64.b64encode(body).decode()
        lines[1] = "extra " + base64.b64encode(json.dumps(entry).encode()).decode()
    elif change == "proof hash":
        lines[3] = base64.b64encode(bytes(32)).decode()
    elif change == "index":
        lines[2] = "index 5"
    elif change == "checkpoint root":
        at = lines.index("") + 3
        lines[at] = base64.b64encode(bytes(32)).decode()
    else:
        sig = lines[-2].split(" ")
        raw = bytearray(base64.b64decode(sig[2]))
        raw[10] ^= 1
        lines[-2] = " ".join(sig[:2] + [base64.b64encode(bytes(raw)).decode()])
    proof = tmp_path / "changed.proof"
    proof.write_text("\n".join(lines))
    result = invoke("evidence", "verify-proof", proof, "--trusted-key", vkeys(v2_store)["active"])
    assert result.exit_code == 1 and "FAILED" in result.output


def test_unreadable_proofs_and_keys_are_input_errors(v2_store, tmp_path):
    junk = tmp_path / "junk.proof"
    junk.write_text("hello\n")
    assert invoke("evidence", "verify-proof", junk, "--trusted-key", vkeys(v2_store)["active"]).exit_code == 2
    proof = tmp_path / "p"
    invoke("evidence", "prove", "1", "--store", v2_store, "-o", proof)
    bad_key = invoke("evidence", "verify-proof", proof, "--trusted-key", "not-a-key")
    assert bad_key.exit_code == 2 and "error" in bad_key.output
    assert invoke("evidence", "prove", "0x12", "--store", v2_store).exit_code == 2
    assert invoke("evidence", "prove", "999", "--store", v2_store).exit_code == 2


@pytest.mark.tamper
def test_consistency_with_a_kept_checkpoint_and_a_history_rewritten_with_the_key(v2_store, tmp_path):
    kept = tmp_path / "kept.checkpoint"
    assert invoke("evidence", "checkpoint", "--store", v2_store, "--size", 7, "-o", kept).exit_code == 0
    assert TreeCheckpoint.parse_text(kept.read_text()).size == 7
    proof = tmp_path / "consistency.json"
    assert invoke("evidence", "consistency", kept, "--store", v2_store, "-o", proof).exit_code == 0
    active = vkeys(v2_store)["active"]
    ok = invoke("evidence", "verify-proof", proof, "--trusted-key", active)
    assert ok.exit_code == 0 and "extends the tree at size 7" in ok.output
    sizes = invoke("evidence", "consistency", "3", "11", "--store", v2_store)
    assert sizes.exit_code == 0 and json.loads(sizes.output)["format"] == "golive-tlog-consistency/v1"
    assert invoke("evidence", "verify", "--store", v2_store, "--checkpoint", kept).exit_code == 0

    rewrite_with_key(v2_store, seq=2)  # the key holder edits entry 2 and re-signs everything
    assert verify_store(Store(v2_store)).ok  # the ledger alone cannot tell ...
    caught = invoke("evidence", "verify", "--store", v2_store, "--checkpoint", kept)
    assert caught.exit_code == 1 and "rolled back or rewritten" in caught.output  # ... the kept head can
    with Store(v2_store).write() as conn:
        from golive.ledger.treestore import rebuild
        rebuild(conn)
    refused = invoke("evidence", "consistency", kept, "--store", v2_store)
    assert refused.exit_code == 1 and "different root" in refused.output


def rewrite_with_key(store_path: Path, seq: int) -> None:
    """Change entry ``seq``'s payload, then recompute every later hash, Merkle root, tree
    head and signature with the store's own key: what a holder of the key file can do."""
    from sqlalchemy import text

    from golive.ledger.chain import merkle_root

    store = Store(store_path)
    signer = default_signer(store)
    with sqlite3.connect(store_path / "ledger.db") as conn:
        old = conn.execute("SELECT seq, run_id, kind, payload, signatures FROM ledger_entries "
                           "WHERE seq >= ? ORDER BY seq", (seq,)).fetchall()
        unguard_sqlite(conn)  # as the database's owner can
        conn.execute("DELETE FROM ledger_entries WHERE seq >= ?", (seq,))
    ledger = Ledger(store)
    for s, run_id, kind, payload, sigs in old:
        body = json.loads(payload)
        if s == seq:
            body["edited"] = "by the key holder"
        if kind == "checkpoint":  # recompute the run's Merkle root; the chain signs a new tree head
            body.pop(TLOG_FIELD, None)
            with store.read() as conn:
                hashes = [h for (h,) in conn.execute(text(
                    "SELECT entry_hash FROM ledger_entries WHERE run_id = :r ORDER BY seq"), {"r": run_id})]
            body["merkle_root"] = merkle_root(hashes)
        ledger.append(run_id, kind, body, [(signer, sig["role"]) for sig in json.loads(sigs)])


@pytest.mark.tamper
def test_a_checkpoint_note_that_does_not_match_the_tree_is_reported(v2_store):
    store = Store(v2_store)
    signer = default_signer(store)
    from golive.ledger.note import TreeHead
    origin = "golive.invalid/ledger/" + entries(v2_store / "ledger.db")[0][3][:32]
    forged = str(TreeHead(origin, 3, bytes(32)).signed(origin, signer))
    payload = json.dumps({"size": 0, TLOG_FIELD: forged}, sort_keys=True, separators=(",", ":")).encode()
    done = Ledger(store).append(NO_RUN, "checkpoint", payload, [(signer, "checkpoint")])
    report = verify_store(store)
    problems = [p for p in report.problems if p.seq == done.seq]
    assert any("does not match the Merkle tree" in p.message for p in problems)


def test_a_damaged_tree_index_never_yields_a_proof_and_migrate_repairs_it(v2_store, tmp_path):
    db = v2_store / "ledger.db"
    with sqlite3.connect(db) as conn:  # leaves 6-7: on entry 5's audit path
        conn.execute("UPDATE tlog_nodes SET hash = zeroblob(32) WHERE id = (1 << 40) | 3")
    refused = invoke("evidence", "prove", "5", "--store", v2_store)
    assert refused.exit_code == 2 and "golive evidence migrate" in refused.output
    fresh = invoke("evidence", "consistency", "6", "14", "--store", v2_store)
    assert fresh.exit_code == 2 and "golive evidence migrate" in fresh.output
    with sqlite3.connect(db) as conn:  # the last leaf: on the tree's right edge, which verify compares
        conn.execute("UPDATE tlog_nodes SET hash = zeroblob(32) WHERE id = 20")
    report = verify_store(Store(v2_store))
    assert report.ok and any("differs from the tree of the entries" in n for n in report.notes)
    assert invoke("evidence", "migrate", "--store", v2_store).exit_code == 0
    proof = tmp_path / "p"
    assert invoke("evidence", "prove", "5", "--store", v2_store, "-o", proof).exit_code == 0
    assert invoke("evidence", "verify-proof", proof, "--trusted-key", vkeys(v2_store)["active"]).exit_code == 0


def test_proofs_on_both_back_ends(tmp_path, db_url):  # noqa: F811
    """The tree index, recorded tree heads, proofs and a rebuild through a database URL
    (PostgreSQL when GOLIVE_TEST_PG_URL is set)."""
    from golive.ledger.proofs import consistency_proof, inclusion_proof, verify_consistency_json, verify_inclusion_text
    from golive.ledger.treestore import rebuild, stored_size

    store = Store(tmp_path / "evidence", db_url)
    signer = default_signer(store, announce=lambda m: None)
    recorder = LedgerRecorder(store, signer, copy_artifacts=False)
    for results in (5, 9):
        record_run(recorder, results)
    report = verify_store(store)
    assert report.ok and parse_checkpoint(report.last_tree_checkpoint)[0].size == report.entries - 1
    keys = [(None, signer.public_raw)]
    with store.read() as conn:
        assert stored_size(conn) == report.entries
        for seq in (1, 7, report.entries - 1):
            proven = verify_inclusion_text(inclusion_proof(conn, seq, None, lambda: signer), keys)
            assert proven.entry["seq"] == seq
        grew = verify_consistency_json(consistency_proof(conn, 3, report.entries, lambda: signer), keys)
        assert (grew.old_size, grew.size) == (3, report.entries)
    with store.write() as conn:
        assert rebuild(conn) == report.entries
    assert verify_store(store).ok
    store.close()
