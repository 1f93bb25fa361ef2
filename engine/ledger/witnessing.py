"""Witnessing and trusted time for a store's checkpoints: the shared client loop and the
automatic end-of-run step (issue 15.2-3).

Witnesses belong to the log, not to a workspace, so they are configured per evidence store in
``<store>/golive-store.toml``::

    min_witnesses = 2                        # fewer cosignatures than this: a run warning
    [[witness]]
    url = "https://witness.example/w1"       # c2sp.org/tlog-witness prefix (POST <url>/add-checkpoint)
    vkey = "witness.example/w1+1a2b3c4d+BA..."   # its cosignature key (type 0x04)
    [timestamp]
    url = "https://tsa.example/tsr"          # an RFC 3161 time-stamping authority
    certificate = "tsa-chain.pem"            # its certificate then its issuers' (PEM), relative to the store

After every recorded run, :func:`witness_run` sends the run's signed checkpoint to each witness
(with a consistency proof from the size the witness last cosigned), checks the returned
cosignatures against the configured vkeys, asks the TSA for a token over the checkpoint's note
text and checks it against the certificate, and keeps the results as
``<store>/checkpoints/<size>.checkpoint`` and ``<size>.tsr`` (what proof bundles carry). Every
failure is returned as a warning: the run is already in the ledger and is never lost over a
witness or a TSA being down.

:func:`ask_witnesses` is the online check of ``golive evidence verify --ask-witness URL``: a
store cut back to an older cosigned checkpoint (newer entries and checkpoint files deleted)
still verifies offline; each witness remembers the newest tree it cosigned for the log, and the
ledger must hold that tree (at least that many entries, the same root at that size).
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection

from golive.ledger.note import NoteError, parse_checkpoint, parse_vkey
from golive.ledger.treestore import StoredTree, TreeIndexError, root_from_entries
from golive.ledger.witness import COSIGNATURE, WitnessError, count_cosigners, latest_checkpoint, submit

STORE_CONFIG = "golive-store.toml"
SUBMIT_ATTEMPTS = 3  # a 409 names the witness's size: retry once with a proof from it


class StoreConfigError(ValueError):
    """``golive-store.toml`` cannot be used (the message names the file and the field)."""


@dataclass(frozen=True)
class WitnessSpec:
    url: str
    vkey: str
    name: str
    public_raw: bytes


@dataclass(frozen=True)
class StoreConfig:
    witnesses: tuple[WitnessSpec, ...] = ()
    min_witnesses: int = 0
    tsa_url: str | None = None
    tsa_cert: Path | None = None

    @property
    def empty(self) -> bool:
        return not self.witnesses and not self.tsa_url


def load_store_config(store_path: Path) -> StoreConfig:
    """The store's witness and TSA settings; an absent file is an empty config."""
    path = Path(store_path) / STORE_CONFIG
    if not path.is_file():
        return StoreConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise StoreConfigError(f"{path}: cannot read it ({exc}); fix the TOML or remove the file") from None
    specs = []
    for n, item in enumerate(_list(data.get("witness"), path, "[[witness]]"), 1):
        url, key = item.get("url"), item.get("vkey")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")) or not isinstance(key, str):
            raise StoreConfigError(f"{path}: witness {n} needs url = \"http(s)://...\" and vkey = \"<name>+<hash>+<key>\"")
        try:
            name, raw = parse_vkey(key, COSIGNATURE)
        except NoteError as exc:
            raise StoreConfigError(f"{path}: witness {n}: {exc} (the vkey `golive evidence witness init` printed)") from None
        specs.append(WitnessSpec(url, key, name, raw))
    minimum = data.get("min_witnesses", len(specs))
    if not isinstance(minimum, int) or isinstance(minimum, bool) or not 0 <= minimum <= len(specs):
        raise StoreConfigError(f"{path}: min_witnesses must be an integer from 0 to the {len(specs)} witnesses listed")
    stamp = data.get("timestamp") or {}
    if not isinstance(stamp, dict):
        raise StoreConfigError(f"{path}: [timestamp] must be a table with url and certificate")
    tsa_url, cert = stamp.get("url"), stamp.get("certificate")
    if tsa_url is not None and (not isinstance(tsa_url, str) or not tsa_url.startswith(("http://", "https://"))):
        raise StoreConfigError(f"{path}: [timestamp] url must be an http(s) URL")
    if tsa_url and not isinstance(cert, str):
        raise StoreConfigError(f"{path}: [timestamp] needs certificate = \"<the TSA's PEM certificate, then its issuers'>\" to check tokens")
    cert_path = (path.parent / cert) if isinstance(cert, str) else None
    return StoreConfig(tuple(specs), minimum, tsa_url, cert_path)


def _list(value: Any, path: Path, what: str) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise StoreConfigError(f"{path}: {what} must be an array of tables")
    return value


