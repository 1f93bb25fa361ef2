"""``golive evidence correct`` and ``revoke`` (new signed entries naming an old one: nothing
stored is edited), ``export --record SEQ --with-trail`` (:func:`export_record`) and
``verify-trail`` (offline, public keys only). See docs/retention.md.

Exit codes: 0 done / verified, 1 the trail does not verify, 2 bad input (unknown entry, an
entry of a kind that cannot be revoked, one revoked already; a file that is not a trail).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from sqlalchemy import text
from rich.markup import escape
from rich.table import Table

from golive.ledger.chain import NO_RUN
from golive.ledger.cli import _fail_input, _guard, _open, err, evidence, out, store_options
from golive.ledger.cli_people import person_signer, signing_options
from golive.ledger.cli_tlog import _signer
from golive.ledger.keyring import append_authored, recorded_keys
from golive.ledger.keys import load_public_key
from golive.ledger.proofs import NotADocumentError, ProofError, trusted_keys
from golive.ledger.show import revocations
from golive.ledger.store import Store
from golive.ledger.trail import REVOCABLE, _body, entry_row, make_trail
from golive.ledger.trail_verify import TrailEntry, TrailReport, verify_trail
from golive.ledger.treestore import TreeIndexError


def _target(store: Store, seq: int) -> tuple:
    with store.read() as conn:
        row = entry_row(conn, seq)
        size = conn.execute(text("SELECT max(seq) FROM ledger_entries")).scalar() or 0
    if row is None:
        _fail_input(f"entry {seq} is not in the ledger at {store.path} (it has {size} entries); "
                    "`golive evidence show` lists runs and their entries")
    return row


def _author(store: Store, by: str, key_file: Path | None, passphrase_env: str | None):  # noqa: ANN201
    """(signer, recorded name) of the person ``by``, from their own key file and passphrase."""
    person = person_signer(store, by, key_file, passphrase_env)[0]
    return person, recorded_keys(store)[person.key_id].get("name", "")


reason_option = click.option("--reason", required=True, help="Why, in the author's words (recorded, signed).")
by_option = click.option("--by", "by", required=True, metavar="NAME|KEYID",
                         help="The person signing it (name or key id prefix of a person key).")


@evidence.command()
@store_options
@click.argument("seq", type=click.IntRange(1))
@reason_option
@by_option
@click.option("--note", default="", help="What the right record is (free text).")
@signing_options
def correct(store_dir, db_url, seq, reason, by, note, key_file, passphrase_env) -> None:
    """Record a signed correction of entry SEQ. The entry itself is never changed: the
    correction is a new entry naming it (and its hash), shown in its trail. Exit 2: no entry SEQ."""
    store = _guard(lambda: _open(store_dir, db_url))
    row = _target(store, seq)
    person, name = _author(store, by, key_file, passphrase_env)
    payload = {"corrects": seq, "corrects_entry_hash": row[5], "corrects_kind": row[2], "reason": reason, "by": name}
    if note:
        payload["note"] = note
    done = _guard(lambda: append_authored(store, "correction", payload, person, NO_RUN))
    out.print(f"correction of entry {seq} ({row[2]}) recorded as entry {done.seq}, signed by {person.key_id[:16]}...")


@evidence.command()
@store_options
@click.argument("seq", type=click.IntRange(1))
@reason_option
@by_option
@signing_options
def revoke(store_dir, db_url, seq, reason, by, key_file, passphrase_env) -> None:
    """Revoke the attestation or waiver recorded as entry SEQ: from the revocation's entry on,
    later runs no longer apply it; runs before keep the state they recorded. Exit 2: no entry
    SEQ, an entry that is no attestation or waiver, or one revoked already."""
    store = _guard(lambda: _open(store_dir, db_url))
    row = _target(store, seq)
    if row[2] not in REVOCABLE:
        _fail_input(f"entry {seq} is a {row[2]} entry: only attestations and waivers can be revoked "
                    f"(record a correction instead: golive evidence correct {seq} --reason ...)")
    with store.read() as conn:
        earlier = revocations(conn).get(seq)
    if earlier is not None:
        _fail_input(f"entry {seq} was revoked already, by entry {earlier['seq']} ({earlier['by']}: {earlier['reason']})")
    person, name = _author(store, by, key_file, passphrase_env)
    body = _body(row[3])
    payload = {"revokes": seq, "revokes_entry_hash": row[5], "revokes_kind": row[2], "reason": reason, "by": name,
               "requirement_id": body.get("requirement_id")}
    done = _guard(lambda: append_authored(store, "revocation", payload, person, NO_RUN))
    out.print(f"{row[2]} {seq} for {body.get('requirement_id')} revoked by entry {done.seq}: runs from now on "
              "no longer apply it")


def export_record(store_dir, db_url, seq: int, output: Path | None, ask: bool) -> None:  # noqa: ANN001
    """``export --record SEQ --with-trail``: write the record's audit trail (trail.py) as JSON."""
    store = _guard(lambda: _open(store_dir, db_url))
    _target(store, seq)
    try:
        trail = make_trail(store, seq, _signer(store, ask))
    except (ProofError, TreeIndexError) as exc:
        _fail_input(str(exc))
    output = output or Path(f"golive-record-{seq}.trail.json")
    output.write_text(json.dumps(trail, indent=1) + "\n", encoding="utf-8")
    roles: dict[str, int] = {}
    for e in trail["entries"]:
        roles[e["role"]] = roles.get(e["role"], 0) + 1
    out.print(f"wrote {output}: entry {seq} and {len(trail['entries']) - 1} related entries "
              f"({', '.join(f'{n} {r}' for r, n in sorted(roles.items()) if r != 'record') or 'none'}), "
              f"proved in the signed tree of size {trail['checkpoint'].split(chr(10))[1]}")


