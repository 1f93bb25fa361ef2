"""A second, minimal verifier written from engine/ledger/FORMAT.md alone: it checks a demo
ledger's signed checkpoints, an inclusion proof and a consistency proof made by the golive
CLI, the demo PDF's proof bundle and results document (every part of it against the
run-finished entry's digests), two loopback witnesses' cosignatures of a run's checkpoint and
the RFC 3161 token kept for it (with `openssl ts -verify`), with hashlib, base64, json,
sqlite3, cryptography, pypdf and the openssl command only. This module never imports golive;
the ledgers, proofs, witnesses and tokens come from the command line in subprocesses (the
local TSA is tests/local_tsa.py, which imports no golive code either)."""
from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from local_tsa import make_tsa, openssl, serve, stamp  # openssl ts on loopback; imports no golive code

GOLIVE = Path(sys.executable).parent / "golive"


# -- the verifier (FORMAT.md: "The Merkle tree", "Signed tree heads", "Inclusion proof",
#    "Consistency proof") ----------------------------------------------------------------
def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return sha(b"")
    if len(leaves) == 1:
        return sha(b"\x00" + leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return sha(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def entry_hash(seq, run_id, kind, prev_hash, payload: bytes) -> str:
    header = f"golive-ledger-entry/v1\n{seq}\n{run_id}\n{kind}\n{prev_hash}\n{len(payload)}\n".encode()
    return hashlib.sha256(header + payload).hexdigest()


def open_checkpoint(note: str, public_key: bytes) -> tuple[str, int, bytes]:
    """(origin, size, root) of a signed checkpoint whose signature by ``public_key`` verifies."""
    text, _, signatures = note.rpartition("\n\n")
    text += "\n"
    origin, size, root_b64 = text.split("\n")[:3]
    key_hash = sha(origin.encode() + b"\n" + b"\x01" + public_key)[:4]
    verified = False
    for line in signatures.splitlines():
        dash, name, blob = line.split(" ")
        assert dash == "\u2014"
        raw = base64.b64decode(blob)
        if name == origin and raw[:4] == key_hash:
            Ed25519PublicKey.from_public_bytes(public_key).verify(raw[4:], text.encode())  # raises if forged
            verified = True
    if not verified:
        raise InvalidSignature("no signature by the trusted key")
    return origin, int(size), base64.b64decode(root_b64)


def check_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = sha(b"\x01" + p + r)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn // 2, sn // 2
        else:
            r = sha(b"\x01" + r + p)
        fn, sn = fn // 2, sn // 2
    return sn == 0 and r == root


def check_consistency(m: int, n: int, old_root: bytes, new_root: bytes, proof: list[bytes]) -> bool:
    """RFC 9162 §2.1.4.2."""
    if m == n:
        return not proof and old_root == new_root
    if m & (m - 1) == 0:
        proof = [old_root] + proof
    fn, sn = m - 1, n - 1
    while fn % 2 == 1:
        fn, sn = fn // 2, sn // 2
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr, sr = sha(b"\x01" + c + fr), sha(b"\x01" + c + sr)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn // 2, sn // 2
        else:
            sr = sha(b"\x01" + sr + c)
        fn, sn = fn // 2, sn // 2
    return sn == 0 and fr == old_root and sr == new_root


def verify_tlog_proof(text: str, public_key: bytes) -> dict:
    body, _, checkpoint = text.partition("\n\n")
    lines = body.split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1" and lines[1].startswith("extra ") and lines[2].startswith("index ")
    entry = json.loads(base64.b64decode(lines[1][6:]))
    index = int(lines[2][6:])
    proof = [base64.b64decode(h) for h in lines[3:]]
    origin, size, root = open_checkpoint(checkpoint, public_key)
    payload = base64.b64decode(entry["payload"])
    digest = entry_hash(entry["seq"], entry["run_id"], entry["kind"], entry["prev_hash"], payload)
    assert digest == entry["entry_hash"] and entry["seq"] == index + 1
    if not check_inclusion(index, size, sha(b"\x00" + bytes.fromhex(digest)), proof, root):
        raise ValueError("inclusion proof does not verify")
    return {"origin": origin, "size": size, "entry": entry, "payload": json.loads(payload)}


# -- the demo ledger, made by the CLI ----------------------------------------------------------
def golive(*args) -> str:
    done = subprocess.run([str(GOLIVE), *map(str, args)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    store = tmp_path_factory.mktemp("demo") / "evidence"
    subprocess.run([sys.executable, "-m", "golive.ledger.simulate", str(store), "--runs", "3", "--results", "7"],
                   check=True, capture_output=True, timeout=120)
    return store


def ledger_rows(store: Path) -> list[tuple]:
    with sqlite3.connect(store / "ledger.db") as conn:
        return conn.execute("SELECT seq, run_id, kind, payload, prev_hash, entry_hash FROM ledger_entries "
                            "ORDER BY seq").fetchall()


def ledger_key(rows: list[tuple]) -> bytes:
    keys = [k for k in (json.loads(r[3]) for r in rows if r[2] == "key") if k.get("role") == "ledger"]
    assert keys and keys[-1]["action"] == "add"
    return base64.b64decode(keys[-1]["public_key"])


def test_recorded_checkpoints_verify_against_the_tree_recomputed_from_the_entries(demo):
    rows = ledger_rows(demo)
    public_key = ledger_key(rows)
    leaves, prev, checked = [], "0" * 64, 0
    for seq, run_id, kind, payload, prev_hash, digest in rows:
        assert prev_hash == prev and entry_hash(seq, run_id, kind, prev_hash, payload) == digest
        if kind == "checkpoint":
            origin, size, root = open_checkpoint(json.loads(payload)["tlog_checkpoint"], public_key)
            assert origin == "golive.invalid/ledger/" + rows[0][5][:32]
            assert size == seq - 1 and root == mth(leaves)
            checked += 1
        leaves.append(bytes.fromhex(digest))
        prev = digest
    assert checked == 3


def test_an_inclusion_proof_from_the_cli_verifies_and_a_forged_one_does_not(demo, tmp_path):
    rows = ledger_rows(demo)
    public_key = ledger_key(rows)
    result_seq = next(r[0] for r in rows if r[2] == "result" and b'"status":"fail"' in r[3])
    proof = golive("evidence", "prove", result_seq, "--store", demo)
    proven = verify_tlog_proof(proof, public_key)
    assert proven["entry"]["seq"] == result_seq and proven["payload"]["status"] == "fail"
    assert proven["size"] == len(rows) - 1  # the newest recorded checkpoint: the tree before it

    lines = proof.split("\n")
    entry = json.loads(base64.b64decode(lines[1][6:]))
    payload = base64.b64decode(entry["payload"]).replace(b'"status":"fail"', b'"status":"pass"')
    entry["payload"] = base64.b64encode(payload).decode()
    entry["entry_hash"] = entry_hash(entry["seq"], entry["run_id"], entry["kind"], entry["prev_hash"], payload)
    lines[1] = "extra " + base64.b64encode(json.dumps(entry).encode()).decode()
    with pytest.raises(ValueError, match="does not verify"):  # fail -> pass, rehashed: not in the tree
        verify_tlog_proof("\n".join(lines), public_key)


def test_a_consistency_proof_from_the_cli_verifies(demo, tmp_path):
    rows = ledger_rows(demo)
    public_key = ledger_key(rows)
    proof = json.loads(golive("evidence", "consistency", "9", "--store", demo))
    assert proof["format"] == "golive-tlog-consistency/v1"
    _, m, old_root = open_checkpoint(proof["old"], public_key)
    _, n, new_root = open_checkpoint(proof["new"], public_key)
    hashes = [base64.b64decode(h) for h in proof["proof"]]
    assert (m, old_root) == (9, mth([bytes.fromhex(r[5]) for r in rows[:9]]))
    assert check_consistency(m, n, old_root, new_root, hashes)
    assert not check_consistency(m, n, sha(b"other history"), new_root, hashes)


def test_a_run_bundle_from_the_cli_verifies_with_format_md_alone(demo):
    """FORMAT.md "Proof bundle of a run": every entry re-hashes, proves into the run's signed
    checkpoint, and the results are the recorded ones."""
    rows = ledger_rows(demo)
    public_key = ledger_key(rows)
    run_id = next(r[1] for r in rows if r[2] == "run-started")
    bundle = json.loads(golive("evidence", "bundle", run_id, "--store", demo))
    assert bundle["format"] == "golive-proof-bundle/v1" and bundle["run_id"] == run_id
    origin, size, root = open_checkpoint(bundle["checkpoint"], public_key)
    statuses, kinds = {}, []
    for e in bundle["entries"]:
        payload = base64.b64decode(e["payload"])
        assert e["run_id"] == run_id
        assert entry_hash(e["seq"], e["run_id"], e["kind"], e["prev_hash"], payload) == e["entry_hash"]
        leaf = sha(b"\x00" + bytes.fromhex(e["entry_hash"]))
        assert check_inclusion(e["seq"] - 1, size, leaf, [base64.b64decode(h) for h in e["proof"]], root)
        kinds.append(e["kind"])
        if e["kind"] == "result":
            body = json.loads(payload)
            statuses[body["requirement_id"]] = body["status"]
    assert kinds[0] == "run-started" and kinds[-1] == "run-finished" and len(statuses) == 7
    recorded = {json.loads(r[3])["requirement_id"]: json.loads(r[3])["status"]
                for r in rows if r[1] == run_id and r[2] == "result"}
    assert statuses == recorded
    e = next(e for e in bundle["entries"] if e["kind"] == "result")
    assert not check_inclusion(e["seq"] - 1, size, sha(b"\x00" + bytes.fromhex(e["entry_hash"])),
                               [base64.b64decode(h) for h in e["proof"]][1:], root)


# -- the demo's PDF (FORMAT.md "Proof bundle of a run", "Reports bound to the ledger" rule 5) ----
def canonical(value) -> bytes:
    """RFC 8785 JSON for what a results document holds (strings, integers, short decimals)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def document_parts(doc: dict, k: int) -> dict:
    by_id = {r["requirement_id"]: r for r in doc["results"]}
    return {"additional_tests": doc.get("additional_tests"), "additional_test_files": doc.get("additional_test_files"),
            "covered_via": {rid: r.get("covered_via") for rid, r in by_id.items()},
            "suggested": {rid: r.get("suggested") for rid, r in by_id.items()},
            "if_confirmed": doc["summary"].get("if_confirmed"), "warnings": doc["warnings"][:k],
            "plugins": doc.get("plugins"), "tailoring": doc.get("tailoring")}


@pytest.fixture(scope="module")
def demo_pdf(tmp_path_factory):
    out = tmp_path_factory.mktemp("pdf") / "demo"
    subprocess.run([str(GOLIVE), "demo", str(out)], check=True, capture_output=True, timeout=600)
    return out


def test_the_demo_pdf_bundle_and_results_verify_with_format_md_alone(demo_pdf):
    """The PDF's attachments: the bundle proves into the run's signed checkpoint, the document's
    statuses are the recorded ones, and its test list and every other part hash to the digests
    the run-finished entry records; an edited part does not."""
    import pypdf  # reads the PDF's embedded files; no golive code

    files = {name: data[0] for name, data in pypdf.PdfReader(demo_pdf / "golive-report.pdf").attachments.items()}
    bundle, doc = json.loads(files["golive-proof-bundle.json"]), json.loads(files["results.json"])
    public_key = ledger_key(ledger_rows(demo_pdf / "evidence"))
    _, size, root = open_checkpoint(bundle["checkpoint"], public_key)
    payloads = {}
    for e in bundle["entries"]:
        payload = base64.b64decode(e["payload"])
        assert entry_hash(e["seq"], e["run_id"], e["kind"], e["prev_hash"], payload) == e["entry_hash"]
        assert check_inclusion(e["seq"] - 1, size, sha(b"\x00" + bytes.fromhex(e["entry_hash"])),
                               [base64.b64decode(h) for h in e["proof"]], root)
        payloads.setdefault(e["kind"], []).append(json.loads(payload))
    recorded = {p["requirement_id"]: p["status"] for p in payloads["result"]}
    shown = {r["requirement_id"]: r.get("recorded_status") or r["status"] for r in doc["results"]}
    assert shown == recorded and len(recorded) == 100
    finished = payloads["run-finished"][0]
    fields = ("id", "path", "kind", "name", "outcome", "requirements", "duration_s", "source")
    tests = [{f: t.get(f) for f in fields} for t in doc["tests"]]
    assert hashlib.sha256(canonical(tests)).hexdigest() == finished["tests_sha256"]
    parts = document_parts(doc, finished["extras_warnings"])
    assert {name: hashlib.sha256(canonical(v)).hexdigest() for name, v in parts.items()} == finished["extras_sha256"]
    doc["additional_test_files"] = []  # a forger's edit
    edited = document_parts(doc, finished["extras_warnings"])["additional_test_files"]
    assert hashlib.sha256(canonical(edited)).hexdigest() != finished["extras_sha256"]["additional_test_files"]


# -- witness cosignatures and RFC 3161 tokens (FORMAT.md "Witness cosignatures", "Trusted time") --
def note_text(checkpoint: str) -> str:
    """The note text: the lines before the blank line, each with its newline."""
    return checkpoint.partition("\n\n")[0] + "\n"


def check_cosignature(checkpoint: str, witness_vkey: str) -> int:
    """The POSIX time at which the witness named by ``witness_vkey`` cosigned ``checkpoint``
    (c2sp.org/tlog-cosignature, type 0x04); raises when its line is missing or forged."""
    name, key_hash_hex, key_b64 = witness_vkey.split("+", 2)  # base64 may hold "+"; a name may not
    key = base64.b64decode(key_b64)
    assert key[0] == 0x04 and len(key) == 33, "a cosignature/v1 Ed25519 witness key"
    key_hash = sha(name.encode() + b"\n" + b"\x04" + key[1:])[:4]
    assert key_hash.hex() == key_hash_hex, "the vkey's key hash does not match its key"
    text = note_text(checkpoint)
    for line in checkpoint.partition("\n\n")[2].splitlines():
        dash, signer, blob = line.split(" ")
        raw = base64.b64decode(blob)
        if dash == "\u2014" and signer == name and raw[:4] == key_hash:
            time = int.from_bytes(raw[4:12], "big")
            signed = f"cosignature/v1\ntime {time}\n".encode() + text.encode()
            Ed25519PublicKey.from_public_bytes(key[1:]).verify(raw[12:], signed)  # raises if forged
            return time
    raise InvalidSignature(f"no cosignature by {name}")


@pytest.fixture(scope="module")
def witnessed(tmp_path_factory):
    """A simulated store whose newest run's checkpoint two witness processes on loopback
    cosigned (`golive evidence witness submit`) and a local TSA stamped (`golive evidence
    timestamp`): (store, witness vkeys, the TSA, the time before cosigning)."""
    d = tmp_path_factory.mktemp("witnessed")
    store = d / "evidence"
    subprocess.run([sys.executable, "-m", "golive.ledger.simulate", str(store), "--runs", "2", "--results", "5"],
                   check=True, capture_output=True, timeout=120)
    log_vkey = next(line.split()[0] for line in golive("keys", "vkey", "--store", store).splitlines()
                    if "active" in line)
    started, urls, vkeys = [], [], []
    try:
        for n in (1, 2):  # as tests/test_tlog_witness.py starts them
            vkeys.append(golive("evidence", "witness", "init", "--key", d / f"w{n}.key",
                                "--name", f"witness.test/w{n}").strip())
            proc = subprocess.Popen([str(GOLIVE), "evidence", "witness", "serve", "--key", str(d / f"w{n}.key"),
                                     "--name", f"witness.test/w{n}", "--state", str(d / f"w{n}.json"),
                                     "--log", log_vkey], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            started.append(proc)
            line = proc.stdout.readline()
            assert "listening on http://127.0.0.1:" in line, proc.stderr.read()
            urls.append(line.split()[-1])
        before = int(time.time())
        golive("evidence", "witness", "submit", "--store", store, *[a for u in urls for a in ("--url", u)])
    finally:
        for proc in started:
            proc.terminate()
            proc.wait(timeout=10)
    tsa = make_tsa(d / "tsa")
    with serve(tsa) as url:
        golive("evidence", "timestamp", "--store", store, "--tsa", url)
    return store, vkeys, tsa, before


def newest_kept(store: Path) -> tuple[int, Path]:
    size = max(int(p.stem) for p in (store / "checkpoints").glob("*.checkpoint"))
    return size, store / "checkpoints" / f"{size}.checkpoint"


def test_witness_cosignatures_of_a_run_verify_with_format_md_alone(witnessed):
    """FORMAT.md "Witness cosignatures": each witness's line verifies over "cosignature/v1",
    its time and the note text with the key its vkey names; a changed line does not."""
    store, vkeys, _tsa, before = witnessed
    size, kept = newest_kept(store)
    checkpoint = kept.read_text(encoding="utf-8")
    rows = ledger_rows(store)
    _origin, signed_size, root = open_checkpoint(checkpoint, ledger_key(rows))
    assert signed_size == size and root == mth([bytes.fromhex(r[5]) for r in rows[:size]])
    assert rows[-1][2] == "checkpoint" and json.loads(rows[-1][3])["tlog_checkpoint"].startswith(note_text(checkpoint))
    times = [check_cosignature(checkpoint, v) for v in vkeys]
    assert all(before - 1 <= t <= time.time() + 1 for t in times), times

    lines = checkpoint.split("\n")
    w1 = next(i for i, line in enumerate(lines) if line.startswith("\u2014 witness.test/w1 "))
    raw = bytearray(base64.b64decode(lines[w1].split(" ")[2]))
    for offset in (11, len(raw) - 1):  # the time's last byte; the signature's last byte
        changed = bytearray(raw)
        changed[offset] ^= 0x01
        forged = lines[:w1] + [f"\u2014 witness.test/w1 {base64.b64encode(bytes(changed)).decode()}"] + lines[w1 + 1:]
        with pytest.raises(InvalidSignature):
            check_cosignature("\n".join(forged), vkeys[0])
    other_tree = checkpoint.replace(f"\n{size}\n", f"\n{size - 1}\n", 1)  # the cosignature is for this tree only
    with pytest.raises(InvalidSignature):
        check_cosignature(other_tree, vkeys[1])
    check_cosignature(checkpoint, vkeys[1])  # the unchanged line still verifies


def openssl_ts_verify(data: Path, token: Path, ca: Path, tsa_cert: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", "ts", "-verify", "-data", str(data), "-in", str(token), "-CAfile", str(ca),
                           "-untrusted", str(tsa_cert)], capture_output=True, text=True, timeout=60)


def test_the_checkpoint_timestamp_verifies_with_openssl_ts_and_format_md_alone(witnessed, tmp_path):
    """FORMAT.md "Trusted time": <store>/checkpoints/<size>.tsr is the TSA's response over the
    SHA-256 of the checkpoint's note text; `openssl ts -verify` accepts it for exactly those
    bytes and that TSA, not for another tree head nor a token of another authority with the
    same names and certificate serial."""
    store, _vkeys, tsa, _before = witnessed
    size, kept = newest_kept(store)
    token = kept.with_suffix(".tsr")
    data = tmp_path / "note"
    data.write_bytes(note_text(kept.read_text(encoding="utf-8")).encode())
    ok = openssl_ts_verify(data, token, tsa.ca_cert, tsa.tsa_cert)
    assert ok.returncode == 0 and "Verification: OK" in ok.stdout, ok.stdout + ok.stderr
    shown = subprocess.run(["openssl", "ts", "-reply", "-in", str(token), "-text"], capture_output=True, text=True,
                           timeout=60).stdout
    assert "Hash Algorithm: sha256" in shown and "golive test TSA" in shown

    other = tmp_path / "other-note"
    other.write_bytes(data.read_bytes().replace(f"\n{size}\n".encode(), f"\n{size - 1}\n".encode(), 1))
    refused = openssl_ts_verify(other, token, tsa.ca_cert, tsa.tsa_cert)
    assert refused.returncode != 0 and "message imprint mismatch" in refused.stderr, refused.stdout + refused.stderr

    impostor = make_tsa(tmp_path / "impostor")  # same names and serial, other keys
    openssl("ts", "-query", "-data", str(data), "-sha256", "-cert", "-out", "forged.tsq", cwd=tmp_path)
    forged = tmp_path / "forged.tsr"
    forged.write_bytes(stamp(impostor, (tmp_path / "forged.tsq").read_bytes(), "forged"))
    assert openssl_ts_verify(data, forged, impostor.ca_cert, impostor.tsa_cert).returncode == 0
    refused = openssl_ts_verify(data, forged, tsa.ca_cert, tsa.tsa_cert)
    assert refused.returncode != 0 and "Verification: FAILED" in refused.stdout, refused.stdout + refused.stderr
