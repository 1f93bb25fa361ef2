"""Commands for entries a person authors: ``golive keys add-person``, ``golive evidence attest``
and ``golive evidence waive``. Each entry is signed with the person's own key, which the
ledger key endorses when it is added, so verify can tell who vouched for what.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from golive.digest import file_sha256
from golive.ledger.cli import _fail_input, _guard, _open, _passphrase, evidence, keys, out, store_options
from golive.ledger.keyring import append_authored, default_signer, record_key, recorded_keys
from golive.ledger.keys import KeyDirectory
from golive.ledger.secrets import Redactor


def _person(store, who: str, ask: bool):
    """The person key named by ``who``: the name given to `golive keys add-person`, or a unique
    prefix of a recorded person key id."""
    people = {k: v for k, v in recorded_keys(store).items() if v["role"] == "person" and v["status"] == "active"}
    matches = [k for k, v in people.items() if v.get("name") == who] or [k for k in people if k.startswith(who)]
    if len(matches) != 1:
        _fail_input(f"{who!r} names {len(matches)} active person keys; give the person's name or a unique "
                    "key id prefix from `golive keys list` (add one with `golive keys add-person NAME`)")
    return _guard(lambda: KeyDirectory(store.keys_dir).load(matches[0], _passphrase(ask)))


def _attach(store, files: tuple[Path, ...]) -> list[dict]:
    redactor, blobs = Redactor(), []
    for path in files:
        copy, redacted = redactor.blob(path.read_bytes())
        blobs.append({"path": path.name, "sha256": file_sha256(path), "blob": store.put_blob(copy),
                      "size": len(copy), "redacted": redacted, "role": "attestation"})
    return blobs


@keys.command("add-person")
@store_options
@click.argument("name")
@click.option("--passphrase", "ask", is_flag=True, help="Protect the new key with a passphrase (prompted).")
def add_person(store_dir, db_url, name, ask) -> None:
    """Create a signing key for a person (an approver) and record it, endorsed by the ledger key."""
    store = _guard(lambda: _open(store_dir, db_url))
    ledger_key = _guard(lambda: default_signer(store, create=False))
    person = KeyDirectory(store.keys_dir).create(_passphrase(ask, confirm=True), make_current=False)
    seq = _guard(lambda: record_key(store, person, role="person", name=name, endorser=ledger_key))
    out.print(f"person key for {name}: {person.key_id} (entry {seq}); hand the .key file to its owner")


@click.command()
@store_options
@click.argument("requirement_id")
@click.option("--by", "by", required=True, metavar="NAME|KEYID", help="The attesting person (name or key id prefix).")
@click.option("--role", default="", help="The person's role, e.g. 'Head of Trading Risk'.")
@click.option("--note", "--statement", "statement", required=True, help="What the person verified, in their words.")
@click.option("--expires", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last day the attestation holds (YYYY-MM-DD); none: it does not expire.")
@click.option("--file", "files", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Evidence file to store with the attestation (repeatable; secrets masked).")
@click.option("--run", "run_id", default="-", metavar="RUN", help="Run the attestation belongs to.")
@click.option("--passphrase", "ask", is_flag=True, help="Prompt for the person key's passphrase.")
def attest(store_dir, db_url, requirement_id, by, role, statement, expires, files, run_id, ask) -> None:
    """Record a signed attestation that a (manual) requirement was verified.

    Later runs count the requirement as verified while the attestation has not expired."""
    if expires is not None and expires.date() < date.today():
        _fail_input(f"--expires {expires.date()} is in the past")
    store = _guard(lambda: _open(store_dir, db_url))
    person = _person(store, by, ask)
    name = recorded_keys(store)[person.key_id].get("name", "")
    payload = {"requirement_id": requirement_id, "statement": statement, "status": "pass",
               "attested_by": name, "role": role, "expires": expires.date().isoformat() if expires else None}
    blobs = _attach(store, files)
    if blobs:
        payload["blobs"] = blobs
    done = _guard(lambda: append_authored(store, "attestation", payload, person, run_id))
    out.print(f"attestation for {requirement_id} recorded as entry {done.seq}, signed by {person.key_id[:16]}...")


@click.command()
@store_options
@click.argument("requirement_id")
@click.option("--approver", "--by", "by", required=True, metavar="NAME|KEYID",
              help="The approver (name or key id prefix of a person key).")
@click.option("--reason", "--justification", "justification", required=True, help="Why the requirement may be waived.")
@click.option("--expires", required=True, type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Last day the waiver holds (YYYY-MM-DD).")
@click.option("--passphrase", "ask", is_flag=True, help="Prompt for the approver key's passphrase.")
def waive(store_dir, db_url, requirement_id, by, justification, expires, ask) -> None:
    """Record a signed, expiring waiver for a requirement."""
    if expires.date() < date.today():
        _fail_input(f"--expires {expires.date()} is in the past")
    store = _guard(lambda: _open(store_dir, db_url))
    person = _person(store, by, ask)
    name = recorded_keys(store)[person.key_id].get("name", "")
    payload = {"requirement_id": requirement_id, "justification": justification,
               "expires": expires.date().isoformat(), "approver": name}
    done = _guard(lambda: append_authored(store, "waiver", payload, person))
    out.print(f"waiver for {requirement_id} until {payload['expires']} recorded as entry {done.seq}")


evidence.add_command(attest)
evidence.add_command(waive)
