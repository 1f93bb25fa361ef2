"""Keys as the ledger knows them: recording a public key, rotation, and the default signer.

A key enters the ledger through a ``key`` entry (``action`` add | rotate | revoke) holding the
raw public key (base64) and its id, signed by the key itself (proof of possession). The first
ledger key is the trust anchor; a later ledger key is added by rotation (signed by the old key
and the new one) or endorsed by an active ledger key. Person keys (attestations, waivers) are
added with ``role: person``, endorsed by the ledger key, from the public key alone
(``golive.ledger.people``: the private key stays with the person), with ``name``,
``person_role`` and ``valid_until``.
"""
from __future__ import annotations

import fcntl
import json
import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Callable

from sqlalchemy import text
from sqlalchemy.engine import Connection

from golive.ledger.chain import NO_RUN, Ledger, LedgerError
from golive.ledger.keys import KeyDirectory, KeyFileError, Signer
from golive.ledger.keysource import environment_signer
from golive.ledger.secrets import redact
from golive.ledger.store import Store, payload_bytes


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def recorded_keys(store: Store, conn: Connection | None = None) -> dict[str, dict]:
    """key_id -> {"role", "status", "seq", "name", "public_key"; person keys: "person_role",
    "valid_until", "login"; revoked: "revoked_at", "revoked_seq"} from the ledger's key entries, in order.
    Reads the payloads as stored; ``verify`` is what checks their signatures. Pass ``conn`` to
    read inside a transaction the caller holds."""
    if conn is None:
        with store.read() as own:
            return recorded_keys(store, own)
    keys: dict[str, dict] = {}
    rows = conn.execute(text("SELECT seq, payload FROM ledger_entries WHERE kind = 'key' ORDER BY seq"))
    for seq, payload in rows:
        body = json.loads(payload_bytes(payload))
        key_id = body.get("key_id", "")
        if body.get("action") in ("add", "rotate"):
            keys[key_id] = {"role": body.get("role", "ledger"), "status": "active", "seq": seq,
                            "name": body.get("name", ""), "public_key": body.get("public_key", "")}
            keys[key_id].update({k: body[k] for k in ("person_role", "valid_until", "login") if k in body})
            if body.get("action") == "rotate" and body.get("replaces") in keys:
                keys[body["replaces"]]["status"] = "retired"
        elif body.get("action") == "revoke" and key_id in keys:
            keys[key_id].update(status="revoked", revoked_at=body.get("time", ""), revoked_seq=seq)
    return keys


def active_ledger_key(store: Store, conn: Connection | None = None) -> str | None:
    active = [k for k, v in recorded_keys(store, conn).items() if v["role"] == "ledger" and v["status"] == "active"]
    return active[-1] if active else None


def key_payload(signer: Signer, action: str, role: str, name: str = "", replaces: str = "") -> dict:
    payload = {"action": action, "algorithm": "ed25519", "key_id": signer.key_id,
               "public_key": signer.public_b64, "role": role, "time": utc_now()}
    if name:
        payload["name"] = name
    if replaces:
        payload["replaces"] = replaces
    return payload


def record_key(store: Store, signer: Signer, role: str = "ledger", name: str = "",
               endorser: Signer | None = None) -> int:
    """Append an ``add`` entry for ``signer``'s public key; returns its seq."""
    signers = [(signer, "self")] + ([(endorser, "endorse")] if endorser else [])
    return Ledger(store).append(NO_RUN, "key", key_payload(signer, "add", role, name), signers).seq


def rotate_key(store: Store, old: Signer, passphrase: str | None = None,
               held: tuple[Signer, str, str] | None = None) -> Signer:
    """Create a new ledger key, record the rotation signed by the old and the new key, and make
    the new key current. The old private key stays on disk (it can still prove old checkpoints
    were its own) but verify rejects its signatures after the rotation entry.

    Crash-atomic, in three steps, each whole or not at all: (1) the new key's files (written
    atomically; an interruption leaves an unused key file, nothing else), (2) the rotation
    entry (one transaction), (3) ``keys/current`` (``os.replace``). The ledger is the truth: an
    interruption between (2) and (3) is finished by :func:`reconcile_current`, which every
    signer lookup runs first; rotating ``old`` again then completes that rotation instead of
    refusing. ``held`` = (signer, "agent" | "environment", note) rotates to a key kept outside
    the store (step 1 then writes its marker and public key, never a private file)."""
    keydir = KeyDirectory(store.keys_dir)
    with _key_lock(store):
        reconcile_current(store)
        active = active_ledger_key(store)
        if active != old.key_id and recorded_keys(store).get(old.key_id, {}).get("status") == "retired" \
                and keydir.current_id == active:
            return _load_completed(keydir, old, active, passphrase)
        if active != old.key_id:
            raise LedgerError(f"key {old.key_id[:16]} is not the ledger's active key; nothing to rotate")
        if held is not None:
            new = held[0]
            keydir.adopt(new, held[1], held[2], make_current=False)
        else:
            new = keydir.create(passphrase, make_current=False)
        Ledger(store).append(NO_RUN, "key", key_payload(new, "rotate", "ledger", replaces=old.key_id),
                             [(old, "old-key"), (new, "self")])
        keydir.set_current(new.key_id)
        return new


