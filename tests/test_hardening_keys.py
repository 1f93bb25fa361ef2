"""Key rotation is crash-atomic, and an unprotected key is flagged (issue 15, point 5).

Each interruption point of ``rotate_key`` is simulated by raising at that step; afterwards a
run and a rotation both succeed (in either order), exactly one ledger key is active,
``keys/current`` names it and the ledger verifies. Before the fix, a crash between the
rotation entry and the ``keys/current`` update left every run and every rotation refused.
The same points, plus the marker write, are interrupted on the way to a key held by a real
ssh-agent or given by the environment (``keydir.adopt``); and one process is really killed
(SIGKILL) halfway through writing the new private key file.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from golive.ledger import KeyDirectory, LedgerRecorder, Store, default_signer, verify_store
from golive.ledger import keyring, keys as keys_module, keysource
from golive.ledger.cli import keys as keys_cli
from golive.ledger.keyring import recorded_keys, rotate_key
from golive.ledger.simulate import record_run
from test_key_protection import NEEDS_OPENSSH, agent, pem_key  # noqa: F401 -- the real ssh-agent fixture


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


def crash_writing_private_key(monkeypatch):
    real = os.replace

    def replace(src, dst, *args, **kwargs):
        if os.path.basename(dst).endswith(".key"):
            raise Crash("temporary private key file written, not renamed")
        return real(src, dst, *args, **kwargs)
    monkeypatch.setattr(keys_module.os, "replace", replace)


def crash_writing_the_marker(monkeypatch):
    real = keys_module.write_atomic

    def write(path, data, mode=0o644):
        if path.suffix in (".agent", ".env"):
            raise Crash("before the marker naming where the new key is")
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


CRASHES = [crash_writing_private_key, crash_writing_public_key, crash_before_the_entry, crash_after_the_entry,
           crash_inside_set_current, crash_after_set_current]
# rotating to a key in the ssh-agent or the environment (keydir.adopt): marker, public key, entry, current
HELD_CRASHES = [crash_writing_the_marker, crash_writing_public_key, crash_before_the_entry, crash_after_the_entry,
                crash_inside_set_current, crash_after_set_current]
ENTRY_COMMITTED = (crash_after_the_entry, crash_inside_set_current, crash_after_set_current)


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


def interrupt_rotation(store_path, crash, monkeypatch, held=None):
    """Rotate the current key (to ``held``, a key outside the store, when given) with ``crash``
    in place; returns (store, old signer)."""
    store = Store(store_path)
    old = KeyDirectory(store_path / "keys").load()
    with monkeypatch.context() as patched:
        crash(patched)
        with pytest.raises(Crash):
            rotate_key(store, old, held=held)
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


def environment_key(monkeypatch):
    """(held tuple, PEM) of a key a CI secrets manager would inject; not yet in the environment."""
    pem, _raw = pem_key()
    monkeypatch.setenv(keysource.STORE_KEY_ENV, pem)
    signer = keysource.environment_signer()
    monkeypatch.delenv(keysource.STORE_KEY_ENV)
    return (signer, "environment", ""), pem


def agent_key():
    raw, fingerprint, comment = keysource.select_agent_key("golive-store-test")
    note = f"{fingerprint} {comment}"
    return (keysource.agent_signer(raw, note), "agent", note), None


def held_key(where, request, monkeypatch):
    if where == "agent":
        if "agent" not in request.fixturenames:
            request.getfixturevalue("agent")
        return agent_key()
    return environment_key(monkeypatch)


def assert_no_key_lost(path, old) -> None:
    """Every key the ledger recorded still has its public key here, and the old key file loads."""
    keydir = KeyDirectory(path / "keys")
    store = Store(path)
    assert set(recorded_keys(store)) <= set(keydir.key_ids())
    store.close()
    assert keydir.load(old.key_id, other_env_key_ok=True).key_id == old.key_id


WHERE = ["environment", pytest.param("agent", marks=NEEDS_OPENSSH)]


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("crash", HELD_CRASHES, ids=lambda f: f.__name__)
def test_rotation_to_an_agent_or_environment_key_recovers_by_rotating_again(crash, where, store_path, tmp_path,
                                                                         monkeypatch, request):
    held, pem = held_key(where, request, monkeypatch)
    store, old = interrupt_rotation(store_path, crash, monkeypatch, held)
    store.close()
    if pem:
        monkeypatch.setenv(keysource.STORE_KEY_ENV, pem)
    assert invoke("keys", "list", "--store", str(store_path)).exit_code == 0
    again = invoke("keys", "rotate", "--store", str(store_path), "--agent" if where == "agent" else "--from-env")
    assert again.exit_code == 0 and held[0].key_id in again.output, again.output
    a_run(store_path, tmp_path)
    assert_consistent(store_path)
    keydir = KeyDirectory(store_path / "keys")
    assert keydir.current_id == held[0].key_id and keydir.source(held[0].key_id) == where
    assert not (store_path / "keys" / f"{held[0].key_id}.key").exists(), "the held key is never written"
    assert_no_key_lost(store_path, old)
    assert invoke("keys", "rotate", "--store", str(store_path)).exit_code == 0  # on to a key file
    monkeypatch.delenv(keysource.STORE_KEY_ENV, raising=False)
    a_run(store_path, tmp_path)
    assert_consistent(store_path)


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("crash", HELD_CRASHES, ids=lambda f: f.__name__)
def test_a_run_after_an_interrupted_rotation_to_an_agent_or_environment_key(crash, where, store_path, tmp_path,
                                                                         monkeypatch, request):
    """Past the ledger entry the run finishes the rotation and signs with the new key; before
    it, the store still signs with the old key (an environment key given meanwhile is refused,
    naming the rotation to run)."""
    held, pem = held_key(where, request, monkeypatch)
    store, old = interrupt_rotation(store_path, crash, monkeypatch, held)
    store.close()
    if pem and crash not in ENTRY_COMMITTED:
        monkeypatch.setenv(keysource.STORE_KEY_ENV, pem)
        with pytest.raises(keys_module.KeyFileError, match="keys rotate --from-env"):
            a_run(store_path, tmp_path)
        monkeypatch.delenv(keysource.STORE_KEY_ENV)
    elif pem:
        monkeypatch.setenv(keysource.STORE_KEY_ENV, pem)
    a_run(store_path, tmp_path)
    assert_consistent(store_path)
    expected = held[0].key_id if crash in ENTRY_COMMITTED else old.key_id
    assert KeyDirectory(store_path / "keys").current_id == expected
    assert_no_key_lost(store_path, old)


KILLED_WRITING_THE_KEY = """
import os, signal, sys
from pathlib import Path
from golive.ledger import KeyDirectory, Store
from golive.ledger.keyring import rotate_key

