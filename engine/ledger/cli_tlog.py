"""``golive evidence`` commands of the transparency log: ``checkpoint`` (a signed tree head),
``prove`` (inclusion), ``consistency``, ``verify-proof`` (offline, public keys only) and
``migrate`` (format v1 store -> v2: tree index plus a signed tree head in the ledger); and
``golive keys vkey`` (the C2SP verifier keys of the ledger keys).
"""
from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import click
from sqlalchemy import text

from golive.ledger.chain import NO_RUN, Ledger, first_entry_hash, log_origin
from golive.ledger.checkpoint import CheckpointError, TreeCheckpoint
from golive.ledger.cli import _fail_input, _guard, _open, _passphrase, err, evidence, keys, out, store_options
from golive.ledger.keyring import default_signer, recorded_keys, utc_now
from golive.ledger.keys import load_public_key, unb64
from golive.ledger.note import parse_checkpoint, vkey
from golive.ledger.store import payload_bytes
from golive.ledger.proofs import (CONSISTENCY_FORMAT, PROOF_HEADER, ProofError, consistency_proof, inclusion_proof,
                                  recorded_checkpoint, signed_checkpoint, trusted_keys, verify_consistency_json,
                                  verify_inclusion_text)
from golive.ledger.treestore import TreeIndexError, rebuild, stored_size
from golive.ledger.verify import verify_store

PROOF_ERRORS = (ProofError, TreeIndexError, CheckpointError)


def _write(result: str, output: Path | None) -> None:
    if output is None:
        click.echo(result, nl=False)
    else:
        output.write_text(result, encoding="utf-8")
        err.print(f"wrote {output}")


def _signer(store, ask: bool):  # noqa: ANN001
    return lambda: _guard(lambda: default_signer(store, _passphrase(ask), create=False))


def _entry_seq(store, spec: str) -> int:  # noqa: ANN001
    """ENTRY as a sequence number or a unique prefix (8+ hex digits) of an entry hash."""
    if spec.isdigit():
        return int(spec)
    if len(spec) < 8 or any(c not in "0123456789abcdef" for c in spec):
        _fail_input(f"ENTRY {spec!r} must be an entry number (seq) or at least 8 hex digits of an entry hash")
    with store.read() as conn:
        seqs = [s for (s,) in conn.execute(text("SELECT seq FROM ledger_entries WHERE entry_hash LIKE :p LIMIT 2"),
                                           {"p": spec + "%"})]
    if len(seqs) != 1:
        _fail_input(f"{len(seqs) or 'no'} entries have a hash starting with {spec}; give more digits or the seq")
    return seqs[0]


def _ready(store, conn) -> None:  # noqa: ANN001
    size = conn.execute(text("SELECT max(seq) FROM ledger_entries")).scalar() or 0
    if size == 0:
        _fail_input(f"the ledger at {store.path} is empty: nothing to prove")
    if stored_size(conn) < size:
        _fail_input(f"the store at {store.path} has no tree index for its {size} entries (format v1): "
                    "run `golive evidence migrate` first")


@evidence.command("checkpoint")
@store_options
@click.option("--size", type=int, help="Tree size (entries) to sign; default: the whole ledger.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE.")
@click.option("--passphrase", "ask", is_flag=True, help="Prompt for the signing key's passphrase.")
def checkpoint_cmd(store_dir, db_url, size, output, ask) -> None:
    """Print the log's signed C2SP checkpoint (origin, tree size, root hash): keep it, and later
    `evidence consistency FILE` or `evidence verify --checkpoint FILE` proves the ledger extends it."""
    store = _guard(lambda: _open(store_dir, db_url))
    with store.read() as conn:
        _ready(store, conn)
        if size is None:
            size = conn.execute(text("SELECT max(seq) FROM ledger_entries")).scalar()
        note = _guard_proof(lambda: signed_checkpoint(conn, size, _signer(store, ask)))
    _write(note, output)


def _guard_proof(fn):  # noqa: ANN001
    try:
        return fn()
    except PROOF_ERRORS as exc:
        _fail_input(str(exc))


