"""People's keys (issue 16.1): created passphrase-protected in the person's own folder or taken
from their OpenSSH key; the store registers public keys only; signing needs the passphrase and
a registered, active, unexpired key. The store is scanned for private key material after every
command."""
from __future__ import annotations

import stat
from datetime import date, timedelta
from pathlib import Path

from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from golive.cli import cli

from people import private_key_files

SOON = (date.today() + timedelta(days=30)).isoformat()


def invoke(*args, input=None, env=None):
    res = CliRunner().invoke(cli, [str(a) for a in args], input=input, env=env, catch_exceptions=False)
    store = next((Path(args[i + 1]) for i, a in enumerate(args[:-1]) if a == "--store"), None)
    if store is not None and store.exists():
        assert private_key_files(store) == [], f"private key material in the store after {args[:3]}"
    return res


def test_person_init_prompts_twice_refuses_empty_and_writes_0600_outside_the_store(tmp_path):
    home = tmp_path / "config"
    env = {"XDG_CONFIG_HOME": str(home), "GOLIVE_PERSON_KEYS": None, "GOLIVE_PERSON_PASSPHRASE": None}
    empty = invoke("keys", "person-init", "--name", "Ada Risk", input="\n\n", env=env)
    assert empty.exit_code == 2 and "empty passphrase is refused" in empty.output
    mismatch = invoke("keys", "person-init", "--name", "Ada Risk", input="one\ntwo\none\none\n", env=env)
    assert mismatch.exit_code == 0, mismatch.output  # asked again after a mismatch
    [key] = (home / "golive" / "keys").glob("ada-risk-*.key")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    serialization.load_pem_private_key(key.read_bytes(), password=b"one")


def test_register_sign_revoke_with_an_openssh_key(tmp_path, monkeypatch):
    monkeypatch.delenv("GOLIVE_PERSON_PASSPHRASE", raising=False)
    monkeypatch.setenv("ADA_PW", "s3cret words")
    monkeypatch.setenv("GOLIVE_PERSON_KEYS", str(tmp_path / "ada-config"))
    store = tmp_path / "store"
    ssh_key = tmp_path / "id_ed25519"
    ssh_key.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
        serialization.BestAvailableEncryption(b"s3cret words")))
    init = invoke("keys", "person-init", "--ssh-key", ssh_key, "--passphrase-env", "ADA_PW")
    assert init.exit_code == 0, init.output
    [public] = (tmp_path / "ada-config").glob("*.golive.pub")

    as_private = invoke("keys", "add-person", "Ada Risk", "--role", "risk", "--public-key", ssh_key, "--store", store)
    assert as_private.exit_code == 2 and "PRIVATE key" in as_private.output
    added = invoke("keys", "add-person", "Ada Risk", "--role", "risk", "--public-key", public, "--store", store)
    assert added.exit_code == 0, added.output

    waive = ("waive", "RISK-02", "--by", "Ada Risk", "--reason", "limits reviewed by hand", "--expires", SOON,
             "--key", ssh_key, "--store", store, "--target", tmp_path)
    no_pass = invoke(*waive, input="\n")
    assert no_pass.exit_code == 2 and "passphrase" in no_pass.output
    monkeypatch.setenv("WRONG", "nope")
    wrong = invoke(*waive, "--passphrase-env", "WRONG")
    assert wrong.exit_code == 2 and "wrong passphrase" in wrong.output
    ok = invoke(*waive, "--passphrase-env", "ADA_PW")
    assert ok.exit_code == 0, ok.output

    listed = invoke("keys", "list", "--store", store)
    assert listed.exit_code == 0 and "Ada" in listed.output and "risk" in listed.output  # names and roles shown
    from golive.ledger import Store
    from golive.ledger.people import select_person

    key_id = select_person(Store(store), "Ada Risk")[0][:12]
    revoked = invoke("keys", "revoke", key_id, "--reason", "left the firm", "--store", store)
    assert revoked.exit_code == 0, revoked.output
    after = invoke(*waive, "--passphrase-env", "ADA_PW")
    assert after.exit_code == 2 and "revoked" in after.output
    assert invoke("evidence", "verify", "--store", store).exit_code == 0


def test_unprotected_key_and_expired_registration_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("GOLIVE_PERSON_PASSPHRASE", "pw")
    store = tmp_path / "store"
    bare = tmp_path / "bare.key"
    private = Ed25519PrivateKey.generate()
    bare.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    pub = tmp_path / "bare.pub"
    pub.write_bytes(private.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo))
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    res = invoke("keys", "add-person", "Old Timer", "--role", "risk", "--public-key", pub, "--valid-until", yesterday,
                 "--store", store)
    assert res.exit_code == 0, res.output
    attest = ("attest", "RISK-09", "--by", "Old Timer", "--note", "drill observed", "--key", bare, "--store", store,
              "--target", tmp_path)
    expired = invoke(*attest)
    assert expired.exit_code == 2 and f"valid until {yesterday}" in expired.output
    pub2 = tmp_path / "bare2.pub"
    bare2 = tmp_path / "bare2.key"
    other = Ed25519PrivateKey.generate()
    bare2.write_bytes(other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()))
    pub2.write_bytes(other.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    assert invoke("keys", "add-person", "Bare", "--role", "risk", "--public-key", pub2, "--store", store).exit_code == 0
    unprotected = invoke("attest", "RISK-09", "--by", "Bare", "--note", "x", "--key", bare2, "--store", store,
                         "--target", tmp_path)
    assert unprotected.exit_code == 2 and "not protected by a passphrase" in unprotected.output


def test_an_unknown_signer_name_lists_the_registered_people(tmp_path, monkeypatch):
    """A first name alone matches no one (names match whole): the error lists who is registered,
    so the user sees what --by takes."""
    monkeypatch.setenv("GOLIVE_PERSON_PASSPHRASE", "pw")
    store = tmp_path / "store"
    for name, role in (("Ada Risk", "risk"), ("Carl Comp", "compliance")):
        pub = tmp_path / f"{role}.pub"
        pub.write_bytes(Ed25519PrivateKey.generate().public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        assert invoke("keys", "add-person", name, "--role", role, "--public-key", pub, "--store", store).exit_code == 0
    res = invoke("attest", "RISK-09", "--by", "Ada", "--note", "drill observed", "--store", store, "--target", tmp_path)
    assert res.exit_code == 2
    assert "'Ada' names 0 active person keys" in res.output
    assert "Ada Risk (risk)" in res.output and "Carl Comp (compliance)" in res.output


def test_person_init_prints_an_add_person_command_to_paste(tmp_path, monkeypatch):
    """The 'next' line is a shell command for the administrator: the name quoted as typed (here with
    an apostrophe and brackets, which console markup used to eat) and the store to give."""
    import shlex

    monkeypatch.setenv("ADA_PW", "pw words")
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config"), "GOLIVE_PERSON_KEYS": None}
    res = invoke("keys", "person-init", "--name", "Ada [R] O'Hara", "--passphrase-env", "ADA_PW", env=env)
    assert res.exit_code == 0, res.output
    line = next(l for l in res.output.splitlines() if "next:" in l)
    words = shlex.split(line.split("next:", 1)[1])
    assert words[:4] == ["golive", "keys", "add-person", "Ada [R] O'Hara"]
    assert "--store" in words and Path(words[words.index("--public-key") + 1]).is_file()