def describe(e: TrailEntry) -> str:
    b = e.body
    if e.kind in ("correction", "revocation"):
        target = b.get("corrects") if e.kind == "correction" else b.get("revokes")
        return f"{e.kind} of entry {target} by {b.get('by', '?')}: {b.get('reason', '')}" + (
            f" ({b['note']})" if b.get("note") else "")
    if e.kind in ("result", "attestation", "waiver"):
        status = b.get("status") or (f"until {b.get('expires')}" if e.kind == "waiver" else "")
        who = b.get("approver") or b.get("attested_by") or ""
        return f"{e.kind} {b.get('requirement_id', '?')} {status}" + (f" by {who}" if who else "")
    if e.kind == "key":
        return f"key {b.get('action')} {str(b.get('key_id', ''))[:16]} ({' '.join(filter(None, (b.get('role'), b.get('name'))))})"
    return f"{e.kind} of run {e.run_id[:12]}"


def _print(report: TrailReport) -> None:
    rec = report.original
    out.print(f"[green]OK[/green] entry {rec.seq} ({escape(describe(rec))}) and {len(report.entries) - 1} related "
              f"entries are in log {report.origin} at tree size {report.size}")
    revoked = [e for e in report.referring(rec.seq) if e.kind == "revocation"]
    corrected = [e for e in report.referring(rec.seq) if e.kind == "correction"]
    if revoked:
        out.print(f"  REVOKED from entry {revoked[0].seq} on ({escape(describe(revoked[0]))})")
    if corrected:
        out.print(f"  corrected by {len(corrected)} entr{'y' if len(corrected) == 1 else 'ies'}: "
                  f"{', '.join(str(e.seq) for e in corrected)}")
    for e, held in report.authored_state():
        revoked = [r.seq for r in report.referring(e.seq) if r.kind == "revocation"]
        out.print(f"  {e.kind} {e.seq}: {'in force' if held else 'not in force'} when this run ended"
                  + (f"; revoked from entry {revoked[0]} on" if revoked else ""))
    table = Table("seq", "role", "run", "what", "signed by", title=f"audit trail of entry {rec.seq}")
    for e in report.entries:
        table.add_row(str(e.seq), e.role, e.run_id[:8], escape(describe(e)), ", ".join(e.signed_by))
    out.print(table)
    if report.blobs or report.blobs_left_out:
        out.print(f"  artifact copies: {report.blobs} verified" + (
            f", {len(report.blobs_left_out)} too large to include (check them in the store)" if report.blobs_left_out else ""))


@evidence.command("verify-trail")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--trusted-key", "trusted", multiple=True, required=True, metavar="VKEY|PUBFILE|BASE64",
              help="The log's public key (repeatable): a C2SP vkey, a .pub file or base64.")
@click.option("--json", "as_json", is_flag=True, help="Print the verified trail as JSON.")
@click.option("--origin", help="Require the checkpoint to name this log.")
def verify_trail_cmd(path, trusted, as_json, origin) -> None:
    """Check a record's audit trail (`evidence export --record SEQ --with-trail`) offline: every
    entry, its inclusion in the signed checkpoint, the signatures and references. Exit 0
    verified, 1 does not verify, 2 unreadable input."""
    keys_ = _guard(lambda: trusted_keys(trusted, load_public_key))
    data = _guard(lambda: path.read_bytes()).decode("utf-8", "replace")  # not UTF-8: not JSON, not a trail
    try:
        report = verify_trail(data, keys_, origin)
    except NotADocumentError as exc:
        _fail_input(f"{path}: {exc}")
    except ProofError as exc:
        out.print(f"[red]FAILED[/red] {escape(str(exc))}")
        sys.exit(1)
    if as_json:
        click.echo(json.dumps({"ok": True, "record": report.record, "origin": report.origin, "size": report.size,
                               "entries": [{"seq": e.seq, "kind": e.kind, "role": e.role, "run_id": e.run_id,
                                            "signed_by": e.signed_by, "payload": e.body} for e in report.entries],
                               "revoked_by": [e.seq for e in report.referring(report.record) if e.kind == "revocation"],
                               "corrected_by": [e.seq for e in report.referring(report.record) if e.kind == "correction"],
                               "in_force": {e.seq: held for e, held in report.authored_state()},
                               "blobs": report.blobs, "blobs_left_out": report.blobs_left_out}, indent=1))
        return
    _print(report)
    err.print(f"signed by {', '.join(s.split('+')[0] for s in report.signers)}")
