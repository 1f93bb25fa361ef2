"""``golive evidence witness init|serve`` (a witness: its own process, key and state) and
``golive evidence witness submit`` (send the log's signed checkpoint to witnesses and keep their
cosignatures in ``<store>/checkpoints/<size>.checkpoint``). ``evidence verify`` and
``verify-proof`` take ``--witness VKEY --min-witnesses K`` to require K cosignatures, and
``evidence verify --ask-witness URL`` (:func:`ask_witnesses`) asks witnesses online for the newest
tree they cosigned, which the ledger must hold.

Exit codes of ``submit``: 0 every witness cosigned, 1 a witness refused (the log is not
consistent with what it saw: treat it as tampering), 2 a witness could not be reached or asked
(nothing was checked against it).
"""
from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from golive.ledger.cli import _fail_input, _guard, _open, _passphrase, err, evidence, out, store_options
from golive.ledger.keyring import default_signer
from golive.ledger.keys import Signer
from golive.ledger.note import NoteError, check_name, parse_checkpoint, parse_vkey, vkey
from golive.ledger.proofs import signed_checkpoint
from golive.ledger.treestore import TreeIndexError
from golive.ledger.witness import COSIGNATURE, Witness, create_witness_key, serve
from golive.ledger.witnessing import WitnessCheck, collect_cosignatures, merge_signatures  # noqa: F401 -- merge: cli_timestamp


def cosigned_path(store_path: Path, size: int) -> Path:
    return store_path / "checkpoints" / f"{size}.checkpoint"


def newest_cosigned(store_path: Path) -> str | None:
    """The cosigned checkpoint of the largest tree kept in the store, if any."""
    files = sorted((store_path / "checkpoints").glob("*.checkpoint"), key=lambda p: int(p.stem) if p.stem.isdigit() else -1)
    return files[-1].read_text(encoding="utf-8") if files else None


def witness_keys(specs: tuple[str, ...]) -> list[tuple[str, bytes]]:
    try:
        return [parse_vkey(spec, COSIGNATURE) for spec in specs]
    except NoteError as exc:
        _fail_input(f"--witness: {exc} (give the vkey `golive evidence witness init` printed)")


def _load_key(path: Path) -> Signer:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        _fail_input(f"{path}: cannot read the witness key ({exc}); create one with `golive evidence witness init`")
    if not isinstance(key, Ed25519PrivateKey):
        _fail_input(f"{path}: not an Ed25519 private key")
    return Signer(key)


@evidence.group()
def witness() -> None:
    """Witnesses: run one (init, serve) or have the log's checkpoint cosigned (submit)."""


@witness.command("init")
@click.option("--key", "key_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name", required=True, help="The witness's name, e.g. witness.example/w1 (no spaces or '+').")
def witness_init(key_path, name) -> None:
    """Create the witness's Ed25519 key (mode 0600) and print its vkey for verifiers."""
    _guard(lambda: check_name(name))
    if key_path.exists():
        _fail_input(f"{key_path} exists; a witness keeps its key")
    out.print(vkey(name, create_witness_key(key_path).public_raw, COSIGNATURE))


