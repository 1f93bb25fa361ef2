"""Secrets never reach the evidence: a planted Databento key (in the environment, in a check's
details, in a config file the check read) must appear nowhere in the store afterwards."""
from __future__ import annotations

import os
from pathlib import Path

from golive.digest import file_sha256
from golive.ledger import LedgerRecorder, Redactor, Store, default_signer, redact, verify_store
from golive.ledger.secrets import is_secret_name
from golive.ledger.simulate import make_outcome, run_header
from golive.model import Artifact

PLANTED = "db-" + "Q7rX2mK9pL4vN8sT1wY6zB3cF5hJ0"  # 3 + 29 characters: a Databento key's shape
AWS = "AKIA" + "IOSFODNN7EXAMPLE"
assert len(PLANTED) == 32


def store_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file() and p.parent.name != "keys")


def test_planted_key_never_enters_the_store(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABENTO_API_KEY", PLANTED)
    monkeypatch.setenv("BROKER_PASSWORD", "hunter2-broker")
    target = tmp_path / "target"
    (target / "config").mkdir(parents=True)
    config = target / "config" / "production.yaml"
    config.write_text(f"databento:\n  api_key: {PLANTED}\n  dataset: GLBX.MDP3\n"
                      f"broker:\n  password: hunter2-broker\n  url: https://trader:s3cr3tpw@broker.example/api\n"
                      f"aws: {AWS}\nauth_header: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig\n")
    store = Store(tmp_path / "evidence")
    recorder = LedgerRecorder(store, default_signer(store, announce=lambda m: None))
    run = run_header(target)
    run["selection"] = [f"note {PLANTED}"]
    recorder.golive_run_started(run=run)
    outcome = make_outcome(0, [Artifact("config/production.yaml", file_sha256(config))])
    outcome.details = {"connection": {"key": PLANTED, "dataset": "GLBX.MDP3"},
                       "log_line": f"connected with {PLANTED}", "env": dict(os.environ)}
    outcome.reason = f"auth failed for key {PLANTED}"
    recorder.golive_result(outcome=outcome, run=run)
    recorder.golive_run_finished(run=run, outcomes=[outcome])
    store.close()

    everything = store_bytes(store.path)
    for secret in (PLANTED, "hunter2-broker", "s3cr3tpw", AWS, "eyJhbGciOiJIUzI1NiJ9"):
        assert secret.encode() not in everything, f"{secret} leaked into the store"
    assert b"GLBX.MDP3" in everything  # non-secret content is kept
    assert verify_store(Store(store.path)).ok


def test_redact_masks_names_shapes_and_environment():
    env = {"DATABENTO_API_KEY": PLANTED, "HOME": "/home/trader", "MY_TOKEN": "tok-1234567890"}
    value = {"api_key": "anything", "apiKey": "x1", "key_id": "a" * 64, "symbol": "ESZ5",
             "notes": [f"k={PLANTED}", "token tok-1234567890 used", "/home/trader is fine"],
             "monkey": "banana"}
    masked = redact(value, env)
    assert masked["api_key"].startswith("[REDACTED") and masked["apiKey"].startswith("[REDACTED")
    assert masked["key_id"] == "a" * 64 and masked["symbol"] == "ESZ5" and masked["monkey"] == "banana"
    assert PLANTED not in str(masked) and "tok-1234567890" not in str(masked)
    assert masked["notes"][2] == "/home/trader is fine"


def test_secret_names():
    for name in ("DATABENTO_API_KEY", "password", "clientSecret", "auth_token", "passphrase"):
        assert is_secret_name(name), name
    for name in ("key_id", "monkey", "tokenizer", "symbol", "sort_key", "public_key"):
        assert not is_secret_name(name), name


def test_binary_artifacts_keep_their_bytes_except_key_shapes():
    redactor = Redactor({})
    binary = bytes(range(256)) * 4
    assert redactor.blob(binary) == (binary, False)
    masked, changed = redactor.blob(binary + PLANTED.encode() + b"\xff\x00")
    assert changed and PLANTED.encode() not in masked and masked.startswith(binary)


def test_text_artifacts_mask_assignments_whole_and_keep_the_rest():
    text = ('broker:\n  password: "correct horse battery"\n  host: broker.example\n'
            "auth_token = 'abc 123'\nsecret: null\nkey_id: 4f2a\n{\"apiKey\": \"xyz\", \"symbol\": \"ES\"}\n")
    masked, changed = Redactor({}).blob(text.encode())
    out = masked.decode()
    assert changed
    for secret in ("correct horse battery", "horse", "abc 123", '"xyz"'):
        assert secret not in out
    for kept in ("host: broker.example", "secret: null", "key_id: 4f2a", '"symbol": "ES"'):
        assert kept in out
