"""People's signing keys: kept in the person's own config directory, never in the store.

``golive keys person-init`` writes ``<name>-<key id[:8]>.key`` (PKCS#8 PEM, always encrypted with
the person's passphrase, mode 0600) and ``.pub`` (SubjectPublicKeyInfo PEM) to the person key
directory: ``$GOLIVE_PERSON_KEYS``, else ``$XDG_CONFIG_HOME/golive/keys``, else
``~/.config/golive/keys``. An existing OpenSSH Ed25519 key (``~/.ssh/id_ed25519``, protected by a
passphrase) may be used instead. The store only ever receives the public key, through a ``key``
entry an administrator adds (:func:`register_person`), with the person's name, role and
validity; :func:`revoke_key` ends a key with a ``key`` entry of action ``revoke``.

A signing command loads the person's private key from their file with their passphrase (prompt,
``--passphrase-env VAR`` or ``GOLIVE_PERSON_PASSPHRASE``), and :func:`signing_person` refuses a
key that is not registered, revoked, or outside its validity today.
"""
from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from golive.ledger.chain import NO_RUN, Ledger, LedgerError
from golive.ledger.keyring import recorded_keys, utc_now
from golive.ledger.keys import RAW, KeyFileError, Signer, b64, key_id_of, write_atomic
from golive.ledger.store import Store

PASSPHRASE_ENV = "GOLIVE_PERSON_PASSPHRASE"
KEYS_ENV = "GOLIVE_PERSON_KEYS"
#: what a private key looks like on disk; the store must never hold one (tests scan for these)
PRIVATE_MARKERS = (b"PRIVATE KEY-----", b"-----BEGIN OPENSSH PRIVATE KEY-----", b"openssh-key-v1")


def person_key_dir() -> Path:
    if os.environ.get(KEYS_ENV):
        return Path(os.environ[KEYS_ENV])
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "golive" / "keys"


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "person"


def create_person_key(folder: Path, name: str, passphrase: str) -> tuple[Signer, Path, Path]:
    """A new Ed25519 key for ``name`` in ``folder``, encrypted with ``passphrase`` (required)."""
    if not passphrase:
        raise KeyFileError("a person's key must be protected by a passphrase; none was given")
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    signer = Signer.generate()
    stem = folder / f"{slug(name)}-{signer.key_id[:8]}"
    pem = signer.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.BestAvailableEncryption(passphrase.encode()))
    private, public = stem.with_suffix(".key"), stem.with_suffix(".pub")
    write_atomic(private, pem, 0o600)
    write_atomic(public, public_pem(signer.private_key.public_key()))
    return signer, private, public


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_person_key(path: Path, passphrase: str | None) -> Signer:
    """The private key in ``path`` (PKCS#8 PEM or OpenSSH), which must be passphrase-protected."""
    if not passphrase:
        raise KeyFileError(f"{path}: a passphrase is needed to sign (prompted, --passphrase-env VAR or "
                           f"{PASSPHRASE_ENV}); signing without one is refused")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read the person key {path}: {exc.strerror or exc}; give --key FILE or "
                           "create one with `golive keys person-init`") from None
    if data.lstrip().startswith(b"-----BEGIN PRIVATE KEY-----"):
        raise KeyFileError(f"{path} is not protected by a passphrase: a person's key must be "
                           "(re-create it with `golive keys person-init`)")
    openssh = b"-----BEGIN OPENSSH PRIVATE KEY-----" in data
    loader = serialization.load_ssh_private_key if openssh else serialization.load_pem_private_key
    try:
        key = loader(data, password=passphrase.encode())
    except TypeError:  # an OpenSSH key without encryption, given a password
        raise KeyFileError(f"{path} is not protected by a passphrase: protect it with "
                           "`ssh-keygen -p -f FILE` or use `golive keys person-init`") from None
    except ValueError as exc:
        if openssh or "password" in str(exc).lower() or "decrypt" in str(exc).lower():
            raise KeyFileError(f"{path}: wrong passphrase (or a damaged key file)") from None
        raise KeyFileError(f"{path} is neither a PEM nor an OpenSSH private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} is not an Ed25519 key (golive signs with Ed25519)")
    return Signer(key)