@witness.command("serve")
@click.option("--key", "key_path", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name", required=True, help="The name given to `golive evidence witness init`.")
@click.option("--state", "state_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="JSON file of the latest cosigned checkpoint per log (created).")
@click.option("--log", "logs", multiple=True, required=True, metavar="VKEY",
              help="A log's verifier key (`golive keys vkey`); repeatable.")
@click.option("--listen", default="127.0.0.1:0", show_default=True, help="HOST:PORT (0: any free port).")
def witness_serve(key_path, name, state_path, logs, listen) -> None:
    """Serve POST /add-checkpoint (c2sp.org/tlog-witness) and, read-only, GET
    /logs/<origin>/checkpoint (the newest checkpoint cosigned for a log, for `golive evidence
    verify --ask-witness`) until interrupted."""
    signer = _load_key(key_path)
    trusted: dict[str, list[bytes]] = {}
    for spec in logs:
        origin, raw = _guard(lambda spec=spec: parse_vkey(spec))
        trusted.setdefault(origin, []).append(raw)
    host, _, port = listen.rpartition(":")
    if not port.isdigit():
        _fail_input(f"--listen {listen!r} must be HOST:PORT")
    w = Witness(_guard(lambda: check_name(name)), signer, trusted, state_path)
    serve(w, host or "127.0.0.1", int(port), ready=lambda url: print(f"witness {name} listening on {url}", flush=True))


@witness.command("submit")
@store_options
@click.option("--url", "urls", multiple=True, required=True, help="A witness's URL prefix (repeatable).")
@click.option("--size", type=int, help="Tree size to have cosigned; default: the newest recorded checkpoint.")
@click.option("--passphrase", "ask", is_flag=True, help="Prompt for the signing key's passphrase (fresh heads).")
def evidence_witness(store_dir, db_url, urls, size, ask) -> None:
    """Send the log's signed checkpoint, with consistency proofs, to witnesses and keep their
    cosignatures. Exit 1 if a witness refuses (the log is inconsistent with what it saw), 2 if a
    witness cannot be reached (nothing was checked by it)."""
    store = _guard(lambda: _open(store_dir, db_url))
    refused = []
    with store.read() as conn:
        signer = lambda: _guard(lambda: default_signer(store, _passphrase(ask), create=False))  # noqa: E731
        try:
            checkpoint = signed_checkpoint(conn, size, signer)
        except (ValueError, TreeIndexError) as exc:
            _fail_input(str(exc))
        head, note = parse_checkpoint(checkpoint)
        target = cosigned_path(store.path, head.size)
        kept = target.read_text(encoding="utf-8") if target.is_file() else None
        if kept is not None and parse_checkpoint(kept)[1].text == note.text:
            checkpoint = kept
        elif kept is not None:  # keep the witnessed one: it is the evidence against this tree
            refused.append(f"the ledger's tree at size {head.size} differs from the cosigned checkpoint in "
                           f"{target}: the history was rewritten")
            target = target.with_name(f"{head.size}.unwitnessed")
        checkpoint, refusals, unreachable = collect_cosignatures(
            conn, checkpoint, list(urls), lambda url, n: out.print(f"{url}: cosigned the tree at size {n}"))
        refused += refusals
    target.parent.mkdir(exist_ok=True)
    target.write_text(checkpoint, encoding="utf-8")
    err.print(f"kept {target}")
    for message in refused:
        out.print(f"[red]REFUSED[/red] {escape(message)}")
    for message in unreachable:
        out.print(f"[yellow]NOT CHECKED[/yellow] {escape(message)}: not a refusal; try again when it answers")
    sys.exit(1 if refused else 2 if unreachable else 0)


def count_or_fail(checkpoint: str, witnesses: list[tuple[str, bytes]], minimum: int) -> list[str]:
    """The witnesses that cosigned ``checkpoint``; exits 1 when fewer than ``minimum``."""
    from golive.ledger.witness import count_cosigners
    good, bad = count_cosigners(checkpoint, witnesses)
    if bad or len(good) < minimum:
        why = "; ".join(bad) or f"{len(good)} of the {len(witnesses)} trusted witnesses cosigned it"
        out.print(f"[red]FAILED[/red] the checkpoint needs {minimum} witness cosignature(s): {why}")
        sys.exit(1)
    return good



def ask_witnesses(store, entries: int, urls: tuple[str, ...], witnesses: tuple[str, ...]) -> WitnessCheck:  # noqa: ANN001
    """``evidence verify --ask-witness``: what each witness at ``urls`` last cosigned, against the ledger."""
    from golive.ledger.witnessing import ask_witnesses as ask
    keys = witness_keys(witnesses)
    with store.read() as conn:
        return ask(conn, entries, list(urls), keys)


def print_asked(asked: WitnessCheck) -> None:
    for line in asked.consistent:
        out.print(f"  {escape(line)}")
    for line in asked.failed:
        out.print(f"[red]FAILED[/red] {escape(line)}")
    for line in asked.unchecked:
        out.print(f"[yellow]NOT CHECKED[/yellow] {escape(line)}")
