"""Ed25519 signing keys for the ledger: key files, passphrases, key ids, rotation.

A key directory (``<store>/keys/`` by default) holds, per key, ``<key_id>.key`` (PKCS#8 PEM,
file mode 0600, encrypted when a passphrase is given) and ``<key_id>.pub`` (SubjectPublicKeyInfo
PEM), plus ``current`` naming the key that signs new checkpoints. The key id is the hex sha256
of the raw 32-byte public key, so anyone holding the public key can recompute it.

The passphrase comes from the caller (the CLI prompts) or ``GOLIVE_KEY_PASSPHRASE``; it is never
written anywhere. A key held by an ssh-agent or provided by the environment has no ``.key`` file:
``<key_id>.agent`` or ``<key_id>.env`` says where it is (``golive.ledger.keysource``).

Every file here is written whole or not at all (a temporary file, fsync, ``os.replace``, fsync of
the folder), so a crash never leaves half a key or an empty ``current``: at most a hidden
``.<name>.<pid>.tmp``, never read as a key and removed before the next key is written; see
``keyring.rotate_key`` for how a rotation recovers from an interruption between its steps.
"""
from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import psutil
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PASSPHRASE_ENV = "GOLIVE_KEY_PASSPHRASE"
TEMPORARY = re.compile(r"\..+\.(\d+)\.tmp")  # write_atomic's ".<name>.<pid>.tmp"
RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw
OPENSSH_PUBLIC_PREFIXES = (b"ssh-", b"ecdsa-", b"sk-")  # key types of an OpenSSH .pub line


