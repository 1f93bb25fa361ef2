"""Witnesses (c2sp.org/tlog-witness, tlog-cosignature): two `golive evidence witness serve`
processes on loopback cosign a log's checkpoints; a history rewritten with the log's own key,
a split view and a truncation after a cosigned checkpoint are each detected. A store cut back
to an older cosigned checkpoint (newer entries and checkpoint files deleted) passes every
offline check and is detected by asking the witnesses (`verify --ask-witness`)."""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from golive.ledger import LedgerRecorder, Store, default_signer
from golive.ledger.simulate import record_run
from golive.ledger.witness import Witness, cosign
from golive.ledger.keys import Signer
from golive.ledger.note import TreeHead
from tamper_summary import tamper_case
from tlogcli import invoke
from test_tlog_ledger import rewrite_with_key
from ledger_guard import unguard_sqlite

GOLIVE = Path(sys.executable).parent / "golive"


def make_store(path: Path, runs=(3, 4)) -> Path:
    store = Store(path)
    recorder = LedgerRecorder(store, default_signer(store, announce=lambda m: None), copy_artifacts=False)
    for results in runs:
        record_run(recorder, results)
    store.close()
    return path


def add_run(path: Path, results: int) -> None:
    store = Store(path)
    record_run(LedgerRecorder(store, default_signer(store), copy_artifacts=False), results)
    store.close()


def log_vkey(path: Path) -> str:
    line = next(l for l in invoke("keys", "vkey", "--store", path).output.splitlines() if "active" in l)
    return line.split()[0]


