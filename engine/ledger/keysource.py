"""Where the store's signing key lives when it is not a key file: an ssh-agent, or the
environment (issue 15.5).

A plain key file (``<store>/keys/<id>.key``, mode 0600) signs for whoever can read it; three
protections keep the private key from sitting readable beside the evidence:

* ``passphrase`` -- the key file is encrypted (``golive keys init --passphrase``; the
  passphrase is prompted or read from ``GOLIVE_KEY_PASSPHRASE``);
* ``agent`` -- the Ed25519 private key is held by an ssh-agent (``ssh-add``) and golive asks it
  to sign through ``SSH_AUTH_SOCK`` (paramiko speaks the agent protocol). The agent's signature
  for an ``ssh-ed25519`` key is the plain RFC 8032 signature over the data, so checkpoints verify
  with the public key alone, exactly like those of a key file. The store keeps
  ``<id>.pub`` and ``<id>.agent`` (the key's fingerprint and comment, to say which key to add);
* ``environment`` -- the private key is injected by a CI secrets manager as PEM in
  ``GOLIVE_STORE_KEY``, or as a file named by ``GOLIVE_STORE_KEY_FILE`` (e.g. a mounted
  secret); it is read into memory only. The store keeps ``<id>.pub`` and ``<id>.env``.

``none`` is the plain key file. :data:`PROTECTIONS` are the words a run records
(``run-started`` payload and ``run.ledger.key_protection``) and every report prints.
"""
from __future__ import annotations

import base64
import os
import socket
import stat
from contextlib import contextmanager
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from golive.ledger.keys import (PASSPHRASE_ENV, RAW, KeyFileError, Signer, key_id_of, load_private_pem,
                                verify_signature)

PROTECTIONS = ("passphrase", "agent", "environment", "none")
STORE_KEY_ENV = "GOLIVE_STORE_KEY"
STORE_KEY_FILE_ENV = "GOLIVE_STORE_KEY_FILE"
AGENT_MARKER, ENV_MARKER = ".agent", ".env"  # suffixes of <key_id> files naming where the key is
MAX_KEY_FILE_BYTES = 64 * 1024


# -- environment-provided key ------------------------------------------------------------------
def _parse_private(data: bytes, where: str) -> Ed25519PrivateKey:
    """A PKCS#8 PEM or OpenSSH private key (encrypted ones take ``GOLIVE_KEY_PASSPHRASE``)."""
    loader = (serialization.load_ssh_private_key if b"OPENSSH PRIVATE KEY" in data
              else serialization.load_pem_private_key)
    key = load_private_pem(data, os.environ.get(PASSPHRASE_ENV) or None, where, f"set {PASSPHRASE_ENV} too",
                           loader, "; make one with `openssl genpkey -algorithm ed25519`")
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{where} is not an Ed25519 private key (golive signs with Ed25519)")
    return key


def environment_key_material() -> tuple[bytes, str] | None:
    """(PEM bytes, where they came from) of the environment-provided key, or None when neither
    variable is set. Refuses both at once (which would win is not obvious)."""
    inline, path = os.environ.get(STORE_KEY_ENV), os.environ.get(STORE_KEY_FILE_ENV)
    if inline and path:
        raise KeyFileError(f"both {STORE_KEY_ENV} and {STORE_KEY_FILE_ENV} are set: keep one")
    if inline:
        return inline.encode(), STORE_KEY_ENV
    if not path:
        return None
    where = f"{STORE_KEY_FILE_ENV} ({path})"
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise KeyFileError(f"{where}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > MAX_KEY_FILE_BYTES:
        raise KeyFileError(f"{where}: larger than {MAX_KEY_FILE_BYTES} bytes, not a private key")
    return data, where


def environment_signer() -> Signer | None:
    """The signer injected through the environment, or None when none is."""
    material = environment_key_material()
    if material is None:
        return None
    return Signer(_parse_private(*material), protection="environment")


def secret_values() -> list[str]:
    """Texts that must never leave the process: the environment-provided key as given and each
    line of its body, and the raw private key in base64 and hex (``secrets.Redactor`` masks them
    wherever they occur, also when a check copies part of the key into an artifact)."""
    try:
        material = environment_key_material()
    except KeyFileError:
        return []
    if material is None:
        return []
    text = material[0].decode("utf-8", "replace")
    values = [text.strip()] + [line.strip() for line in text.splitlines()
                               if len(line.strip()) >= 16 and not line.startswith("-----")]
    try:
        raw = _parse_private(*material).private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                                      serialization.NoEncryption())
        values += [base64.b64encode(raw).decode(), raw.hex()]
    except KeyFileError:
        pass
    return values


# -- ssh-agent -----------------------------------------------------------------------------------
def _agent_socket() -> str:
    """The agent's socket path, checked reachable (paramiko silently lists no keys otherwise)."""
    path = os.environ.get("SSH_AUTH_SOCK")
    if not path:
        raise KeyFileError("SSH_AUTH_SOCK is not set, so no ssh-agent is reachable: start one "
                           "(`eval $(ssh-agent)`) and add the store's key with `ssh-add KEYFILE`")
    try:
        is_socket = stat.S_ISSOCK(os.stat(path).st_mode)
    except OSError:
        is_socket = False
    if is_socket:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(path)
                return path
            except OSError:
                pass
    raise KeyFileError(f"no ssh-agent answers at SSH_AUTH_SOCK={path} (the agent is gone): start it again "
                       "and `ssh-add` the store's key, or point SSH_AUTH_SOCK at the running agent")


