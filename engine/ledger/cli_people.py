"""``golive keys person-init``, ``add-person`` and ``revoke``, and the options every signing
command shares (``--key FILE``, ``--passphrase-env VAR``). A person's private key stays in their
own config directory (golive.ledger.people); the store receives public keys only.
"""
from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import Callable

import click

from golive.ledger.cli import _fail_input, _guard, _open, keys, out, store_options
from golive.ledger.keyring import default_signer, recorded_keys
from golive.ledger.keys import key_id_of
from golive.ledger.people import (PASSPHRASE_ENV, create_person_key, load_person_key, load_person_public,
                                  person_key_dir, public_pem, register_person, revoke_key, signing_person)


def signing_options(f: Callable) -> Callable:
    """``--key FILE`` and ``--passphrase-env VAR`` for a command a person signs."""
    f = click.option("--passphrase-env", "passphrase_env", metavar="VAR", default=None,
                     help=f"Read the key's passphrase from environment variable VAR (CI, tests); default: "
                          f"{PASSPHRASE_ENV} when set, else a prompt.")(f)
    return click.option("--key", "key_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="Your private key file (person-init's .key or an OpenSSH Ed25519 key); default: "
                             "the one in your config directory matching your registered key.")(f)


def read_passphrase(passphrase_env: str | None, confirm: bool = False) -> str:
    """The passphrase from ``--passphrase-env VAR``, ``GOLIVE_PERSON_PASSPHRASE`` or a prompt;
    exit 2 when none is given (a person's key is never used without one)."""
    if passphrase_env:
        value = os.environ.get(passphrase_env, "")
        if not value:
            _fail_input(f"--passphrase-env {passphrase_env}: that environment variable is empty or not set")
        return value
    if os.environ.get(PASSPHRASE_ENV):
        return os.environ[PASSPHRASE_ENV]
    try:
        value = click.prompt("Key passphrase", hide_input=True, confirmation_prompt=confirm, default="",
                             show_default=False)
    except click.Abort:
        _fail_input("a passphrase is required to use a person's key: type it, or give --passphrase-env VAR")
    if not value:
        _fail_input("an empty passphrase is refused: a person's key must be protected")
    return value


def person_signer(store, by: str, key_file: Path | None, passphrase_env: str | None):  # noqa: ANN001,ANN201
    """(signer, recorded info) of the person ``by``, from their own key file; exit 2 otherwise."""
    from golive.ledger.people import select_person

    _guard(lambda: select_person(store, by))  # an unknown person is refused before any prompt
    passphrase = read_passphrase(passphrase_env)
    return _guard(lambda: signing_person(store, by, key_file, passphrase))


@keys.command("person-init")
@click.option("--name", default="", help="Your name, as the administrator will register it (used in file names).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the key files; default: $XDG_CONFIG_HOME/golive/keys (~/.config/golive/keys).")
@click.option("--ssh-key", "ssh_key", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Use your existing OpenSSH Ed25519 key (passphrase-protected) instead of creating one.")
@click.option("--passphrase-env", "passphrase_env", metavar="VAR", default=None,
              help="Read the passphrase from environment variable VAR instead of prompting (twice).")
def person_init(name, out_dir, ssh_key, passphrase_env) -> None:
    """Create your passphrase-protected signing key in your own config directory (never in a
    store), or adopt your OpenSSH Ed25519 key; prints the public key file to hand to an
    administrator for `golive keys add-person`."""
    folder = out_dir or person_key_dir()
    passphrase = read_passphrase(passphrase_env, confirm=True)
    if ssh_key:
        signer = _guard(lambda: load_person_key(ssh_key, passphrase))
        folder.mkdir(parents=True, exist_ok=True)
        public = folder / f"{ssh_key.name}.golive.pub"
        public.write_bytes(public_pem(signer.private_key.public_key()))
        out.print(f"OpenSSH key {ssh_key} (key id {signer.key_id}); sign with --key {ssh_key}\n"
                  f"  public key for the administrator: {public}")
        return
    signer, private, public = _guard(lambda: create_person_key(folder, name or "person", passphrase))
    # shell-quoted so the administrator can paste it; printed as text (a name may hold [brackets])
    out.print(f"created person key {signer.key_id}\n  private (yours only, mode 0600): {private}\n"
              f"  public key for the administrator: {public}\n"
              f"  next: golive keys add-person {shlex.quote(name) if name else 'NAME'} --role ROLE "
              f"--public-key {shlex.quote(str(public))} --store DIR", markup=False)


@keys.command("add-person")
@store_options
@click.argument("name")
@click.option("--role", required=True, help="The person's role, e.g. risk, compliance, head-of-trading.")
@click.option("--public-key", "public_key", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The person's public key file (from `golive keys person-init`, or an OpenSSH .pub).")
@click.option("--valid-until", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Last day the key may sign (YYYY-MM-DD); default: until revoked.")
@click.option("--login", default="", help="The person's operating-system login, so golive knows when the person "
                                          "who ran a run signs it off (separation of duties).")
@click.option("--passphrase", "ask", is_flag=True, help="Prompt for the store's ledger key passphrase.")
def add_person(store_dir, db_url, name, role, public_key, valid_until, login, ask) -> None:
    """Register a person's PUBLIC key with name, role and validity (an administrator's act,
    endorsed by the ledger key). The private key never enters the store."""
    from golive.ledger.cli import _passphrase

    if public_key is None:
        _fail_input("golive no longer creates a person's private key in the store: the person runs "
                    "`golive keys person-init` on their own machine and gives you the .pub file for --public-key")
    raw = _guard(lambda: load_person_public(public_key))
    store = _guard(lambda: _open(store_dir, db_url, must_exist=False))
    ledger_key = _guard(lambda: default_signer(store, _passphrase(ask)))
    until = valid_until.date() if valid_until else None
    seq = _guard(lambda: register_person(store, raw, name, role, until, ledger_key, login))
    out.print(f"registered {name} ({role}) key {key_id_of(raw)} as entry {seq}"
              + (f", valid until {until}" if until else ""))


@keys.command("revoke")
@store_options
@click.argument("key_id")
@click.option("--reason", required=True, help="Why the key is revoked (recorded).")
@click.option("--passphrase", "ask", is_flag=True, help="Prompt for the store's ledger key passphrase.")
def revoke(store_dir, db_url, key_id, reason, ask) -> None:
    """Revoke a person key (an entry signed by the ledger key); signatures it makes afterwards
    are reported by `golive evidence verify`."""
    from golive.ledger.cli import _passphrase

    store = _guard(lambda: _open(store_dir, db_url))
    matches = [k for k in recorded_keys(store) if k.startswith(key_id)]
    if len(matches) != 1:
        _fail_input(f"{key_id!r} matches {len(matches)} recorded keys; `golive keys list` shows them")
    ledger_key = _guard(lambda: default_signer(store, _passphrase(ask), create=False))
    seq = _guard(lambda: revoke_key(store, matches[0], reason, ledger_key))
    out.print(f"revoked key {matches[0][:16]}... as entry {seq}")