def merge_signatures(checkpoint: str, lines: str) -> str:
    """``checkpoint`` with the signature lines in ``lines`` added (once each)."""
    have = checkpoint.rstrip("\n").split("\n")
    return "\n".join(have + [line for line in lines.splitlines() if line and line not in have]) + "\n"


def collect_cosignatures(conn: Connection, checkpoint: str, urls: list[str],
                         on_cosigned=None) -> tuple[str, list[str], list[str]]:  # noqa: ANN001
    """Send ``checkpoint`` to each witness URL (retrying from the size a witness names with a
    consistency proof); returns the checkpoint with the cosignature lines added, the refusals
    (the log is not consistent with what a witness saw) and the witnesses that could not be
    reached (nothing was checked by them)."""
    head = parse_checkpoint(checkpoint)[0]
    refused: list[str] = []
    unreachable: list[str] = []
    for url in urls:
        old, proof = 0, []
        for _attempt in range(SUBMIT_ATTEMPTS):
            try:
                checkpoint = merge_signatures(checkpoint, submit(url, old, proof, checkpoint))
                if on_cosigned is not None:
                    on_cosigned(url, head.size)
                break
            except WitnessError as exc:
                if exc.status != 409 or exc.size is None:
                    (refused if exc.status else unreachable).append(str(exc))
                    break
                old = exc.size  # the witness's latest size: prove we extend it
                if not 0 < old <= head.size:
                    refused.append(f"{url} cosigned a tree of size {old}, larger than this checkpoint's {head.size}: "
                                   "the log was truncated or rolled back, or a later run was witnessed first")
                    break
                try:
                    proof = StoredTree(conn).consistency(old, head.size) if old < head.size else []
                except TreeIndexError as exc2:
                    refused.append(f"{url}: no consistency proof from size {old}: {exc2}")
                    break
    return checkpoint, refused, unreachable


@dataclass
class WitnessCheck:
    """What the witnesses asked by :func:`ask_witnesses` said: trees the ledger holds
    (``consistent``), trees it does not (``failed``: truncation or rewrite) and witnesses that
    could not be used (``unchecked``: unreachable, no checkpoint of this log, unverified answer)."""

    consistent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 2 if self.unchecked else 0


def ask_witnesses(conn: Connection, entries: int, urls: list[str], witnesses: list[tuple[str, bytes]]) -> WitnessCheck:
    """Ask each witness URL for the newest checkpoint it cosigned for this log (its answer must
    carry a cosignature by one of ``witnesses``) and compare it with the ledger's first
    ``entries`` entries, already verified (their hashes chain)."""
    from golive.ledger.chain import first_entry_hash, log_origin
    check = WitnessCheck()
    if entries == 0:
        check.unchecked.append("the ledger is empty: it names no log to ask the witnesses about")
        return check
    origin = log_origin(first_entry_hash(conn) or "")
    for url in urls:
        try:
            answer = latest_checkpoint(url, origin)
        except WitnessError as exc:
            check.unchecked.append(f"{exc}: cannot check the ledger against it")
            continue
        if answer is None:
            check.unchecked.append(f"witness {url} has cosigned no checkpoint of log {origin} (if it witnessed this "
                                   "log, the log's first entry was rewritten; else submit to it first)")
            continue
        try:
            head = parse_checkpoint(answer)[0]
            good, bad = count_cosigners(answer, witnesses)
        except NoteError as exc:
            check.unchecked.append(f"witness {url} did not answer with a checkpoint ({exc})")
            continue
        if head.origin != origin or not good:
            why = f"a checkpoint of another log ({head.origin})" if head.origin != origin else \
                "no cosignature that verifies with a --witness key" + (f" ({'; '.join(bad)})" if bad else "")
            check.unchecked.append(f"witness {url} answered with {why}: cannot check the ledger against it")
            continue
        name = good[0]
        if head.size > entries:
            check.failed.append(f"ledger truncated or rolled back: witness {name} cosigned size {head.size}, "
                                f"the ledger has {entries} entries")
        elif root_from_entries(conn, head.size) != head.root:
            check.failed.append(f"ledger rolled back or rewritten: witness {name} cosigned a tree of size {head.size} "
                                f"whose root differs from the ledger's first {head.size} entries")
        else:
            check.consistent.append(f"witness {name} ({url}): the newest tree it cosigned, size {head.size}, "
                                    f"is the ledger's first {head.size} of {entries} entries")
    return check


@dataclass
class WitnessOutcome:
    """What the end-of-run step kept and what went wrong (as run warnings)."""

    checkpoint_path: Path | None = None
    cosigners: list[str] = field(default_factory=list)
    timestamp: str | None = None
    warnings: list[str] = field(default_factory=list)


