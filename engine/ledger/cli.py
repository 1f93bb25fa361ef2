"""``golive evidence`` (verify, show, export, verify-envelope) and ``golive keys`` (init,
rotate, list). Mounted by ``golive.cli`` with ``cli.add_command(evidence)`` and
``cli.add_command(keys)``.

Exit codes: 0 ok, 1 verification failed (tampering found), 2 usage or input error.
"""
from __future__ import annotations

import base64
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

import click
from rich.console import Console
from rich.table import Table
from rich.markup import escape

from golive.ledger.checkpoint import CheckpointError, parse_checkpoint
from golive.ledger.export import ExportError, export_runs, verify_envelope
from golive.ledger.integrity import require_intact
from golive.ledger.keyring import default_signer, recorded_keys, rotate_key
from golive.ledger.keys import KeyDirectory, KeyFileError, PASSPHRASE_ENV, load_public_key
from golive.ledger.keysource import STORE_KEY_ENV, STORE_KEY_FILE_ENV, environment_key_material
from golive.ledger.chain import LedgerError
from golive.ledger.store import Store, StoreError, open_store
from golive.ledger.verify import verify_store

out = Console(highlight=False, soft_wrap=True)  # long lines stay whole when piped or logged
err = Console(stderr=True, highlight=False, soft_wrap=True)
INPUT_ERRORS = (StoreError, KeyFileError, CheckpointError, ExportError, LedgerError, OSError)


def store_options(f: Callable) -> Callable:
    f = click.option("--db", "db_url", envvar="GOLIVE_DB", metavar="URL",
                     help="SQLAlchemy database URL (e.g. postgresql://...); default: SQLite in the store.")(f)
    return click.option("--store", "store_dir", envvar="GOLIVE_STORE", metavar="DIR",
                        type=click.Path(file_okay=False, path_type=Path),
                        help="Evidence store folder [env GOLIVE_STORE; default ./evidence].")(f)


def _fail_input(message: str) -> None:
    err.print(f"[red]error:[/red] {escape(str(message))}", markup=True)
    sys.exit(2)


def _open(store_dir: Path | None, db_url: str | None, must_exist: bool = True) -> Store:
    path = store_dir or Path.cwd() / "evidence"
    if must_exist and db_url is None and not (path / "ledger.db").exists():
        _fail_input(f"no evidence store at {path} (no ledger.db); give --store DIR or set GOLIVE_STORE")
    return open_store(path, db_url)


def _passphrase(ask: bool, confirm: bool = False) -> str | None:
    """For ``--passphrase``: GOLIVE_KEY_PASSPHRASE when set (no prompt: CI has no terminal), else
    a prompt; exit 2 saying what to set when there is nothing to prompt on."""
    if not ask:
        return None
    if os.environ.get(PASSPHRASE_ENV):
        return os.environ[PASSPHRASE_ENV]
    try:
        return click.prompt("Key passphrase", hide_input=True, confirmation_prompt=confirm) or None
    except click.Abort:
        if sys.stdin is not None and sys.stdin.isatty():
            raise  # Ctrl-C or Ctrl-D at the prompt: the user stopped
        _fail_input(f"--passphrase: no terminal to ask the passphrase on (input closed): set {PASSPHRASE_ENV} "
                    "to it, or run the command in a terminal")