def _load_completed(keydir: KeyDirectory, old: Signer, active: str, passphrase: str | None) -> Signer:
    """The key that an earlier, interrupted rotation of ``old`` put in place."""
    try:
        return keydir.load(active, passphrase)
    except KeyFileError as exc:
        raise LedgerError(f"key {old.key_id[:16]}... was already rotated to {active[:16]}... (an interrupted "
                          f"rotation, now completed: keys/current names it), but that key cannot be loaded: "
                          f"{exc}") from None


def reconcile_current(store: Store) -> str | None:
    """Make ``keys/current`` agree with the ledger after a rotation interrupted between its
    ledger entry and the switch of ``current``: when ``current`` names a key the ledger has
    retired (or is gone) and the ledger's active key has its private file here, ``current``
    becomes that key. Returns the key id switched to, else None. A ``current`` naming a key the
    ledger never retired is left alone: that is a wrong or foreign key, and callers say so."""
    keydir = KeyDirectory(store.keys_dir)
    active = active_ledger_key(store)
    current = keydir.current_id
    if active is None or current == active or not keydir.has_private(active):
        return None
    if current is not None and recorded_keys(store).get(current, {}).get("status") != "retired":
        return None
    keydir.set_current(active)
    return active


AUTHORED_KINDS = ("attestation", "waiver", "correction", "revocation", "signoff")


def append_authored(store: Store, kind: str, payload: dict, author: Signer, run_id: str = NO_RUN):
    """Append an entry a person authors (``attestation``, ``waiver``, ``correction``,
    ``revocation``), signed with their key, which must be recorded first (``record_key(...,
    role="person", endorser=ledger key)``). The payload is redacted like every other; the
    author's key id and the time are added."""
    if kind not in AUTHORED_KINDS:
        raise LedgerError(f"{kind!r} is not an authored entry kind ({', '.join(AUTHORED_KINDS)})")
    known = recorded_keys(store).get(author.key_id)
    if known is None or known["status"] != "active":
        raise LedgerError(f"key {author.key_id[:16]}... is not an active key of this ledger; record it "
                          "first with record_key(store, key, role='person', endorser=<ledger key>)")
    body = {**redact(payload), "author_key_id": author.key_id, "time": utc_now()}
    return Ledger(store).append(run_id, kind, body, [(author, "author")])


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


@contextmanager
def _key_lock(store: Store):
    """Serialises key creation between processes, so two first runs on a fresh store do not
    each create and record a key of their own."""
    store.keys_dir.mkdir(parents=True, exist_ok=True)
    with open(store.keys_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def adopt_key(store: Store, signer: Signer, where: str, note: str = "") -> Signer:
    """Make a key held by the ssh-agent or the environment the signing key of a store that has
    none yet (``golive keys init --agent / --from-env``) and record its public key."""
    with _key_lock(store):
        keydir = KeyDirectory(store.keys_dir)
        if keydir.current_id or active_ledger_key(store):
            raise KeyFileError(f"{keydir.path} already has a signing key; use `golive keys rotate` to replace it")
        keydir.adopt(signer, where, note)
        try:
            record_key(store, signer)  # signs: the agent may refuse here (a declined ssh-add -c)
        except BaseException:
            keydir.forget(signer.key_id)  # no current key naming a key the ledger never recorded
            raise
        return signer


def default_signer(store: Store, passphrase: str | None = None, create: bool = True,
                   announce: Callable[[str], None] = _stderr) -> Signer:
    with _key_lock(store):
        return _default_signer(store, passphrase, create, announce)


def _default_signer(store: Store, passphrase: str | None, create: bool,
                    announce: Callable[[str], None]) -> Signer:
    """The key that signs this store's checkpoints: ``<store>/keys/current``. With no key at
    all (a fresh store) one is created and recorded, and ``announce`` says so. Refuses, with
    the fix in the message, when the ledger's active key is not the one on disk."""
    keydir = KeyDirectory(store.keys_dir)
    finished = reconcile_current(store)
    if finished:
        announce(f"golive: finished an interrupted key rotation: {keydir.path}/current now names the "
                 f"ledger's active key {finished[:16]}...")
    active = active_ledger_key(store)
    if keydir.current_id is None:
        if active is not None:
            raise KeyFileError(f"the ledger at {store.path} is signed by key {active[:16]}..., but "
                               f"{keydir.path} holds no current key: restore that key's files, or "
                               "point --store at the right store")
        if not create:
            raise KeyFileError(f"no signing key in {keydir.path}; run `golive keys init`")
        signer = environment_signer()
        if signer is not None:  # CI injected the key: adopt it, never write it down
            keydir.adopt(signer, "environment")
            announce(f"golive: the store's signing key is {signer.key_id[:16]}..., provided by the environment")
        else:
            signer = keydir.create(passphrase)
            how = ("encrypted with the passphrase given" if passphrase else
                   "no passphrase; protect it: `golive keys init --passphrase`, --agent or --from-env")
            announce(f"golive: created signing key {signer.key_id[:16]}... in {keydir.path} ({how})")
    else:
        signer = keydir.load(passphrase=passphrase)
    if active is None:
        record_key(store, signer)
    elif active != signer.key_id:
        raise KeyFileError(f"{keydir.path}/current names key {signer.key_id[:16]}..., but the ledger's "
                           f"active key is {active[:16]}...: use `golive keys rotate` to change keys")
    return signer
