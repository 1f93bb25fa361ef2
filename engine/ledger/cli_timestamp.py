"""``golive evidence timestamp`` (an RFC 3161 token from a TSA for the log's signed checkpoint,
kept beside it in ``<store>/checkpoints/<size>.tsr``) and ``golive evidence verify-timestamp``
(offline: the token, the checkpoint and the TSA's certificate).
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from golive.ledger.cli import _fail_input, _guard, _open, _passphrase, err, evidence, out, store_options
from golive.ledger.cli_witness import cosigned_path, merge_signatures
from golive.ledger.keyring import default_signer
from golive.ledger.note import NoteError, parse_checkpoint
from golive.ledger.proofs import signed_checkpoint
from golive.ledger.treestore import TreeIndexError


@evidence.command("timestamp")
@store_options
@click.option("--tsa", "tsa_url", required=True, metavar="URL", help="The time-stamping authority's URL (RFC 3161).")
@click.option("--size", type=int, help="Tree size to stamp; default: the newest recorded checkpoint.")
@click.option("--passphrase", "ask", is_flag=True, help="Prompt for the signing key's passphrase (fresh heads).")
def timestamp_cmd(store_dir, db_url, tsa_url, size, ask) -> None:
    """Get an RFC 3161 timestamp token for the log's signed checkpoint (its note text) and keep
    both in <store>/checkpoints/: proof that this tree head existed at that time."""
    store = _guard(lambda: _open(store_dir, db_url))
    with store.read() as conn:
        try:
            checkpoint = signed_checkpoint(conn, size, lambda: _guard(
                lambda: default_signer(store, _passphrase(ask), create=False)))
        except (ValueError, TreeIndexError) as exc:
            _fail_input(str(exc))
    from golive.ledger.timestamp import TimestampError, request_token  # rfc3161-client: only when used
    head, note = parse_checkpoint(checkpoint)
    try:
        token = request_token(tsa_url, note.text.encode())
    except TimestampError as exc:
        _fail_input(str(exc))
    kept = cosigned_path(store.path, head.size)
    kept.parent.mkdir(exist_ok=True)
    if kept.is_file() and parse_checkpoint(kept.read_text(encoding="utf-8"))[1].text == note.text:
        checkpoint = merge_signatures(kept.read_text(encoding="utf-8"), checkpoint.partition("\n\n")[2])
    kept.write_text(checkpoint, encoding="utf-8")
    kept.with_suffix(".tsr").write_bytes(token)
    err.print(f"kept {kept} and {kept.with_suffix('.tsr')}")
    out.print(f"timestamped the tree at size {head.size} ({tsa_url})")


@evidence.command("verify-timestamp")
@click.argument("checkpoint", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("token", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tsa-cert", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The TSA's certificate (PEM), followed by the certificates that issued it up to a root unless it is self-signed.")
def verify_timestamp(checkpoint, token, tsa_cert) -> None:
    """Check that TOKEN (a .tsr) is the TSA's timestamp of CHECKPOINT's tree head, offline.
    Exit 0 verified, 1 does not verify, 2 unreadable input."""
    from golive.ledger.timestamp import TimestampError, describe, verify_token
    try:
        _head, note = parse_checkpoint(checkpoint.read_text(encoding="utf-8"))
        data, cert = token.read_bytes(), tsa_cert.read_bytes()
    except (NoteError, OSError, UnicodeDecodeError) as exc:
        _fail_input(f"{checkpoint}: {exc}")
    try:
        stamp = verify_token(data, note.text.encode(), cert)
    except TimestampError as exc:
        out.print(f"[red]FAILED[/red] {exc}")
        sys.exit(1)
    out.print(f"[green]OK[/green] tree head {note.text.splitlines()[1]} of {note.text.splitlines()[0]} existed at "
              f"{describe(stamp)}")