class KeyFileError(Exception):
    """A key file is missing, unreadable, or needs a passphrase that was not given."""


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``path`` so that a crash leaves the old file or the whole new one, never a part:
    a temporary file created with ``mode`` (0600 for private keys: never readable by others,
    not even briefly), fsync, ``os.replace``, then fsync of the folder so the rename lasts."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)  # left by a crashed process of the same pid
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def key_id_of(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def load_private_pem(data: bytes, passphrase: str | None, where: str, ask: str,
                     loader=serialization.load_pem_private_key, make_one: str = ""):  # noqa: ANN001
    """A private key from ``data`` (``loader``: cryptography's PEM or OpenSSH loader), plain or
    encrypted. A plain key loads without the passphrase even when one is given (cryptography
    refuses a password for a plain key, and a passphrase set for other stores or keys must not
    break this one); an encrypted key needs it (``ask`` says how to give it; ``make_one`` is
    added when the data is no key at all). The parser's own messages are never repeated: they
    could quote the secret."""
    try:
        return loader(data, password=None)
    except TypeError:  # encrypted
        if not passphrase:
            raise KeyFileError(f"{where} is encrypted: {ask}") from None
    except ValueError:
        raise KeyFileError(f"{where} is not a PEM (PKCS#8) or OpenSSH private key{make_one}") from None
    try:
        return loader(data, password=passphrase.encode())
    except (TypeError, ValueError):
        raise KeyFileError(f"{where}: cannot decrypt it with the passphrase given (wrong passphrase?)") from None


@dataclass
class Signer:
    """A private key able to sign ledger heads; ``key_id`` names it in entries. ``protection``
    says how the key was kept (``keysource.PROTECTIONS``): runs record it, reports print it."""

    private_key: Ed25519PrivateKey
    protection: str = "none"

    @property
    def public_raw(self) -> bytes:
        return self.private_key.public_key().public_bytes(*RAW)

    @property
    def key_id(self) -> str:
        return key_id_of(self.public_raw)

    @property
    def public_b64(self) -> str:
        return b64(self.public_raw)

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(message)

    @classmethod
    def generate(cls) -> "Signer":
        return cls(Ed25519PrivateKey.generate())


def verify_signature(public_raw: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


def load_public_key(spec: str) -> bytes:
    """Raw public key bytes from a file (PEM SubjectPublicKeyInfo, or an OpenSSH ``ssh-ed25519
    AAAA... comment`` line such as ssh-keygen's ``.pub``: what ``keys init --agent`` users hold),
    an OpenSSH line given inline, or base64 of the raw key."""
    path = Path(spec)
    if path.is_file():
        return parse_public_key(path.read_bytes(), str(path))
    if spec.lstrip().encode().startswith(OPENSSH_PUBLIC_PREFIXES):
        return parse_public_key(spec.encode(), f"{spec[:40]!r}")
    try:
        raw = unb64(spec)
    except ValueError:
        raise KeyFileError(f"{spec!r} is neither a public key file nor a base64 Ed25519 key") from None
    if len(raw) != 32:
        raise KeyFileError(f"{spec!r}: an Ed25519 public key is 32 bytes, got {len(raw)}")
    return raw


def parse_public_key(data: bytes, where: str) -> bytes:
    """Raw Ed25519 public key from PEM or OpenSSH public key text; anything else is refused
    naming ``where`` and what it holds."""
    openssh = data.lstrip().startswith(OPENSSH_PUBLIC_PREFIXES)
    try:
        key = (serialization.load_ssh_public_key(data.strip()) if openssh
               else serialization.load_pem_public_key(data))
    except (ValueError, TypeError) as exc:
        kind = "an OpenSSH public key line" if openssh else "a PEM public key"
        raise KeyFileError(f"{where}: not {kind} ({exc}); give the key's .pub (PEM or "
                           "`ssh-ed25519 AAAA...`) or its raw bytes in base64") from None
    except UnsupportedAlgorithm as exc:
        raise KeyFileError(f"{where}: unsupported key type ({exc}); golive signs with Ed25519 only") from None
    if not isinstance(key, Ed25519PublicKey):
        kind = data.split()[0].decode("ascii", "replace") if openssh else type(key).__name__.removesuffix("PublicKey")
        raise KeyFileError(f"{where}: holds an {kind} key, not Ed25519 (golive signs with Ed25519 only)")
    return key.public_bytes(*RAW)


class KeyDirectory:
    """The key files of one store (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def _private_path(self, key_id: str) -> Path:
        return self.path / f"{key_id}.key"

    def public_path(self, key_id: str) -> Path:
        return self.path / f"{key_id}.pub"

    @property
    def current_id(self) -> str | None:
        marker = self.path / "current"
        if not marker.is_file():
            return None
        text = marker.read_text().strip()
        return text or None

    def set_current(self, key_id: str) -> None:
        write_atomic(self.path / "current", (key_id + "\n").encode("ascii"))

    def key_ids(self) -> list[str]:
        if not self.path.is_dir():
            return []
        return sorted(p.stem for p in self.path.glob("*.pub"))

    def has_private(self, key_id: str) -> bool:
        """Whether this store can sign with ``key_id``: a key file, or a marker saying the
        ssh-agent or the environment holds it."""
        return self.source(key_id) is not None

    def source(self, key_id: str) -> str | None:
        """"file", "agent", "environment", or None when the store knows no private half."""
        from golive.ledger.keysource import AGENT_MARKER, ENV_MARKER

        if self._private_path(key_id).is_file():
            return "file"
        if (self.path / f"{key_id}{AGENT_MARKER}").is_file():
            return "agent"
        if (self.path / f"{key_id}{ENV_MARKER}").is_file():
            return "environment"
        return None

    def is_protected(self, key_id: str) -> bool:
        """True when the private key file is encrypted (needs a passphrase), or kept out of the
        store (agent, environment). False for a plain PKCS#8 file: whoever can read it can sign
        as the store."""
        if self.source(key_id) in ("agent", "environment"):
            return True
        try:
            with open(self._private_path(key_id), "rb") as f:
                return f.readline().strip() == b"-----BEGIN ENCRYPTED PRIVATE KEY-----"
        except OSError:
            return False

    def remove_stale_temporaries(self) -> list[Path]:
        """Delete what :func:`write_atomic` leaves when its process dies mid-write (e.g. half a new
        private key, never read as a key): temporary files of processes no longer running. Run
        before writing a key (under the store's key lock); returns the files removed."""
        removed = []
        for path in self.path.glob(".*.tmp") if self.path.is_dir() else []:
            match = TEMPORARY.fullmatch(path.name)
            if match and not psutil.pid_exists(int(match.group(1))):
                path.unlink(missing_ok=True)
                removed.append(path)
        return removed

    def adopt(self, signer: Signer, where: str, note: str = "", make_current: bool = True) -> None:
        """Make ``signer`` (an agent or environment key) a key of this store without its private
        half: the marker naming where it is (``where``: "agent" | "environment", ``note``: what
        tells the key apart there, e.g. its fingerprint), then the public key, then ``current``."""
        from golive.ledger.keysource import AGENT_MARKER, ENV_MARKER

        self.path.mkdir(parents=True, exist_ok=True)
        os.chmod(self.path, 0o700)
        self.remove_stale_temporaries()
        marker = self.path / f"{signer.key_id}{AGENT_MARKER if where == 'agent' else ENV_MARKER}"
        write_atomic(marker, (note or where).encode() + b"\n")
        write_atomic(self.public_path(signer.key_id), Ed25519PublicKey.from_public_bytes(signer.public_raw)
                     .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        if make_current:
            self.set_current(signer.key_id)

    def create(self, passphrase: str | None = None, make_current: bool = True) -> Signer:
        """Generate a key pair and write it; the private key file is created 0600 from the
        start (never world-readable, not even briefly)."""
        self.path.mkdir(parents=True, exist_ok=True)
        os.chmod(self.path, 0o700)
        self.remove_stale_temporaries()
        signer = Signer.generate()
        signer.protection = "passphrase" if passphrase else "none"
        encryption = (serialization.BestAvailableEncryption(passphrase.encode())
                      if passphrase else serialization.NoEncryption())
        pem = signer.private_key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8, encryption)
        # private first: a crash in between leaves a .key without .pub, which no listing shows
        write_atomic(self._private_path(signer.key_id), pem, 0o600)
        write_atomic(self.public_path(signer.key_id), signer.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        if make_current:
            self.set_current(signer.key_id)
        return signer

    def forget(self, key_id: str) -> None:
        """Undo :meth:`adopt` of a key the ledger did not record: ``current`` first, then its files."""
        from golive.ledger.keysource import AGENT_MARKER, ENV_MARKER

        if self.current_id == key_id:
            (self.path / "current").unlink()
        for suffix in (".pub", AGENT_MARKER, ENV_MARKER):
            (self.path / f"{key_id}{suffix}").unlink(missing_ok=True)

    def load(self, key_id: str | None = None, passphrase: str | None = None, other_env_key_ok: bool = False) -> Signer:
        """The signer for ``key_id`` (default: current) from the environment, the ssh-agent or its
        file. A key in the environment that is not this one is refused (CI meant it to sign)
        unless ``other_env_key_ok`` (a rotation to that key loads the old one)."""
        key_id = key_id or self.current_id
        if key_id is None:
            raise KeyFileError(f"no current key in {self.path}; run `golive keys init`")
        from golive.ledger import keysource

        provided = keysource.environment_signer()
        if provided is not None and provided.key_id == key_id:
            return provided  # injected by the environment: it wins over any file
        path, where = self._private_path(key_id), self.source(key_id)
        if provided is not None and where in ("file", "agent") and not other_env_key_ok:
            raise KeyFileError(f"{keysource.STORE_KEY_ENV}/{keysource.STORE_KEY_FILE_ENV} holds key "
                               f"{provided.key_id[:16]}..., but this store signs with key {key_id[:16]}... "
                               f"({'its ssh-agent key' if where == 'agent' else 'its key file'}): unset the "
                               "variable for this store, or make that key the store's with `golive keys rotate "
                               "--from-env`")
        if where == "agent":
            note = (self.path / f"{key_id}{keysource.AGENT_MARKER}").read_text().strip()
            return keysource.agent_signer(self.public_raw(key_id), f"{key_id[:16]}... ({note})")
        if where != "file":
            given = f"; {provided.key_id[:16]}... is the key given there" if provided else ""
            if where == "environment":
                raise KeyFileError(f"the store's key {key_id[:16]}... is provided by the environment: set "
                                   f"{keysource.STORE_KEY_ENV} (PEM) or {keysource.STORE_KEY_FILE_ENV} (a file)"
                                   + given)
            raise KeyFileError(f"private key {key_id[:16]}... not found at {path}" + given)
        if passphrase is None:
            passphrase = os.environ.get(PASSPHRASE_ENV) or None
        key = load_private_pem(path.read_bytes(), passphrase, str(path),
                               f"give its passphrase (--passphrase prompt or {PASSPHRASE_ENV})")
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFileError(f"{path} is not an Ed25519 private key")
        signer = Signer(key, protection="passphrase" if self.is_protected(key_id) else "none")
        if signer.key_id != key_id:
            raise KeyFileError(f"{path} holds key {signer.key_id}, not {key_id}: file renamed?")
        return signer

    def public_raw(self, key_id: str) -> bytes:
        return load_public_key(str(self.public_path(key_id)))
