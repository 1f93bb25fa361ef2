"""Test helper: enrol a person the way people are enrolled for real -- `golive keys person-init`
writes their passphrase-protected key outside the store, `golive keys add-person` registers the
public key -- and scan a store for private key material of people.

Person keys of the test session live in one temporary folder (``GOLIVE_PERSON_KEYS``) and share
the passphrase in ``GOLIVE_PERSON_PASSPHRASE``, so signing commands in tests find them."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from golive.ledger.people import KEYS_ENV, PASSPHRASE_ENV, PRIVATE_MARKERS, slug

PASSPHRASE = "correct horse battery staple"


def person_keys() -> Path:
    if not os.environ.get(KEYS_ENV):
        os.environ[KEYS_ENV] = tempfile.mkdtemp(prefix="golive-person-keys-")
    os.environ.setdefault(PASSPHRASE_ENV, PASSPHRASE)
    return Path(os.environ[KEYS_ENV])


def public_key_of(invoke, name: str) -> Path:
    """The .pub of ``name``'s key in the session's person key folder, created on first use."""
    folder = person_keys()
    found = sorted(folder.glob(f"{slug(name)}-*.pub"))
    if not found:
        res = invoke("keys", "person-init", "--name", name, "--out", folder)
        assert res.exit_code == 0, res.output
        found = sorted(folder.glob(f"{slug(name)}-*.pub"))
    return found[0]


def enrol(invoke, name: str, *where, role: str = "risk", login: str = "") -> Path:
    """person-init (once per name) + add-person in the store ``where`` (``--store DIR [--db URL]``)."""
    pub = public_key_of(invoke, name)
    extra = ("--login", login) if login else ()
    res = invoke("keys", "add-person", name, "--role", role, "--public-key", pub, *where, *extra)
    assert res.exit_code == 0, res.output
    return pub.with_suffix(".key")


def private_key_files(store: Path) -> list[Path]:
    """Files under ``store`` holding private key material other than the store's own ledger
    keys (``keys/<id>.key`` whose id is a key file's public half: golive's signing key)."""
    from golive.ledger.keyring import recorded_keys
    from golive.ledger.store import Store

    store = Path(store)
    ledger_ids = set()
    if (store / "ledger.db").is_file():
        ledger_ids = {k for k, v in recorded_keys(Store(store)).items() if v["role"] == "ledger"}
    found = []
    for path in store.rglob("*"):
        if not path.is_file():
            continue
        own = path.parent == store / "keys" and path.suffix == ".key" and path.stem in ledger_ids
        if not own and any(marker in path.read_bytes() for marker in PRIVATE_MARKERS):
            found.append(path)
    return found



def co_approve(invoke, first_output: str, requirement_id: str, *where, name: str = "Bea Compliance") -> str:
    """Enrol ``name`` (role compliance) in the store of ``where`` (``--store DIR [--db URL]
    --target DIR``), unless registered there already, and co-approve the waiver whose `golive
    waive` output is ``first_output``: a P1 waiver needs two people under the shipped plan's
    waiver policy. Returns the co-approval's output."""
    import re

    seq = re.search(r"recorded as entry (\d+)", first_output).group(1)
    store = [x for i, a in enumerate(where[:-1]) if a in ("--store", "--db") for x in (a, where[i + 1])]
    added = invoke("keys", "add-person", name, "--role", "compliance", "--public-key", public_key_of(invoke, name), *store)
    assert added.exit_code == 0 or "already recorded" in added.output, added.output
    res = invoke("waive", requirement_id, "--approver", name, "--second-to", seq, *where)
    assert res.exit_code == 0, res.output
    return res.output
