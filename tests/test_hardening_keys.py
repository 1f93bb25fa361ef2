"""Key rotation is crash-atomic, and an unprotected key is flagged (issue 15, point 5).

Each interruption point of ``rotate_key`` is simulated by raising at that step; afterwards a
run and a rotation both succeed (in either order), exactly one ledger key is active,
``keys/current`` names it and the ledger verifies. Before the fix, a crash between the
rotation entry and the ``keys/current`` update left every run and every rotation refused.
"""
from __future__ import annotations

import os

import click
import pytest
from click.testing import CliRunner

from golive.ledger import KeyDirectory, LedgerRecorder, Store, default_signer, verify_store
from golive.ledger import keyring, keys as keys_module
from golive.ledger.cli import keys as keys_cli
from golive.ledger.keyring import recorded_keys, rotate_key
from golive.ledger.simulate import record_run


class Crash(Exception):
    """Stands for the process dying at this point."""


@click.group()
def golive() -> None:
    """Mounts ``golive keys`` the way the main CLI does."""


golive.add_command(keys_cli)


def invoke(*args: str):
    return CliRunner().invoke(golive, list(args), catch_exceptions=False)


def crash_writing_public_key(monkeypatch):
    real = keys_module.write_atomic

    def write(path, data, mode=0o644):
        if path.suffix == ".pub":
            raise Crash("after the private key file, before the public one")
        return real(path, data, mode)
    monkeypatch.setattr(keys_module, "write_atomic", write)


def crash_before_the_entry(monkeypatch):
    def append(self, *args, **kwargs):
        raise Crash("key files written, rotation entry not")
    monkeypatch.setattr(keyring.Ledger, "append", append)


def crash_after_the_entry(monkeypatch):
    real = keyring.Ledger.append

    def append(self, *args, **kwargs):
        real(self, *args, **kwargs)
        raise Crash("rotation entry committed, keys/current not switched")
    monkeypatch.setattr(keyring.Ledger, "append", append)


def crash_inside_set_current(monkeypatch):
    real = os.replace

    def replace(src, dst, *args, **kwargs):
        if os.path.basename(dst) == "current":
            raise Crash("temporary current written, not renamed")
        return real(src, dst, *args, **kwargs)
    monkeypatch.setattr(keys_module.os, "replace", replace)


def crash_after_set_current(monkeypatch):
    real = KeyDirectory.set_current

    def set_current(self, key_id):
        real(self, key_id)
        raise Crash("everything done, not yet returned")
    monkeypatch.setattr(KeyDirectory, "set_current", set_current)


CRASHES = [crash_writing_public_key, crash_before_the_entry, crash_after_the_entry,
           crash_inside_set_current, crash_after_set_current]


def a_run(path, tmp_path) -> dict:
    store = Store(path)
    recorder = LedgerRecorder(store, default_signer(store, announce=lambda m: None))
    record_run(recorder, 2, tmp_path)
    store.close()
    return recorder.head


def assert_consistent(path) -> None:
    store = Store(path)
    report = verify_store(store)
    assert report.ok, report.problems
    active = [k for k, v in recorded_keys(store).items() if v["role"] == "ledger" and v["status"] == "active"]
    assert len(active) == 1 and KeyDirectory(path / "keys").current_id == active[0]
    assert report.last_checkpoint.key_id == active[0]
    store.close()


def interrupt_rotation(store_path, crash, monkeypatch):
    """Rotate the current key with ``crash`` in place; returns (store, old signer)."""
    store = Store(store_path)
    old = KeyDirectory(store_path / "keys").load()
    with monkeypatch.context() as patched:
        crash(patched)
        with pytest.raises(Crash):
            rotate_key(store, old)
    return store, old


@pytest.fixture
def store_path(tmp_path):
    path = tmp_path / "evidence"
    a_run(path, tmp_path)
    return path


@pytest.mark.parametrize("run_first", [True, False], ids=["run-then-rotate", "rotate-then-run"])
@pytest.mark.parametrize("crash", CRASHES, ids=lambda f: f.__name__)
def test_rotation_recovers_from_every_interruption_point(crash, run_first, store_path, tmp_path, monkeypatch):
    store, _ = interrupt_rotation(store_path, crash, monkeypatch)
    store.close()

    listing = invoke("keys", "list", "--store", str(store_path))
    assert listing.exit_code == 0, listing.output
    steps = [lambda: a_run(store_path, tmp_path),
             lambda: invoke("keys", "rotate", "--store", str(store_path))]
    for step in steps if run_first else reversed(steps):
        outcome = step()
        if isinstance(outcome, dict):
            assert outcome["size"] > 0
        else:
            assert outcome.exit_code == 0, outcome.output
    a_run(store_path, tmp_path)
    assert_consistent(store_path)
    assert invoke("keys", "rotate", "--store", str(store_path)).exit_code == 0  # and rotation goes on working
    a_run(store_path, tmp_path)
    assert_consistent(store_path)


def test_the_interrupted_rotation_is_the_one_completed(store_path, tmp_path, monkeypatch):
    """After a crash past the ledger entry, the ledger's new key becomes current (not a third
    one), and the old key stays retired."""
    keydir = KeyDirectory(store_path / "keys")
    store, old = interrupt_rotation(store_path, crash_after_the_entry, monkeypatch)
    recorded = recorded_keys(store)
    new_id = next(k for k, v in recorded.items() if v["status"] == "active")
    assert keydir.current_id == old.key_id and recorded[old.key_id]["status"] == "retired"
    messages: list[str] = []
    assert default_signer(store, announce=messages.append).key_id == new_id
    assert keydir.current_id == new_id and "interrupted key rotation" in messages[0]
    store.close()


def test_rotating_the_old_key_again_completes_the_interrupted_rotation(store_path, monkeypatch):
    store, old = interrupt_rotation(store_path, crash_after_the_entry, monkeypatch)
    completed = rotate_key(store, old)
    assert completed.key_id == KeyDirectory(store_path / "keys").current_id
    assert len([v for v in recorded_keys(store).values() if v["status"] == "active"]) == 1
    store.close()


def test_a_foreign_current_key_is_still_refused(store_path):
    """Reconciliation only finishes rotations: a current key the ledger never retired is an error."""
    keydir = KeyDirectory(store_path / "keys")
    keydir.create()  # made current, never recorded
    store = Store(store_path)
    with pytest.raises(keys_module.KeyFileError, match="use `golive keys rotate`"):
        default_signer(store, announce=lambda m: None)
    store.close()


def test_run_ledger_says_whether_the_key_is_protected(tmp_path, monkeypatch):
    monkeypatch.delenv("GOLIVE_KEY_PASSPHRASE", raising=False)
    plain = a_run(tmp_path / "plain", tmp_path)
    KeyDirectory(tmp_path / "locked" / "keys").create("pw-123")
    store = Store(tmp_path / "locked")
    recorder = LedgerRecorder(store, default_signer(store, "pw-123", announce=lambda m: None))
    record_run(recorder, 1, tmp_path)
    assert plain["key_protected"] is False and recorder.head["key_protected"] is True
    store.close()
