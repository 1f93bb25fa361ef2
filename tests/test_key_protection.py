"""The store's signing key kept out of the store (issue 15.5): in a real ssh-agent, or given
by the environment. Runs are recorded through the real recorder; signatures are checked with
the public key alone (taken from ssh-keygen's .pub file, not from the store)."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from golive.cli import cli
from golive.ledger.keyring import default_signer
from golive.ledger.keys import KeyFileError
from golive.ledger.recorder import LedgerRecorder
from golive.ledger.simulate import record_run
from golive.ledger.store import Store
from golive.ledger.verify import verify_store

NEEDS_OPENSSH = pytest.mark.skipif(not (shutil.which("ssh-agent") and shutil.which("ssh-add")),
                                   reason="openssh-client (ssh-agent, ssh-add) is not installed; .ci/run installs it")


def invoke(*args, env=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)


def entries(store: Path) -> int:
    import sqlite3
    with sqlite3.connect(store / "ledger.db") as conn:
        return conn.execute("SELECT count(*) FROM ledger_entries").fetchone()[0]


@pytest.fixture
def agent(tmp_path, monkeypatch):
    """A real ssh-agent on a socket in tmp_path, holding an Ed25519 key made by ssh-keygen.
    Yields (socket path, private key file, the agent's process)."""
    sock = tmp_path / "agent.sock"
    quiet = {k: v for k, v in os.environ.items() if k not in ("SSH_ASKPASS", "DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.Popen(["ssh-agent", "-D", "-a", str(sock)], env=quiet,  # no askpass: ssh-add -c is declined
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if sock.exists():
            break
        time.sleep(0.01)
    key = tmp_path / "store_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "golive-store-test", "-f", str(key)], check=True)
    monkeypatch.setenv("SSH_AUTH_SOCK", str(sock))
    subprocess.run(["ssh-add", "-q", str(key)], check=True, env={**os.environ, "SSH_AUTH_SOCK": str(sock)},
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield sock, key, proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=5)


def public_pem_of(openssh_private: Path, out: Path) -> Path:
    """The key's public half as a PEM file, from ssh-keygen's own files (not from the store)."""
    pub = serialization.load_ssh_public_key(openssh_private.with_suffix(".pub").read_bytes())
    out.write_bytes(pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return out


def private_raw(openssh_private: Path) -> bytes:
    key = serialization.load_ssh_private_key(openssh_private.read_bytes(), password=None)
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())


def store_bytes(store: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(store.rglob("*")) if p.is_file())


@NEEDS_OPENSSH
def test_a_store_signed_through_the_agent_verifies_with_the_public_key_alone(agent, tmp_path):
    _sock, key, _proc = agent
    store = tmp_path / "evidence"
    res = invoke("keys", "init", "--store", store, "--agent")
    assert res.exit_code == 0, res.output
    assert "ssh-agent key SHA256:" in res.output and "golive-store-test" in res.output
    assert not list((store / "keys").glob("*.key")), "an agent key must leave no private key file"
    (marker,) = (store / "keys").glob("*.agent")

    recorder = LedgerRecorder(Store(store), default_signer(Store(store), create=False))
    assert recorder.signer.protection == "agent"
    record_run(recorder, 6)
    assert recorder.head["key_protection"] == "agent" and recorder.head["key_protected"] is True

    pem = public_pem_of(key, tmp_path / "trusted.pem")
    res = invoke("evidence", "verify", "--store", store, "--trusted-key", pem, "--json")
    assert res.exit_code == 0, res.output
    report = verify_store(Store(store), trusted_keys=[serialization.load_pem_public_key(pem.read_bytes())
                                                      .public_bytes(serialization.Encoding.Raw,
                                                                    serialization.PublicFormat.Raw)])
    assert report.ok and report.signatures >= 2 and report.checkpoints == 1, report.problems
    res = invoke("evidence", "verify", "--store", store, "--trusted-key", key.with_suffix(".pub"))
    assert res.exit_code == 0, res.output  # ssh-keygen's own .pub ("ssh-ed25519 AAAA... comment") is a trust anchor
    raw = private_raw(key)
    assert raw not in store_bytes(store) and raw.hex().encode() not in store_bytes(store)
    assert marker.stem == recorder.signer.key_id


@NEEDS_OPENSSH
def test_the_agent_gone_or_without_the_key_is_refused_and_nothing_is_written(agent, tmp_path):
    sock, key, proc = agent
    store = tmp_path / "evidence"
    assert invoke("keys", "init", "--store", store, "--agent", "golive-store-test").exit_code == 0
    before = entries(store)

    subprocess.run(["ssh-add", "-q", "-D"], check=True, env={**os.environ, "SSH_AUTH_SOCK": str(sock)},
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    res = invoke("evidence", "checkpoint", "--store", store)
    assert res.exit_code == 2 and "does not hold the store's key" in res.output and "ssh-add" in res.output, res.output

    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=5)
    res = invoke("evidence", "checkpoint", "--store", store)
    assert res.exit_code == 2 and "no ssh-agent answers" in res.output, res.output
    with pytest.raises(KeyFileError, match="no ssh-agent answers"):
        default_signer(Store(store), create=False)
    res = invoke("evidence", "checkpoint", "--store", store, env={"SSH_AUTH_SOCK": ""})
    assert res.exit_code == 2 and "SSH_AUTH_SOCK is not set" in res.output, res.output
    assert entries(store) == before


@NEEDS_OPENSSH
def test_a_key_whose_use_the_agent_refuses_leaves_no_key_behind(agent, tmp_path):
    sock, _key, _proc = agent
    confirmed = tmp_path / "confirmed_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "needs-confirmation", "-f", str(confirmed)],
                   check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("SSH_ASKPASS", "DISPLAY")} | {"SSH_AUTH_SOCK": str(sock)}
    subprocess.run(["ssh-add", "-q", "-c", str(confirmed)], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    store = tmp_path / "evidence"
    res = invoke("keys", "init", "--store", store, "--agent", "needs-confirmation")  # no askpass: refused
    assert res.exit_code == 2 and "refused to sign" in res.output, res.output
    assert not (store / "keys" / "current").exists() and not list((store / "keys").glob("*.pub"))
    assert invoke("keys", "init", "--store", store, "--agent", "golive-store-test").exit_code == 0


@NEEDS_OPENSSH
def test_init_names_the_agent_key_to_use(agent, tmp_path):
    sock, _key, _proc = agent
    other = tmp_path / "other_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "someone-else", "-f", str(other)], check=True)
    subprocess.run(["ssh-add", "-q", str(other)], check=True, env={**os.environ, "SSH_AUTH_SOCK": str(sock)},
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    res = invoke("keys", "init", "--store", tmp_path / "a", "--agent")
    assert res.exit_code == 2 and "holds 2 Ed25519 keys" in res.output and "someone-else" in res.output
    assert not (tmp_path / "a").exists(), "a refused init leaves no store behind"
    res = invoke("keys", "init", "--store", tmp_path / "b", "--agent", "nobody")
    assert res.exit_code == 2 and "matches 'nobody'" in res.output
    fingerprint = subprocess.run(["ssh-keygen", "-lf", str(other)], capture_output=True, text=True).stdout.split()[1]
    res = invoke("keys", "init", "--store", tmp_path / "c", "--agent", fingerprint)
    assert res.exit_code == 0 and "someone-else" in res.output, res.output


@NEEDS_OPENSSH
def test_a_file_key_rotates_to_an_agent_key(agent, tmp_path):
    store = tmp_path / "evidence"
    assert invoke("keys", "init", "--store", store).exit_code == 0
    record_run(LedgerRecorder(Store(store), default_signer(Store(store), create=False)), 3)
    res = invoke("keys", "rotate", "--store", store, "--agent")
    assert res.exit_code == 0 and "(protection: agent)" in res.output, res.output
    recorder = LedgerRecorder(Store(store), default_signer(Store(store), create=False))
    assert recorder.signer.protection == "agent"
    record_run(recorder, 3)
    res = invoke("evidence", "verify", "--store", store)
    assert res.exit_code == 0, res.output
    assert "agent" in invoke("keys", "list", "--store", store).output


def pem_key() -> tuple[str, bytes]:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return pem, key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                  serialization.NoEncryption())


def test_an_environment_key_is_used_and_never_written(tmp_path, monkeypatch):
    pem, raw = pem_key()
    body = pem.splitlines()[1]  # the base64 line, without the BEGIN/END lines the PEM shape catches
    store = tmp_path / "evidence"
    res = invoke("keys", "init", "--store", store, "--from-env")
    assert res.exit_code == 2 and "GOLIVE_STORE_KEY" in res.output
    monkeypatch.setenv("GOLIVE_STORE_KEY", pem)
    res = invoke("keys", "init", "--store", store)
    assert res.exit_code == 2 and "--from-env" in res.output, "a key file is not made behind the CI secret's back"
    res = invoke("keys", "init", "--store", store, "--from-env")
    assert res.exit_code == 0, res.output
    assert list((store / "keys").glob("*.env")) and not list((store / "keys").glob("*.key"))

    import hashlib

    from golive.model import Artifact
    leak = tmp_path / "debug.txt"  # a check that copied the key into an artifact
    leak.write_text(f"signing with {body}\nraw={raw.hex()}\n")
    digest = hashlib.sha256(leak.read_bytes()).hexdigest()
    recorder = LedgerRecorder(Store(store), default_signer(Store(store), create=False))
    assert recorder.signer.protection == "environment"
    record_run(recorder, 4, target=tmp_path, artifacts={1: [Artifact("debug.txt", digest)]})
    assert recorder.head["key_protection"] == "environment"
    monkeypatch.delenv("GOLIVE_STORE_KEY")
    assert invoke("evidence", "verify", "--store", store).exit_code == 0
    stored = store_bytes(store)
    for secret in (body.encode(), raw, raw.hex().encode()):
        assert secret not in stored
    assert b"[REDACTED:environment-secret]" in stored, "the planted key copy was masked, not missing"
    res = invoke("evidence", "checkpoint", "--store", store)
    assert res.exit_code == 2 and "provided by the environment" in res.output and "GOLIVE_STORE_KEY" in res.output


def test_an_environment_key_file_and_bad_values_are_named(tmp_path, monkeypatch):
    pem, _raw = pem_key()
    secret = tmp_path / "secret.pem"
    secret.write_text(pem)
    monkeypatch.setenv("GOLIVE_STORE_KEY_FILE", str(secret))
    store = tmp_path / "evidence"
    assert invoke("keys", "init", "--store", store, "--from-env").exit_code == 0
    signer = default_signer(Store(store), create=False)
    assert signer.protection == "environment"
    from golive.ledger.secrets import Redactor
    assert pem.splitlines()[1] not in Redactor().text(f"x {pem.splitlines()[1]} y")

    other, _ = pem_key()
    secret.write_text(other)  # the CI injected a different key than the store's
    res = invoke("evidence", "checkpoint", "--store", store)
    assert res.exit_code == 2 and "provided by the environment" in res.output and "is the key given there" in res.output
    secret.write_text("not a key")
    res = invoke("evidence", "checkpoint", "--store", store)
    assert res.exit_code == 2 and "not a PEM (PKCS#8) or OpenSSH private key" in res.output
    assert "not a key" not in res.output
    monkeypatch.setenv("GOLIVE_STORE_KEY", other)
    res = invoke("evidence", "checkpoint", "--store", store)
    assert res.exit_code == 2 and "keep one" in res.output
    monkeypatch.delenv("GOLIVE_STORE_KEY")
    secret.write_text(pem)
    monkeypatch.setenv("GOLIVE_KEY_PASSPHRASE", "for-an-old-encrypted-key-file")  # a plain PEM still loads
    assert default_signer(Store(store), create=False).protection == "environment"


def test_a_fresh_store_adopts_the_environment_key_instead_of_writing_one(tmp_path, monkeypatch):
    pem, _raw = pem_key()
    monkeypatch.setenv("GOLIVE_STORE_KEY", pem)
    store = Store(tmp_path / "evidence")
    signer = default_signer(store, announce=lambda m: None)
    assert signer.protection == "environment"
    assert not list((tmp_path / "evidence" / "keys").glob("*.key"))


WORKSPACE = Path(__file__).parent / "fixtures" / "reference-workspace"


def appendix_lines(store: Path, tmp_path: Path) -> dict[str, str]:
    """The report of the store's only run in Markdown, HTML and JSON."""
    (run,) = (store / "runs").glob("*.json")
    run_id = json.loads(run.read_text())["run"]["id"]
    res = invoke("report", run_id, "--store", store, "-f", "md", "-f", "html", "-f", "json", "-o", tmp_path / "r")
    assert res.exit_code == 0, res.output
    return {ext: (tmp_path / "r").with_suffix(ext).read_text() for ext in (".md", ".html", ".json")}


@NEEDS_OPENSSH
def test_a_golive_run_signed_by_the_agent_says_so_in_every_report_format(agent, tmp_path):
    store = tmp_path / "evidence"
    assert invoke("keys", "init", "--store", store, "--agent").exit_code == 0
    res = invoke("run", "--target", WORKSPACE, "--store", store, "-q")
    assert res.exit_code == 1, res.output  # the reference workspace has gaps; the run is recorded
    reports = appendix_lines(store, tmp_path)
    assert "Signing key protection**: agent: the signing key is held by an ssh-agent" in reports[".md"]
    assert "<th>Signing key protection</th><td>agent: the signing key is held by an ssh-agent" in reports[".html"]
    assert json.loads(reports[".json"])["run"]["ledger"]["key_protection"] == "agent"
    assert invoke("evidence", "verify", "--store", store, "--trusted-key",
                  public_pem_of(agent[1], tmp_path / "k.pem")).exit_code == 0


@pytest.mark.parametrize("passphrase_set", [False, True], ids=["no-passphrase-variable", "GOLIVE_KEY_PASSPHRASE-set"])
def test_a_plain_key_file_is_flagged_in_every_report_format(passphrase_set, tmp_path, monkeypatch):
    """A passphrase variable set for other stores does not stop a plain key from signing (it used
    to fail every run with 'is encrypted'), and the key is still reported as unprotected."""
    if passphrase_set:
        monkeypatch.setenv("GOLIVE_KEY_PASSPHRASE", "s3cret-pass")
    store = tmp_path / "evidence"
    assert invoke("keys", "init", "--store", store).exit_code == 0
    assert invoke("run", "--target", WORKSPACE, "--store", store, "-q").exit_code == 1
    reports = appendix_lines(store, tmp_path)
    assert "Signing key protection**: none -- NOT protected" in reports[".md"]
    assert "<td>none -- NOT protected" in reports[".html"]
    ledger = json.loads(reports[".json"])["run"]["ledger"]
    assert ledger["key_protection"] == "none" and ledger["key_protected"] is False


def test_a_golive_run_with_an_environment_key_leaves_no_trace_of_it(tmp_path, monkeypatch):
    pem, raw = pem_key()
    body = pem.splitlines()[1]
    workspace = tmp_path / "ws"
    shutil.copytree(WORKSPACE, workspace)
    # a workspace file that quotes the key's body (a careless debug dump): masked, not copied
    for name in ("golive-links.yaml", "tests/config/test_config_enforcement.py"):  # both recorded as artifacts
        (workspace / name).write_text((workspace / name).read_text() + f"\n# signing: {body}\n")
    monkeypatch.setenv("GOLIVE_STORE_KEY", pem)
    store = tmp_path / "evidence"
    assert invoke("keys", "init", "--store", store, "--from-env").exit_code == 0
    res = invoke("-vv", "run", "--target", workspace, "--store", store)  # debug log on stderr: in res.output
    assert res.exit_code == 1, res.output
    reports = appendix_lines(store, tmp_path)
    assert "Signing key protection**: environment: the signing key was provided by the environment" in reports[".md"]
    assert json.loads(reports[".json"])["run"]["ledger"]["key_protection"] == "environment"
    assert "DEBUG" in res.output or "golive" in res.output  # the log was captured
    outputs = [store_bytes(store), res.output.encode(), *(text.encode() for text in reports.values())]
    for secret in (body.encode(), raw, raw.hex().encode(), pem.encode()):
        assert not any(secret in blob for blob in outputs)
    assert b"# signing: [REDACTED:environment-secret]" in outputs[0], "the planted copies were masked, not skipped"


def test_a_file_key_rotates_to_the_environment_key_and_a_stray_one_is_refused(tmp_path, monkeypatch):
    store = tmp_path / "evidence"
    assert invoke("keys", "init", "--store", store).exit_code == 0
    record_run(LedgerRecorder(Store(store), default_signer(Store(store), create=False)), 2)
    pem, _raw = pem_key()
    monkeypatch.setenv("GOLIVE_STORE_KEY", pem)
    res = invoke("evidence", "checkpoint", "--store", store)  # CI meant its key to sign: not the file's
    assert res.exit_code == 2 and "this store signs with key" in res.output and "--from-env" in res.output
    res = invoke("keys", "rotate", "--store", store, "--from-env")
    assert res.exit_code == 0 and "(protection: environment)" in res.output, res.output
    recorder = LedgerRecorder(Store(store), default_signer(Store(store), create=False))
    assert recorder.signer.protection == "environment"
    record_run(recorder, 2)
    monkeypatch.delenv("GOLIVE_STORE_KEY")
    assert invoke("evidence", "verify", "--store", store).exit_code == 0
    assert not [p for p in (store / "keys").glob("*.key") if p.stem == recorder.signer.key_id]


def test_a_plain_key_file_loads_with_any_passphrase_and_an_encrypted_one_needs_the_right_one(tmp_path, monkeypatch):
    from golive.ledger.keys import KeyDirectory
    monkeypatch.delenv("GOLIVE_KEY_PASSPHRASE", raising=False)
    plain = KeyDirectory(tmp_path / "plain")
    plain.create()
    assert plain.load(passphrase="for-another-key").protection == "none"
    monkeypatch.setenv("GOLIVE_KEY_PASSPHRASE", "for-another-key")
    assert plain.load().protection == "none" and not plain.is_protected(plain.current_id)
    locked = KeyDirectory(tmp_path / "locked")
    locked.create("right-one")
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        locked.load()
    monkeypatch.delenv("GOLIVE_KEY_PASSPHRASE")
    with pytest.raises(KeyFileError, match="is encrypted: give its passphrase"):
        locked.load()
    assert locked.load(passphrase="right-one").protection == "passphrase"


def encrypted_with(store: Path, passphrase: str) -> bool:
    """Whether the store's current key file is encrypted and opens with ``passphrase``."""
    key_file = store / "keys" / ((store / "keys" / "current").read_text().strip() + ".key")
    assert key_file.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    return serialization.load_pem_private_key(key_file.read_bytes(), passphrase.encode()) is not None


def test_passphrase_options_take_the_variable_and_never_prompt_for_it(tmp_path):
    """`keys init/rotate --passphrase` with GOLIVE_KEY_PASSPHRASE set and no input: no prompt."""
    store, env = tmp_path / "evidence", {"GOLIVE_KEY_PASSPHRASE": "from-the-ci-secret"}
    res = CliRunner().invoke(cli, ["keys", "init", "--store", str(store), "--passphrase"], input="", env=env)
    assert res.exit_code == 0 and "protection: passphrase" in res.output and "Key passphrase" not in res.output, res.output
    assert encrypted_with(store, "from-the-ci-secret")
    old = (store / "keys" / "current").read_text().strip()
    res = CliRunner().invoke(cli, ["keys", "rotate", "--store", str(store), "--passphrase"], input="", env=env)
    assert res.exit_code == 0 and "Key passphrase" not in res.output, res.output
    assert (store / "keys" / "current").read_text().strip() != old and encrypted_with(store, "from-the-ci-secret")
    assert invoke("evidence", "verify", "--store", store).exit_code == 0
    res = CliRunner().invoke(cli, ["keys", "init", "--store", str(tmp_path / "plain")], env=env)
    assert res.exit_code == 0 and "protection: none" in res.output, res.output
    assert "GOLIVE_KEY_PASSPHRASE is set, but without --passphrase the new key file is NOT encrypted" in res.output


def test_passphrase_options_without_input_or_variable_say_what_to_set(tmp_path, monkeypatch):
    monkeypatch.delenv("GOLIVE_KEY_PASSPHRASE", raising=False)
    store = tmp_path / "evidence"
    for command in ("init", "rotate"):
        res = CliRunner().invoke(cli, ["keys", command, "--store", str(store), "--passphrase"], input="")
        assert res.exit_code == 2 and "set GOLIVE_KEY_PASSPHRASE" in res.output, res.output
        if command == "init":
            assert not (store / "keys" / "current").exists()
            assert not store.exists()  # the passphrase is asked before the store is made: nothing left behind
            assert invoke("keys", "init", "--store", store).exit_code == 0  # rotate needs a store
    # a real process with stdin closed and no controlling terminal (getpass's own fallback path)
    golive = [sys.executable, "-m", "golive", "keys", "init", "--store", str(tmp_path / "ci"), "--passphrase"]
    env = {k: v for k, v in os.environ.items() if k != "GOLIVE_KEY_PASSPHRASE"}
    proc = subprocess.run(golive, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env,
                          start_new_session=True, timeout=120)
    assert proc.returncode == 2 and "set GOLIVE_KEY_PASSPHRASE" in proc.stderr, proc.stderr
    proc = subprocess.run(golive, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
                          env={**env, "GOLIVE_KEY_PASSPHRASE": "piped-ci"}, start_new_session=True)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert encrypted_with(tmp_path / "ci", "piped-ci")


def openssh_public_line(key, comment: str = "someone@host") -> str:
    return key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                         serialization.PublicFormat.OpenSSH).decode() + f" {comment}\n"


def test_trusted_key_takes_an_openssh_public_key(tmp_path, monkeypatch):
    """`--trusted-key` accepts "ssh-ed25519 AAAA... comment" (a file or inline); another key
    type is refused by name."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from golive.ledger.keys import KeyDirectory, load_public_key
    pem, _raw = pem_key()
    monkeypatch.setenv("GOLIVE_STORE_KEY", pem)
    store = tmp_path / "evidence"
    assert invoke("keys", "init", "--store", store, "--from-env").exit_code == 0
    record_run(LedgerRecorder(Store(store), default_signer(Store(store), create=False)), 2)
    monkeypatch.delenv("GOLIVE_STORE_KEY")
    store_key = serialization.load_pem_private_key(pem.encode(), None)
    pub = tmp_path / "store.pub"
    pub.write_text(openssh_public_line(store_key))
    assert load_public_key(str(pub)) == KeyDirectory(store / "keys").public_raw(
        (store / "keys" / "current").read_text().strip())
    for trusted in (pub, openssh_public_line(store_key).strip()):
        res = invoke("evidence", "verify", "--store", store, "--trusted-key", trusted)
        assert res.exit_code == 0 and "OK" in res.output, res.output
    stranger = tmp_path / "stranger.pub"
    stranger.write_text(openssh_public_line(Ed25519PrivateKey.generate()))
    res = invoke("evidence", "verify", "--store", store, "--trusted-key", stranger)
    assert res.exit_code == 1 and "trusted" in res.output, res.output  # parsed, and it is not the store's key
    ecdsa = tmp_path / "ecdsa.pub"
    ecdsa.write_text(openssh_public_line(ec.generate_private_key(ec.SECP256R1())))
    res = invoke("evidence", "verify", "--store", store, "--trusted-key", ecdsa)
    assert res.exit_code == 2 and "holds an ecdsa-sha2-nistp256 key, not Ed25519" in res.output, res.output
    broken = tmp_path / "broken.pub"
    broken.write_text("ssh-ed25519 AAAAnot-base64 x\n")
    res = invoke("evidence", "verify", "--store", store, "--trusted-key", broken)
    assert res.exit_code == 2 and "not an OpenSSH public key line" in res.output and "Traceback" not in res.output