def _guard(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except INPUT_ERRORS as exc:
        _fail_input(str(exc))


@click.group()
def evidence() -> None:
    """Verify, inspect and export the signed evidence ledger."""


@evidence.command()
@store_options
@click.option("--checkpoint", metavar="FILE|JSON",
              help="A signed C2SP checkpoint file (`golive evidence checkpoint`), or a ledger head "
                   "{size, head, checkpoint_signature, key_id} (or a results document holding one in "
                   "run.ledger): prove the ledger still extends it.")
@click.option("--trusted-key", "trusted", multiple=True, metavar="VKEY|PUBFILE|BASE64",
              help="Public key to pin as trust anchor (repeatable); default: the ledger's first key.")
@click.option("--no-blobs", is_flag=True, help="Skip re-hashing artifact blobs (chain and signatures only).")
@click.option("--witness", "witnesses", multiple=True, metavar="VKEY",
              help="A witness's verifier key (repeatable), for --min-witnesses and --ask-witness.")
@click.option("--min-witnesses", type=click.IntRange(1), metavar="K",
              help="Require the store's newest cosigned checkpoint to carry K cosignatures by --witness "
                   "keys, and the ledger to extend it (catches a history rewritten with the log's key).")
@click.option("--ask-witness", "ask_urls", multiple=True, metavar="URL",
              help="Ask this witness (repeatable; its answer must be cosigned by a --witness key) for the newest "
                   "tree it cosigned for this log: the ledger must hold it (catches a store cut back to an older "
                   "cosigned checkpoint, which offline checks cannot). Exit 2 if a witness cannot be asked.")
@click.option("--storage-check", type=click.Choice(["auto", "quick", "full", "off"]), default="auto", show_default=True,
              help="SQLite's own check first: full = PRAGMA integrity_check; quick = PRAGMA quick_check (every page "
                   "read, index contents not compared with their tables; O(N)); auto = full up to 256 MiB of database.")
@click.option("--json", "as_json", is_flag=True, help="Print the verification report as JSON.")
def verify(store_dir, db_url, checkpoint, trusted, no_blobs, witnesses, min_witnesses, ask_urls, storage_check,
           as_json) -> None:
    """Recompute every hash, link, signature and artifact digest of the store.

    Names the first entry or blob that does not match and why. Exit 0 when everything
    verifies, 1 when tampering is found (or a witness asked with --ask-witness cosigned a tree
    the ledger does not hold), 2 on bad input or when a witness cannot be asked.
    """
    cp = _guard(lambda: parse_checkpoint(checkpoint)) if checkpoint else None
    from golive.ledger.proofs import trusted_keys
    keys = [raw for _name, raw in _guard(lambda: trusted_keys(trusted, load_public_key))]
    store = _guard(lambda: _open(store_dir, db_url))
    storage = _guard(lambda: require_intact(store, storage_check))  # a damaged page is corruption, not tampering
    if ask_urls and not witnesses:
        _fail_input("--ask-witness needs the witnesses' vkeys (--witness VKEY) to check their answers")
    from golive.ledger.cli_witness import ask_witnesses, print_asked
    if min_witnesses:
        cp = _witnessed_checkpoint(store, witnesses, min_witnesses, cp)
    report = verify_store(store, cp, keys, check_blobs=not no_blobs)
    asked = ask_witnesses(store, report.entries, ask_urls, witnesses) if ask_urls else None
    if as_json:
        click.echo(json.dumps({
            "ok": report.ok, "entries": report.entries, "head": report.head, "runs": report.runs,
            "checkpoints": report.checkpoints, "signatures": report.signatures, "blobs": report.blobs,
            "last_checkpoint": report.last_checkpoint.to_dict() if report.last_checkpoint else None,
            "tree_root": base64.b64encode(report.tree_root).decode(), "last_tree_checkpoint": report.last_tree_checkpoint,
            "problems": [{"seq": p.seq, "blob": p.blob, "message": p.message} for p in report.problems],
            "incomplete_runs": report.incomplete_runs, "notes": report.notes, "storage_check": storage,
            **({"witnesses_asked": vars(asked)} if asked else {})}, indent=2))
    else:
        out.print(f"ledger {store.path}: {report.entries} entries, {report.runs} runs, "
                  f"{report.checkpoints} checkpoints, {report.signatures} signatures, {report.blobs} blobs checked")
        if storage:
            out.print(f"  storage: PRAGMA {storage} found no damage"
                      + (" (index contents not compared with their tables: --storage-check full)"
                         if storage == "quick_check" else ""))
        for note in report.notes:
            out.print(f"  note: {note}")
        if report.ok:
            last = report.last_checkpoint
            out.print("[green]OK[/green] ledger verifies" + (f"; extends checkpoint at size {cp.size}" if cp else "")
                      + (f"; last signed head {last.size} {last.head[:16]}... key {last.key_id[:16]}..." if last else ""))
            if report.entries:
                signed = (f"; newest signed tree head: size {report.last_tree_checkpoint.split(chr(10))[1]}"
                          if report.last_tree_checkpoint else "; no signed tree head in the ledger (a format v1 store: "
                          "`golive evidence migrate`; or its checkpoint entries were removed)")
                out.print(f"  Merkle tree of {report.entries} entries: root "
                          f"{base64.b64encode(report.tree_root).decode()}{signed}")
        else:
            out.print(f"[red]FAILED[/red] first problem: {escape(str(report.first_problem))}")
            for p in report.problems[1:]:
                out.print(f"  also: {escape(str(p))}")
        if asked:
            print_asked(asked)
    if not report.ok:  # the store's [notify] rules hear of it; a channel down is a warning, never the exit code
        from golive.notify import notify_after_verify
        for warning in notify_after_verify(store, report):
            err.print(f"warning: {escape(warning)}")
    sys.exit(1 if not report.ok else asked.exit_code if asked else 0)


def _witnessed_checkpoint(store: Store, witnesses: tuple[str, ...], minimum: int, given):  # noqa: ANN001
    """The store's newest cosigned checkpoint, once it shows ``minimum`` witness cosignatures."""
    from golive.ledger.checkpoint import TreeCheckpoint
    from golive.ledger.cli_witness import count_or_fail, newest_cosigned, witness_keys
    if given is not None:
        _fail_input("give --checkpoint or --min-witnesses, not both")
    text = newest_cosigned(store.path)
    if text is None:
        out.print(f"[red]FAILED[/red] no cosigned checkpoint in {store.path / 'checkpoints'}: a history without "
                  "witnesses cannot be told from one rewritten by the key holder (`golive evidence witness submit`)")
        sys.exit(1)
    cp = _guard(lambda: TreeCheckpoint.parse_text(text, "cosigned checkpoint"))
    good = count_or_fail(text, witness_keys(witnesses), minimum)
    out.print(f"cosigned checkpoint at size {cp.size}: witnesses {', '.join(good)}")
    return cp


@evidence.command()
@store_options
@click.argument("what", required=False)
@click.argument("requirement", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print what is shown as JSON.")
def show(store_dir, db_url, what, requirement, as_json) -> None:
    """List the evidence: runs (no argument), one run's results (RUN id or prefix), a
    requirement's results across runs (REQ id), or one requirement in one run (RUN REQ).

    Each result shows the status the run recorded beside the effective one (waived, attested)
    and its whole reason; RUN REQ adds the artifacts (path, sha256, size) and the waiver and
    attestations with their memos and attached files, each with its digest.
    """
    from golive.ledger.cli_show import show_evidence

    show_evidence(_guard(lambda: _open(store_dir, db_url)), what, requirement, as_json)


@evidence.command()
@store_options
@click.option("--run", "runs", multiple=True, metavar="ID", help="Run to export (repeatable); default: every checkpointed run.")
@click.option("--record", "record", type=click.IntRange(1), metavar="SEQ",
              help="With --with-trail: export entry SEQ and its audit trail (corrections, revocations, waivers, "
                   "re-runs), each entry with its inclusion proof (JSON; check it with `evidence verify-trail`).")
@click.option("--with-trail", is_flag=True, help="With --record: include the record's history (required).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Output file [default: golive-evidence.intoto.jsonl, or golive-record-SEQ.trail.json].")
@click.option("--passphrase", "ask", is_flag=True, help="Prompt for the signing key's passphrase.")
def export(store_dir, db_url, runs, record, with_trail, output, ask) -> None:
    """Write DSSE envelopes with in-toto Statements v1 (test-result predicate), one line per run;
    or, with --record SEQ --with-trail, one record's audit trail."""
    if record is not None or with_trail:
        if record is None or not with_trail or runs:
            _fail_input("give --record SEQ together with --with-trail (and no --run)")
        from golive.ledger.cli_trail import export_record
        return export_record(store_dir, db_url, record, output, ask)
    output = output or Path("golive-evidence.intoto.jsonl")
    store = _guard(lambda: _open(store_dir, db_url))
    signer = _guard(lambda: default_signer(store, _passphrase(ask), create=False))
    count = _guard(lambda: export_runs(store, signer, output, runs))
    out.print(f"wrote {count} signed statement(s) to {output} (key {signer.key_id[:16]}...)")


@evidence.command("verify-envelope")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", "key", required=True, metavar="PUBFILE|BASE64", help="The signer's public key.")
def verify_envelope_cmd(path, key) -> None:
    """Check every envelope in an exported .intoto.jsonl against a public key alone."""
    public = _guard(lambda: load_public_key(key))
    bad = 0
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            st = verify_envelope(json.loads(line), public)
            pred = st["predicate"]
            out.print(f"line {n}: [green]OK[/green] {pred['url']} {pred['result']} "
                      f"({len(pred['passedTests'])} passed, {len(pred['failedTests'])} failed)")
        except (ExportError, ValueError, KeyError) as exc:
            bad += 1
            out.print(f"line {n}: [red]FAILED[/red] {escape(str(exc))}")
    sys.exit(1 if bad else 0)


@click.group()
def keys() -> None:
    """Manage the Ed25519 keys that sign the evidence ledger."""


def protection_options(f: Callable) -> Callable:
    """``--passphrase``, ``--agent [FINGERPRINT|COMMENT]`` and ``--from-env``: where a new
    signing key is kept (golive.ledger.keysource); at most one."""
    f = click.option("--from-env", "from_env", is_flag=True,
                     help=f"Use the key given by the environment ({STORE_KEY_ENV}: PEM, or {STORE_KEY_FILE_ENV}: "
                          "a file), e.g. a CI secret; only its public key is stored.")(f)
    f = click.option("--agent", "agent", is_flag=False, flag_value="*", default=None, metavar="[FINGERPRINT|COMMENT]",
                     help="Use an Ed25519 key held by the ssh-agent (SSH_AUTH_SOCK; add it with ssh-add); name it "
                          "by fingerprint or comment when the agent holds several. Only its public key is stored.")(f)
    return click.option("--passphrase", "ask", is_flag=True,
                        help=f"Encrypt the new key file with a passphrase ({PASSPHRASE_ENV} when set, else prompted).")(f)


def _held_key(agent: str | None, from_env: bool) -> tuple[Any, str, str] | None:
    """(signer, "agent" | "environment", note) for --agent / --from-env; None for a key file."""
    from golive.ledger import keysource

    if agent is not None:
        raw, fingerprint, comment = _guard(lambda: keysource.select_agent_key("" if agent == "*" else agent))
        note = f"{fingerprint} {comment}".strip()
        return _guard(lambda: keysource.agent_signer(raw, note)), "agent", note
    if from_env:
        signer = _guard(keysource.environment_signer)
        if signer is None:
            _fail_input(f"--from-env: set {STORE_KEY_ENV} to the private key (PEM) or {STORE_KEY_FILE_ENV} to a file "
                        "holding it (make one with `openssl genpkey -algorithm ed25519`)")
        return signer, "environment", ""
    return None


def _one_protection(ask: bool, agent: str | None, from_env: bool) -> None:
    if sum((ask, agent is not None, from_env)) > 1:
        _fail_input("choose one of --passphrase, --agent and --from-env")


@keys.command()
@store_options
@protection_options
def init(store_dir, db_url, ask, agent, from_env) -> None:
    """Create or adopt the store's signing key and record its public key.

    By default a new key file (mode 0600). Protect it: --passphrase encrypts it; --agent keeps
    the private key in your ssh-agent; --from-env takes it from GOLIVE_STORE_KEY (or the file in
    GOLIVE_STORE_KEY_FILE) at every use. See docs/key-protection.md.
    """
    _one_protection(ask, agent, from_env)
    held = _held_key(agent, from_env)  # before the store is made: a missing agent key leaves nothing behind
    passphrase = _passphrase(ask, confirm=True) if held is None else None  # likewise a passphrase not given
    store = _guard(lambda: _open(store_dir, db_url, must_exist=False))
    if KeyDirectory(store.keys_dir).current_id:
        _fail_input(f"{store.keys_dir} already has a current key; use `golive keys rotate` to replace it")
    if held is not None:
        from golive.ledger.keyring import adopt_key
        signer = _guard(lambda: adopt_key(store, *held))
        where = {"agent": f"ssh-agent key {held[2]}", "environment": "the environment (never written here)"}[held[1]]
        out.print(f"recorded key {signer.key_id}\n  private: {where}"
                  f"\n  public:  {store.keys_dir / (signer.key_id + '.pub')}")
        return
    if _guard(environment_key_material):  # default_signer would adopt it: say so instead
        _fail_input(f"{STORE_KEY_ENV}/{STORE_KEY_FILE_ENV} is set: give --from-env to use that key, or unset it "
                    "to create a key file")
    signer = _guard(lambda: default_signer(store, passphrase, announce=lambda m: None))
    out.print(f"created key {signer.key_id} (protection: {signer.protection})\n  private: "
              f"{store.keys_dir / (signer.key_id + '.key')}\n  public:  {store.keys_dir / (signer.key_id + '.pub')}")
    _warn_unencrypted(signer.protection)


@keys.command()
@store_options
@protection_options
def rotate(store_dir, db_url, ask, agent, from_env) -> None:
    """Replace the signing key; the rotation entry is signed by the old and the new key.

    --passphrase prompts for the old key's passphrase, then the new one's (with
    GOLIVE_KEY_PASSPHRASE set, both are that value and nothing is prompted); --agent / --from-env
    rotate to a key kept in the ssh-agent or the environment (with --passphrase, the passphrase
    is for the old key's file only).
    """
    _one_protection(False, agent, from_env)
    store = _guard(lambda: _open(store_dir, db_url))
    held = _held_key(agent, from_env)
    old = _guard(lambda: KeyDirectory(store.keys_dir).load(passphrase=_passphrase(ask), other_env_key_ok=from_env))
    if held is not None and held[0].key_id == old.key_id:
        from golive.ledger.keyring import active_ledger_key
        if active_ledger_key(store) != old.key_id:
            _fail_input(f"key {old.key_id[:16]}... is already the store's key: give a different one to rotate to")
        # a retry of a rotation that completed (e.g. after a crash just before it returned): nothing to do
        out.print(f"key {old.key_id} is already the store's signing key (protection: {old.protection}); "
                  "nothing to rotate")
        return
    new = _guard(lambda: rotate_key(store, old, _passphrase(ask, confirm=True) if held is None else None, held))
    out.print(f"rotated {old.key_id[:16]}... -> {new.key_id} (protection: {new.protection})")
    _warn_unencrypted(new.protection)


def _warn_unencrypted(protection: str) -> None:
    """The variable alone does not encrypt a new key file: say so, since its name suggests it does."""
    if protection == "none" and os.environ.get(PASSPHRASE_ENV):
        err.print(f"warning: {PASSPHRASE_ENV} is set, but without --passphrase the new key file is NOT encrypted")


@keys.command("list")
@store_options
def list_keys(store_dir, db_url) -> None:
    """List the keys recorded in the ledger and the key files present."""
    store = _guard(lambda: _open(store_dir, db_url))
    keydir = KeyDirectory(store.keys_dir)
    table = Table(caption=f"key files: {keydir.path}")
    table.add_column("key id", no_wrap=True, min_width=17)
    for title in ("role", "name", "status", "valid until", "entry", "private key", "current"):
        table.add_column(title, no_wrap=title in ("status", "entry"))
    recorded = recorded_keys(store)
    for key_id in dict.fromkeys(list(recorded) + keydir.key_ids()):
        info = recorded.get(key_id, {})
        role = info.get("person_role") or info.get("role", "-")  # a person's role (risk, ...) or "ledger"
        table.add_row(key_id[:16] + "…", role, info.get("name") or "-", info.get("status", "not recorded"),
                      info.get("valid_until") or "-",
                      str(info["seq"]) if info else "-", keydir.source(key_id) or "no",
                      "*" if key_id == keydir.current_id else "")
    out.print(table)


from golive.ledger import cli_authored  # noqa: E402,F401  (registers attest, waive, add-person)
from golive.ledger import cli_tlog  # noqa: E402,F401  (registers checkpoint, prove, consistency, verify-proof, migrate)
from golive.ledger import cli_witness  # noqa: E402,F401  (registers witness init/serve/submit)
from golive.ledger import cli_timestamp  # noqa: E402,F401  (registers timestamp, verify-timestamp)
from golive.ledger import cli_bundle  # noqa: E402,F401  (registers bundle, verify-bundle, verify-report)
from golive.ledger import cli_trail  # noqa: E402,F401  (registers correct, revoke, verify-trail)