@pytest.fixture
def witnesses(tmp_path):
    """Start two witnesses trusting the log in tmp_path/log; yields (urls, vkeys)."""
    started = []

    def start(*log_paths: Path):
        urls, vkeys = [], []
        for n in (1, 2):
            key = tmp_path / f"w{n}.key"
            made = invoke("evidence", "witness", "init", "--key", key, "--name", f"witness.test/w{n}")
            assert made.exit_code == 0, made.output
            vkeys.append(made.output.strip())
            logs = [a for p in log_paths for a in ("--log", log_vkey(p))]
            proc = subprocess.Popen([str(GOLIVE), "evidence", "witness", "serve", "--key", str(key), "--name",
                                     f"witness.test/w{n}", "--state", str(tmp_path / f"w{n}.json"), *logs],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            started.append(proc)
            line = proc.stdout.readline()
            assert "listening on http://127.0.0.1:" in line, proc.stderr.read()
            urls.append(line.split()[-1])
        return urls, vkeys

    yield start
    for proc in started:
        proc.terminate()
        proc.wait(timeout=10)


def submit(path: Path, urls: list[str]):
    return invoke("evidence", "witness", "submit", "--store", path, *[a for u in urls for a in ("--url", u)])


def need(vkeys: list[str], k: int) -> list[str]:
    return [a for v in vkeys for a in ("--witness", v)] + ["--min-witnesses", k]


@pytest.mark.tamper
def test_cosigned_proofs_and_a_history_rewritten_with_the_log_key(tmp_path, witnesses):
    log = make_store(tmp_path / "log")
    urls, wkeys = witnesses(log)
    first = submit(log, urls)
    assert first.exit_code == 0 and first.output.count("cosigned the tree at size 13") == 2, first.output
    proof = tmp_path / "p"
    assert invoke("evidence", "prove", 4, "--store", log, "-o", proof).exit_code == 0
    assert proof.read_text().count("\u2014 witness.test/w") == 2
    ok = invoke("evidence", "verify-proof", proof, "--trusted-key", log_vkey(log), *need(wkeys, 2))
    assert ok.exit_code == 0 and "cosigned by 2 witness(es)" in ok.output, ok.output
    assert invoke("evidence", "verify", "--store", log, *need(wkeys, 2)).exit_code == 0

    add_run(log, 2)  # the witnesses hold size 13: they ask (409) for a proof from it
    assert submit(log, urls).exit_code == 0
    assert invoke("evidence", "verify", "--store", log, *need(wkeys, 2)).exit_code == 0

    rewrite_with_key(log, seq=3)  # valid chain, valid signatures: only the witnesses can tell
    plain = invoke("evidence", "verify", "--store", log)
    assert plain.exit_code == 0  # without witnesses or a kept checkpoint: undetectable
    caught = invoke("evidence", "verify", "--store", log, *need(wkeys, 1))
    assert caught.exit_code == 1 and "rolled back or rewritten" in caught.output
    online = invoke("evidence", "verify", "--store", log, "--witness", wkeys[0], "--ask-witness", urls[0])
    assert online.exit_code == 1 and "witness witness.test/w1 cosigned a tree of size 18 whose root differs" in online.output, online.output
    refused = submit(log, urls)
    assert refused.exit_code == 1 and refused.output.count("REFUSED") == 3 and "422" in refused.output
    assert "history was rewritten" in refused.output


@pytest.mark.tamper
def test_a_split_view_gets_no_cosignature(tmp_path, witnesses):
    shown_to_a = make_store(tmp_path / "log")
    urls, wkeys = witnesses(shown_to_a)
    assert submit(shown_to_a, urls).exit_code == 0
    shown_to_b = tmp_path / "fork"
    shutil.copytree(shown_to_a, shown_to_b)
    (shown_to_b / "checkpoints" / "13.checkpoint").unlink()
    add_run(shown_to_a, 3)
    add_run(shown_to_b, 3)  # same size, different entries, same log key and origin
    assert submit(shown_to_a, urls).exit_code == 0
    refused = submit(shown_to_b, urls)
    assert refused.exit_code == 1 and refused.output.count("REFUSED") == 2
    proof = tmp_path / "b.proof"
    assert invoke("evidence", "prove", 20, "--store", shown_to_b, "-o", proof).exit_code == 0
    log_only = invoke("evidence", "verify-proof", proof, "--trusted-key", log_vkey(shown_to_b))
    assert log_only.exit_code == 0  # the log's own signature is fine ...
    witnessed = invoke("evidence", "verify-proof", proof, "--trusted-key", log_vkey(shown_to_b), *need(wkeys, 1))
    assert witnessed.exit_code == 1 and "0 of the 2 trusted witnesses" in witnessed.output  # ... but no witness saw it


@pytest.mark.tamper
def test_truncation_after_a_cosigned_checkpoint_is_detected(tmp_path, witnesses):
    log = make_store(tmp_path / "log", runs=(3, 4, 2))
    urls, wkeys = witnesses(log)
    assert submit(log, urls).exit_code == 0
    with sqlite3.connect(log / "ledger.db") as conn:
        unguard_sqlite(conn)  # as the database's owner can
        conn.execute("DELETE FROM ledger_entries WHERE seq > 14")  # the last run and its checkpoint
        conn.execute("UPDATE ledger_head SET size = 14")
    caught = invoke("evidence", "verify", "--store", log, *need(wkeys, 2))
    assert caught.exit_code == 1 and "ledger truncated" in caught.output
    with Store(log).write() as conn:
        from golive.ledger.treestore import rebuild
        rebuild(conn)
    refused = invoke("evidence", "witness", "submit", "--store", log, "--size", 14, "--url", urls[0])
    assert refused.exit_code == 1 and "truncated or rolled back" in refused.output


def cut_back(path: Path, seq: int) -> None:
    """Delete every entry after ``seq`` and rebuild the tree index, as the database's owner can."""
    with sqlite3.connect(path / "ledger.db") as conn:
        unguard_sqlite(conn)
        conn.execute("DELETE FROM ledger_entries WHERE seq > ?", (seq,))
        conn.execute("UPDATE ledger_head SET size = ?", (seq,))
    with Store(path).write() as conn:
        from golive.ledger.treestore import rebuild
        rebuild(conn)


def ask(urls: list[str]) -> list[str]:
    return [a for u in urls for a in ("--ask-witness", u)]


@pytest.mark.tamper("store cut back to an older cosigned checkpoint, asked online (verify --ask-witness)")
def test_truncation_back_to_an_older_cosigned_checkpoint_is_detected_by_asking_the_witnesses(tmp_path, witnesses):
    log = make_store(tmp_path / "log")
    urls, wkeys = witnesses(log)
    assert submit(log, urls).exit_code == 0  # both cosign the tree of size 13 (entry 14 records it)
    genuine = invoke("evidence", "verify", "--store", log, *need(wkeys, 2), *ask(urls))
    assert genuine.exit_code == 0 and genuine.output.count("the newest tree it cosigned, size 13") == 2, genuine.output
    add_run(log, 2)
    newer = submit(log, urls)
    assert newer.exit_code == 0 and newer.output.count("cosigned the tree at size 18") == 2, newer.output

    cut_back(log, 14)  # the attacker: entries after the first checkpoint, and the newer cosigned file
    (log / "checkpoints" / "18.checkpoint").unlink()
    offline = invoke("evidence", "verify", "--store", log, *need(wkeys, 2))
    tamper_case("store cut back to an older cosigned checkpoint, checked offline (verify --min-witnesses)",
                offline.exit_code != 0, expected=False)
    assert offline.exit_code == 0 and "extends checkpoint at size 13" in offline.output, offline.output
    online = invoke("evidence", "verify", "--store", log, *need(wkeys, 2), *ask(urls))
    assert online.exit_code == 1, online.output
    assert ("ledger truncated or rolled back: witness witness.test/w1 cosigned size 18, the ledger has 14 entries"
            in online.output), online.output
    as_json = invoke("evidence", "verify", "--store", log, "--json", "--witness", wkeys[1], "--ask-witness", urls[1])
    assert as_json.exit_code == 1 and '"failed": [' in as_json.output and "witness.test/w2 cosigned size 18" in as_json.output


def test_a_witness_that_cannot_be_asked_is_not_a_verdict(tmp_path, witnesses):
    log = make_store(tmp_path / "log")
    urls, wkeys = witnesses(log)
    unreachable = submit(log, [urls[0], "http://127.0.0.1:9"])
    assert unreachable.exit_code == 2 and "NOT CHECKED" in unreachable.output, unreachable.output
    assert "REFUSED" not in unreachable.output and "cannot be reached" in unreachable.output
    down = invoke("evidence", "verify", "--store", log, "--witness", wkeys[0], "--ask-witness", "http://127.0.0.1:9")
    assert down.exit_code == 2 and "cannot be reached" in down.output, down.output
    never = invoke("evidence", "verify", "--store", log, "--witness", wkeys[1], "--ask-witness", urls[1])
    assert never.exit_code == 2 and "has cosigned no checkpoint of log" in never.output, never.output  # w2 saw nothing
    wrong_key = invoke("evidence", "verify", "--store", log, "--witness", wkeys[1], "--ask-witness", urls[0])
    assert wrong_key.exit_code == 2 and "no cosignature that verifies with a --witness key" in wrong_key.output
    no_keys = invoke("evidence", "verify", "--store", log, "--ask-witness", urls[0])
    assert no_keys.exit_code == 2 and "--witness VKEY" in no_keys.output
    ok = invoke("evidence", "verify", "--store", log, "--witness", wkeys[0], "--ask-witness", urls[0])
    assert ok.exit_code == 0 and "size 13, is the ledger's first 13 of 14 entries" in ok.output, ok.output


def test_the_reports_verify_command_requires_the_stores_witnesses(tmp_path, witnesses):
    import json
    from golive.report.cli import _store_config
    from golive.report.proof import proof_view
    log = make_store(tmp_path / "log")
    urls, wkeys = witnesses(log)
    assert submit(log, urls).exit_code == 0
    run_id = json.loads(invoke("evidence", "show", "--store", log, "--json").output)[-1]["id"]
    bundle = json.loads(invoke("evidence", "bundle", run_id, "--store", log).output)
    unknown = proof_view(bundle, log_vkey(log)).verify_commands(True)[0]
    assert "--witness <vkey of witness.test/w1> --witness <vkey of witness.test/w2> --min-witnesses 2" in unknown
    (log / "golive-store.toml").write_text("min_witnesses = 2\n" + "".join(
        f'[[witness]]\nurl = "{u}"\nvkey = "{v}"\n' for u, v in zip(urls, wkeys)))
    command = proof_view(bundle, log_vkey(log), _store_config(log)).verify_commands(True)[0]
    assert f"--witness {wkeys[0]} --witness {wkeys[1]} --min-witnesses 2" in command, command
    args = command.split("#")[0].split()[4:]  # the printed command's options, run on the bundle it describes
    path = tmp_path / "b.json"
    path.write_text(json.dumps(bundle))
    ran = invoke("evidence", "verify-bundle", path, *args)
    assert ran.exit_code == 0 and "cosigned by witness.test/w1, witness.test/w2" in ran.output, ran.output


def test_witness_protocol_status_codes(tmp_path):
    log_key, other = Signer.generate(), Signer.generate()
    w = Witness("witness.test/w", Signer.generate(), {"example.test/log": [log_key.public_raw]}, tmp_path / "s.json")

    def checkpoint(size, root, signer=log_key, origin="example.test/log"):
        return str(TreeHead(origin, size, root).signed(origin, signer))

    from golive.ledger.tlog import MemoryTree
    tree = MemoryTree(bytes([i]) for i in range(10))
    cp5, cp10 = checkpoint(5, tree.root(5)), checkpoint(10, tree.root(10))
    assert w.add_checkpoint("old 0\n\n" + checkpoint(5, tree.root(5), origin="x.test/unknown"))[0] == 404
    assert w.add_checkpoint("old 0\n\n" + checkpoint(5, tree.root(5), signer=other))[0] == 403
    assert w.add_checkpoint("garbage")[0] == 400
    assert w.latest("example.test/log")[0] == 404  # nothing cosigned yet
    status, _, line = w.add_checkpoint("old 0\n\n" + cp5)
    assert status == 200 and line.startswith("\u2014 witness.test/w ")
    assert w.latest("example.test/log")[::2] == (200, cp5 + line)  # the checkpoint as cosigned, for GET
    assert w.latest("x.test/unknown")[0] == 404
    assert w.add_checkpoint("old 0\n\n" + cp10)[:2] == (409, "text/x.tlog.size")
    assert w.add_checkpoint("old 11\n\n" + cp10)[0] == 400
    bad_proof = "".join(f"{h}\n" for h in ["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="] * 2)
    assert w.add_checkpoint("old 5\n" + bad_proof + "\n" + cp10)[0] == 422
    import base64
    good_proof = "".join(base64.b64encode(h).decode() + "\n" for h in tree.consistency_proof(5, 10))
    assert w.add_checkpoint("old 5\n" + good_proof + "\n" + cp10)[0] == 200
    assert w.add_checkpoint("old 10\n\n" + checkpoint(10, bytes(32)))[0] == 422  # split view at the same size
    assert cosign("a\n", "w", log_key, 7) != cosign("a\n", "w", log_key, 8)  # the time is signed