def load_person_public(path: Path) -> bytes:
    """Raw public key from a PEM ``.pub``, an OpenSSH ``ssh-ed25519 AAAA...`` line, or an OpenSSH
    private key file's ``.pub`` sibling."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read the public key {path}: {exc.strerror or exc}") from None
    if any(marker in data for marker in PRIVATE_MARKERS):
        raise KeyFileError(f"{path} holds a PRIVATE key: give the person's public key (.pub) only; "
                           "a person's private key never enters the store")
    try:
        key = (serialization.load_ssh_public_key(data.strip()) if data.lstrip().startswith(b"ssh-")
               else serialization.load_pem_public_key(data))
    except ValueError as exc:
        raise KeyFileError(f"{path}: not a PEM or OpenSSH public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{path}: not an Ed25519 public key")
    return key.public_bytes(*RAW)


def find_private_for(key_id: str, folder: Path | None = None) -> Path:
    """The key file in the person key directory whose public key has id ``key_id``."""
    folder = folder or person_key_dir()
    for pub in sorted(folder.glob("*.pub")) if folder.is_dir() else []:
        try:
            if key_id_of(load_person_public(pub)) == key_id and pub.with_suffix(".key").is_file():
                return pub.with_suffix(".key")
        except KeyFileError:
            continue
    raise KeyFileError(f"no key file for key {key_id[:16]}... in {folder}; give --key FILE (your private "
                       "key file, or your OpenSSH key)")


def register_person(store: Store, public_raw: bytes, name: str, role: str, valid_until: date | None,
                    ledger_key: Signer, login: str = "") -> int:
    """Append a ``key`` entry for a person's public key (no private part, hence no self-signature),
    endorsed by the ledger key; returns its seq."""
    key_id = key_id_of(public_raw)
    known = recorded_keys(store).get(key_id)
    if known is not None:
        raise LedgerError(f"key {key_id[:16]}... is already recorded ({known['role']}, {known['status']}, "
                          f"entry {known['seq']})")
    payload = {"action": "add", "algorithm": "ed25519", "key_id": key_id, "public_key": b64(public_raw),
               "role": "person", "name": name, "person_role": role, "time": utc_now()}
    if valid_until:
        payload["valid_until"] = valid_until.isoformat()
    if login:
        payload["login"] = login
    return Ledger(store).append(NO_RUN, "key", payload, [(ledger_key, "endorse")]).seq


def revoke_key(store: Store, key_id: str, reason: str, ledger_key: Signer) -> int:
    known = recorded_keys(store).get(key_id)
    if known is None or known["status"] == "revoked":
        raise LedgerError(f"key {key_id[:16]}... is {'not recorded' if known is None else 'already revoked'}")
    payload = {"action": "revoke", "key_id": key_id, "reason": reason, "time": utc_now()}
    return Ledger(store).append(NO_RUN, "key", payload, [(ledger_key, "endorse")]).seq


def check_usable(info: dict, key_id: str, today: date | None = None) -> None:
    """Refuse a person key that is revoked, retired or past its validity."""
    today = today or date.today()
    if info.get("role") != "person":
        raise LedgerError(f"key {key_id[:16]}... is not a person key")
    if info.get("status") != "active":
        raise LedgerError(f"key {key_id[:16]}... of {info.get('name') or '?'} is {info.get('status')}: it "
                          "cannot sign; an administrator registers a new key with `golive keys add-person`")
    until = info.get("valid_until")
    if until and date.fromisoformat(until) < today:
        raise LedgerError(f"key {key_id[:16]}... of {info.get('name') or '?'} was valid until {until}; "
                          "an administrator registers a new key with `golive keys add-person`")


def select_person(store: Store, who: str) -> tuple[str, dict]:
    """(key id, recorded info) of the active person key named by ``who`` (name or key id prefix)."""
    people = {k: v for k, v in recorded_keys(store).items() if v["role"] == "person"}
    active = {k: v for k, v in people.items() if v["status"] == "active"}
    matches = [k for k, v in active.items() if v.get("name") == who] or [k for k in active if k.startswith(who)]
    if len(matches) != 1:
        gone = [k for k, v in people.items() if (v.get("name") == who or k.startswith(who)) and v["status"] != "active"]
        why = f" ({len(gone)} revoked or retired)" if gone and not matches else ""
        # Names and key ids are public registrations: listing them tells the user what --by takes.
        named = matches or list(active)
        known = "; ".join(f"{active[k].get('name') or '?'} ({active[k].get('person_role') or '-'}) "
                          f"{k[:12]}" for k in named[:10]) or "none registered"
        raise LedgerError(f"{who!r} names {len(matches)} active person keys{why}; give the person's whole name or a "
                          f"unique key id prefix (active: {known}; `golive keys list`; register one with "
                          "`golive keys add-person`)")
    return matches[0], active[matches[0]]


def signing_person(store: Store, who: str, key_file: Path | None, passphrase: str | None) -> tuple[Signer, dict]:
    """The person's signer, loaded from their own key file, after checking the key is registered,
    active and valid today and that the file holds that very key."""
    key_id, info = select_person(store, who)
    check_usable(info, key_id)
    signer = load_person_key(key_file or find_private_for(key_id), passphrase)
    if signer.key_id != key_id:
        raise KeyFileError(f"{key_file} holds key {signer.key_id[:16]}..., but {who!r} is registered with key "
                           f"{key_id[:16]}...")
    return signer, info