@evidence.command()
@store_options
@click.argument("entry")
@click.option("--size", type=int, help="Prove against the tree of this many entries; default: the newest "
              "checkpoint recorded after the entry, else the whole ledger (signed now).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the proof to FILE.")
@click.option("--passphrase", "ask", is_flag=True, help="Prompt for the signing key's passphrase (fresh heads).")
def prove(store_dir, db_url, entry, size, output, ask) -> None:
    """Print a C2SP tlog-proof that ENTRY (seq or entry-hash prefix) is in the signed log.

    The proof carries the entry, its audit path and the signed checkpoint; `golive evidence
    verify-proof FILE --trusted-key KEY` checks it offline with the public key alone."""
    store = _guard(lambda: _open(store_dir, db_url))
    seq = _entry_seq(store, entry)
    with store.read() as conn:
        _ready(store, conn)
        proof = _guard_proof(lambda: inclusion_proof(conn, seq, size, _signer(store, ask)))
    _write(_with_cosignatures(store.path, proof), output)


def _with_cosignatures(store_path: Path, proof: str) -> str:
    """The proof with the witnesses' cosignatures kept for its checkpoint, if any."""
    from golive.ledger.cli_witness import cosigned_path, merge_signatures
    body, _, checkpoint = proof.partition("\n\n")
    head, note = parse_checkpoint(checkpoint)
    kept = cosigned_path(store_path, head.size)
    if not kept.is_file():
        return proof
    text = kept.read_text(encoding="utf-8")
    if parse_checkpoint(text)[1].text != note.text:
        return proof  # another tree of that size: verify tells which the ledger holds
    return body + "\n\n" + merge_signatures(checkpoint, text.partition("\n\n")[2])


def _checkpoint_arg(spec: str | None) -> str | int | None:
    if spec is None or spec == "latest":
        return None
    if spec.isdigit():
        return int(spec)
    path = Path(spec)
    if not path.is_file():
        _fail_input(f"{spec}: neither a tree size nor a checkpoint file")
    data = _guard(lambda: path.read_text(encoding="utf-8"))
    _guard(lambda: TreeCheckpoint.parse_text(data, spec))
    return data


@evidence.command()
@store_options
@click.argument("old")
@click.argument("new", required=False)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the proof to FILE.")
@click.option("--passphrase", "ask", is_flag=True, help="Prompt for the signing key's passphrase (fresh heads).")
def consistency(store_dir, db_url, old, new, output, ask) -> None:
    """Prove the log at NEW extends the log at OLD (each a tree size or a saved checkpoint
    file; NEW defaults to the newest checkpoint). Exit 1 if the ledger no longer matches OLD."""
    store = _guard(lambda: _open(store_dir, db_url))
    old_cp, new_cp = _checkpoint_arg(old), _checkpoint_arg(new)
    if old_cp is None:
        _fail_input("OLD must be a tree size or a checkpoint file")
    with store.read() as conn:
        _ready(store, conn)
        try:
            proof = consistency_proof(conn, old_cp, new_cp, _signer(store, ask))
        except ProofError as exc:
            err.print(f"[red]FAILED[/red] {exc}")
            sys.exit(1 if "different root" in str(exc) else 2)
        except PROOF_ERRORS as exc:
            _fail_input(str(exc))
    _write(proof, output)


@evidence.command("verify-proof")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--trusted-key", "trusted", multiple=True, required=True, metavar="VKEY|PUBFILE|BASE64",
              help="The log's public key (repeatable): a C2SP vkey, a .pub file or base64.")
@click.option("--origin", help="Require the checkpoint to name this log.")
@click.option("--entry-hash", help="For a proof without the entry: the entry hash it must prove.")
@click.option("--witness", "witnesses", multiple=True, metavar="VKEY", help="A witness's verifier key (repeatable).")
@click.option("--min-witnesses", type=click.IntRange(1), metavar="K",
              help="Require K cosignatures by --witness keys on the (new) checkpoint.")