def witness_run(store: Any, checkpoint: str, config: StoreConfig) -> WitnessOutcome:
    """Have ``checkpoint`` (a run's signed tree head) cosigned and timestamped as ``config`` says,
    keeping what was obtained in ``<store>/checkpoints``. Never raises for a witness, TSA or
    file problem: each becomes a warning."""
    result = WitnessOutcome()
    head, note = parse_checkpoint(checkpoint)
    kept = Path(store.path) / "checkpoints" / f"{head.size}.checkpoint"
    if kept.is_file():
        previous = kept.read_text(encoding="utf-8")
        if parse_checkpoint(previous)[1].text == note.text:
            checkpoint = previous
        else:
            result.warnings.append(f"{kept} holds another tree of size {head.size}: the history was rewritten; "
                                   "kept the witnessed file and did not replace it")
            kept = kept.with_name(f"{head.size}.unwitnessed")
    if config.witnesses:
        with store.read() as conn:
            checkpoint, refused, unreachable = collect_cosignatures(conn, checkpoint, [w.url for w in config.witnesses])
        result.warnings += [f"witness: {r}" for r in refused + unreachable]
        good, bad = count_cosigners(checkpoint, [(w.name, w.public_raw) for w in config.witnesses])
        result.cosigners = good
        result.warnings += [f"witness: {b}" for b in bad]
        if len(good) < config.min_witnesses:
            result.warnings.append(f"the run's checkpoint (tree size {head.size}) has {len(good)} of the "
                                   f"{config.min_witnesses} witness cosignatures {STORE_CONFIG} requires")
    token = _timestamp(note.text, config, result) if config.tsa_url else None
    try:
        kept.parent.mkdir(exist_ok=True)
        kept.write_text(checkpoint, encoding="utf-8")
        if token is not None:
            kept.with_suffix(".tsr").write_bytes(token)
        result.checkpoint_path = kept
    except OSError as exc:
        result.warnings.append(f"cannot keep the cosigned checkpoint in {kept.parent}: {exc}")
    return result


def _timestamp(note_text: str, config: StoreConfig, result: WitnessOutcome) -> bytes | None:
    from golive.ledger.timestamp import TimestampError, describe, request_token, verify_token
    try:
        token = request_token(config.tsa_url, note_text.encode())
        cert = config.tsa_cert.read_bytes() if config.tsa_cert else None
    except TimestampError as exc:
        result.warnings.append(f"timestamp: {exc}")
        return None
    except OSError as exc:
        result.warnings.append(f"timestamp: cannot read the TSA certificate {config.tsa_cert}: {exc}")
        return None
    try:
        result.timestamp = describe(verify_token(token, note_text.encode(), cert))
    except TimestampError as exc:
        result.warnings.append(f"timestamp: the token from {config.tsa_url} does not verify with "
                               f"{config.tsa_cert}: {exc}; not kept")
        return None
    return token


@dataclass
class RunProof:
    """What a recorded run ends with: its proof bundle (None for a v1 store), the log's vkey
    for the report's verify command, and warnings for the results document."""

    bundle: dict[str, Any] | None = None
    log_vkey: str = ""
    warnings: list[str] = field(default_factory=list)
    config: StoreConfig | None = None  # the store's witnesses, for the report's verify command


def seal_run(recorder: Any) -> RunProof:
    """After a recorded run's checkpoint: witnesses and timestamp as the store's config says,
    then the run's proof bundle (with whatever was obtained). Never raises."""
    from golive.ledger.bundle import make_bundle
    from golive.ledger.note import vkey
    from golive.ledger.proofs import ProofError

    proof = RunProof()
    head = recorder.head or {}
    checkpoint = head.get("tlog_checkpoint")
    if not checkpoint:
        return proof
    store = recorder.store
    try:
        config = load_store_config(store.path)
    except StoreConfigError as exc:
        config = StoreConfig()
        proof.warnings.append(f"{exc}; the run's checkpoint was not witnessed or timestamped")
    proof.config = config
    if not config.empty:
        try:
            proof.warnings += witness_run(store, checkpoint, config).warnings
        except (OSError, ValueError, TreeIndexError) as exc:  # NoteError is a ValueError
            proof.warnings.append(f"the run's checkpoint was not witnessed or timestamped: {exc}")
    origin = parse_checkpoint(checkpoint)[0].origin
    proof.log_vkey = vkey(origin, recorder.signer.public_raw)
    run_id = _run_of(store, head["size"])
    try:
        with store.read() as conn:
            proof.bundle = make_bundle(conn, run_id, Path(store.path) / "checkpoints")
    except (ProofError, TreeIndexError, NoteError, OSError) as exc:
        proof.warnings.append(f"no proof bundle for run {run_id}: {exc}")
    return proof


def _run_of(store: Any, seq: int) -> str:
    from sqlalchemy import text
    with store.read() as conn:
        return str(conn.execute(text("SELECT run_id FROM ledger_entries WHERE seq = :s"), {"s": seq}).scalar_one())