def _ed25519_public(agent_key) -> bytes | None:  # noqa: ANN001 -- a paramiko AgentKey
    from paramiko import Message

    if agent_key.get_name() != "ssh-ed25519":
        return None
    blob = Message(agent_key.asbytes())
    blob.get_text()
    return blob.get_binary()


@contextmanager
def _agent():  # noqa: ANN202 -- yields a paramiko.Agent, closed afterwards
    try:
        import paramiko
    except ImportError:
        raise KeyFileError("signing through an ssh-agent needs paramiko: pip install 'paramiko>=3.2'") from None
    _agent_socket()
    agent = paramiko.Agent()
    try:
        yield agent
    except paramiko.SSHException as exc:
        raise KeyFileError(f"the ssh-agent at {os.environ['SSH_AUTH_SOCK']} did not answer properly: {exc}") from None
    finally:
        agent.close()


def _listing(agent) -> list[tuple[bytes, str, str, object]]:  # noqa: ANN001
    return [(raw, k.fingerprint, getattr(k, "comment", "") or "", k) for k in agent.get_keys()
            if (raw := _ed25519_public(k)) is not None]


def agent_keys() -> list[tuple[bytes, str, str, object]]:
    """(raw public key, fingerprint, comment, paramiko key) of each Ed25519 key in the agent."""
    with _agent() as agent:
        return _listing(agent)


def select_agent_key(selector: str = "") -> tuple[bytes, str, str]:
    """(raw public key, fingerprint, comment) of the agent's Ed25519 key named by ``selector``
    (its ``SHA256:`` fingerprint, with or without the prefix, or its comment); with no selector
    the agent must hold exactly one Ed25519 key."""
    keys = agent_keys()
    if not keys:
        raise KeyFileError("the ssh-agent holds no Ed25519 key: `ssh-keygen -t ed25519 -f KEYFILE` then "
                           "`ssh-add KEYFILE` (golive signs with Ed25519 only)")
    wanted = selector.strip()
    chosen = [k for k in keys if not wanted or wanted in (k[1], k[1].removeprefix("SHA256:"), k[2])]
    listing = "; ".join(f"{fp} {comment}".strip() for _raw, fp, comment, _k in keys)
    if not chosen:
        raise KeyFileError(f"no Ed25519 key in the ssh-agent matches {wanted!r}; it holds: {listing}")
    if len(chosen) > 1:
        raise KeyFileError(f"the ssh-agent holds {len(chosen)} Ed25519 keys; name one with --agent "
                           f"FINGERPRINT|COMMENT: {listing}")
    raw, fingerprint, comment, _key = chosen[0]
    return raw, fingerprint, comment


class AgentSigner(Signer):
    """A :class:`Signer` whose private key stays in the ssh-agent. Each signature is asked of the
    agent afresh (an agent restarted with the key still works) and checked against the public key
    before use, so a wrong or misbehaving agent can never put a bad signature in the ledger."""

    def __init__(self, public_raw: bytes, label: str = "") -> None:
        super().__init__(None, protection="agent")  # type: ignore[arg-type]
        self._public_raw = public_raw
        self.label = label or key_id_of(public_raw)[:16]

    @property
    def public_raw(self) -> bytes:
        return self._public_raw

    def _agent_key(self, agent):  # noqa: ANN001,ANN202
        for raw, _fp, _comment, key in _listing(agent):
            if raw == self._public_raw:
                return key
        raise KeyFileError(f"the ssh-agent at {os.environ.get('SSH_AUTH_SOCK')} does not hold the store's key "
                           f"{self.label}: add it with `ssh-add KEYFILE` (`ssh-add -l` lists what it holds)")

    def check(self) -> None:
        """Refuse now when the agent is unreachable or does not hold the key."""
        with _agent() as agent:
            self._agent_key(agent)

    def sign(self, message: bytes) -> bytes:
        from paramiko import Message, SSHException

        with _agent() as agent:
            key = self._agent_key(agent)
            try:
                blob = Message(key.sign_ssh_data(message))
                kind, signature = blob.get_text(), blob.get_binary()
            except (OSError, EOFError) as exc:
                raise KeyFileError(f"the ssh-agent stopped while signing with key {self.label} ({exc})") from None
            except SSHException as exc:
                raise KeyFileError(f"the ssh-agent refused to sign with key {self.label} ({exc}); was it added "
                                   "with a confirmation (-c) that was declined?") from None
        if kind != "ssh-ed25519" or not verify_signature(self._public_raw, signature, message):
            raise KeyFileError(f"the ssh-agent returned a signature that does not verify with key {self.label}")
        return signature

    @classmethod
    def generate(cls) -> "Signer":
        raise KeyFileError("an agent key is made with ssh-keygen and added with ssh-add, not by golive")


def agent_signer(public_raw: bytes, label: str = "") -> AgentSigner:
    """The agent signer for ``public_raw``, refused at once (not at the first checkpoint) when
    the agent is unreachable or does not hold the key."""
    signer = AgentSigner(public_raw, label)
    signer.check()
    return signer


def public_pem(public_raw: bytes) -> bytes:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    return Ed25519PublicKey.from_public_bytes(public_raw).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def marker_path(keys_dir: Path, key_id: str, suffix: str) -> Path:
    return Path(keys_dir) / f"{key_id}{suffix}"


__all__ = ["PROTECTIONS", "STORE_KEY_ENV", "STORE_KEY_FILE_ENV", "AgentSigner", "agent_signer",
           "environment_signer", "public_pem", "secret_values", "select_agent_key", "RAW"]