real_replace = os.replace

def replace(src, dst, *args, **kwargs):
    if str(dst).endswith(".key"):  # the new private key: half of it on disk when the process dies
        os.truncate(src, os.path.getsize(src) // 2)
        os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst, *args, **kwargs)

os.replace = replace
store = Store(Path(sys.argv[1]))
rotate_key(store, KeyDirectory(store.keys_dir).load())
"""


def test_a_process_killed_while_writing_the_new_private_key(store_path, tmp_path):
    """A real SIGKILL halfway through the new private key file: the half-written temporary file
    is never taken for a key; runs, rotation and verify go on with the old key."""
    before = {p.name for p in (store_path / "keys").iterdir()}
    old_id = KeyDirectory(store_path / "keys").current_id
    proc = subprocess.run([sys.executable, "-c", KILLED_WRITING_THE_KEY, str(store_path)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    (leftover,) = [p for p in (store_path / "keys").iterdir() if p.name not in before]
    assert leftover.name.startswith(".") and leftover.name.endswith(".tmp") and leftover.stat().st_size > 0
    assert KeyDirectory(store_path / "keys").current_id == old_id
    a_run(store_path, tmp_path)
    alive = store_path / "keys" / f".being-written.{os.getpid()}.tmp"  # a running process's: kept
    alive.write_bytes(b"in progress")
    assert invoke("keys", "rotate", "--store", str(store_path)).exit_code == 0
    assert not leftover.exists(), "the next key written removes the dead process's half key"
    assert alive.exists()
    alive.unlink()
    assert invoke("keys", "list", "--store", str(store_path)).exit_code == 0
    a_run(store_path, tmp_path)
    assert_consistent(store_path)