def verify_proof(path, trusted, origin, entry_hash, witnesses, min_witnesses) -> None:
    """Check an inclusion (tlog-proof) or consistency proof offline, with public keys only.
    Exit 0 verified, 1 does not verify, 2 unreadable input."""
    keys_ = _guard(lambda: trusted_keys(trusted, load_public_key))
    try:
        data = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _fail_input(f"{path}: cannot read ({exc})")
    try:
        if data.startswith(PROOF_HEADER):
            v = verify_inclusion_text(data, keys_, origin, entry_hash)
            e = v.entry or {}
            what = f"entry {e.get('seq', '?')} ({e.get('kind', '?')}, run {e.get('run_id', '?')})" if e else "the entry"
            out.print(f"[green]OK[/green] {what} is in log {v.origin} at tree size {v.size}")
        elif data.lstrip().startswith("{") and CONSISTENCY_FORMAT in data:
            v = verify_consistency_json(data, keys_, origin)
            out.print(f"[green]OK[/green] log {v.origin}: the tree at size {v.size} extends the tree at size {v.old_size}")
        else:
            _fail_input(f"{path}: neither a {PROOF_HEADER} nor a {CONSISTENCY_FORMAT} proof")
    except ProofError as exc:
        out.print(f"[red]FAILED[/red] {exc}")
        sys.exit(1)
    out.print(f"  root {base64.b64encode(v.root).decode()}; signed by {', '.join(s.split('+')[0] for s in v.signers)}")
    if min_witnesses:
        from golive.ledger.cli_witness import count_or_fail, witness_keys
        good = count_or_fail(v.checkpoint, witness_keys(witnesses), min_witnesses)
        out.print(f"  cosigned by {len(good)} witness(es): {', '.join(good)}")


@evidence.command()
@store_options
@click.option("--passphrase", "ask", is_flag=True, help="Prompt for the signing key's passphrase.")
def migrate(store_dir, db_url, ask) -> None:
    """Bring a store to format v2: verify it, build the Merkle tree index from its entries and
    record a signed C2SP checkpoint of the whole log. Safe to repeat. Exit 1 if it does not verify."""
    store = _guard(lambda: _open(store_dir, db_url))
    report = verify_store(store, check_blobs=False)
    if not report.ok:
        out.print(f"[red]FAILED[/red] the ledger does not verify, so it is not migrated: {report.first_problem}")
        sys.exit(1)
    signer = _guard(lambda: default_signer(store, _passphrase(ask), create=False))
    with store.write() as conn:
        leaves = _guard_proof(lambda: rebuild(conn))
    with store.read() as conn:
        size = conn.execute(text("SELECT max(seq) FROM ledger_entries")).scalar() or 0
        last = recorded_checkpoint(conn, after=size - 2) if size > 1 else None
        origin = log_origin(first_entry_hash(conn) or "")
    out.print(f"tree index rebuilt: {leaves} leaves; log origin {origin}")
    if last is not None and last[0] == size - 1:
        out.print(f"already migrated: the last entry is a signed checkpoint of the tree at size {size - 1}")
        return
    done = Ledger(store).append(NO_RUN, "checkpoint", lambda seq, _prev, _conn: {
        "size": seq, "key_id": signer.key_id, "time": utc_now(), "reason": "migrated to format v2"},
        [(signer, "checkpoint")])
    out.print(f"recorded a signed checkpoint of the first {done.seq - 1} entries as entry {done.seq}")


@keys.command("vkey")
@store_options
def vkey_cmd(store_dir, db_url) -> None:
    """Print the C2SP verifier key (name+hash+key) of each ledger key, for `verify-proof`."""
    store = _guard(lambda: _open(store_dir, db_url))
    with store.read() as conn:
        origin = log_origin(first_entry_hash(conn) or "")
        rows = conn.execute(text("SELECT payload FROM ledger_entries WHERE kind = 'key'")).all()
    public = {}
    for (payload,) in rows:
        body = json.loads(payload_bytes(payload))
        if body.get("public_key"):
            public[body["key_id"]] = body["public_key"]
    for key_id, info in recorded_keys(store).items():
        if info["role"] == "ledger" and key_id in public:
            out.print(f"{vkey(origin, unb64(public[key_id]))}  ({info['status']}, key {key_id[:16]}...)")
