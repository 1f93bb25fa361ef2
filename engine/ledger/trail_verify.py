"""Offline check of a record's audit trail (``golive evidence verify-trail``), with the log's
public keys only: the signed checkpoint verifies; every entry re-hashes to its ``entry_hash``
and its inclusion proof leads to the checkpoint's root; every person-signed entry (attestation,
waiver, correction, revocation) and every checkpoint entry carries a signature that verifies
with a key recorded by a key entry of the trail, active at that entry; every correction or
revocation names an entry the trail holds (and its hash, when it records one); every artifact
copy hashes to a digest the record names.

What it cannot show: that no other entry in the log refers to the record. The trail is as
complete as the exporter made it; ``golive evidence verify`` over the whole store (or a trail
exported again later, whose checkpoint is consistent with this one) answers that.
"""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from golive.ledger import tlog
from golive.ledger.chain import entry_hash, head_message
from golive.ledger.keys import key_id_of, unb64, verify_signature
from golive.ledger.proofs import NotADocumentError, ProofError, check_checkpoint
from golive.ledger.trail import REFERENCES, REVOCABLE, TRAIL_FORMAT

MAX_TRAIL_BYTES = 256 << 20
SIGNED_KINDS = REVOCABLE + tuple(REFERENCES) + ("checkpoint",)


@dataclass
class TrailEntry:
    seq: int
    kind: str
    role: str
    run_id: str
    entry_hash: str
    body: dict[str, Any]
    signed_by: list[str] = field(default_factory=list)  # names (or key ids) whose signature verifies


@dataclass
class TrailReport:
    record: int
    origin: str
    size: int
    signers: list[str]
    entries: list[TrailEntry] = field(default_factory=list)
    blobs: int = 0
    blobs_left_out: list[str] = field(default_factory=list)
    timestamp: bytes | None = None
    checkpoint: str = ""

    @property
    def original(self) -> TrailEntry:
        return next(e for e in self.entries if e.seq == self.record)

    def authored_state(self) -> list[tuple[TrailEntry, bool]]:
        """For a result record: each waiver or attestation of its requirement in the trail, and
        whether it was in force when the record's run ended (recorded before that, not expired,
        not revoked before that: a revocation counts from its own entry on)."""
        rec = self.original
        end = next((e for e in self.entries if e.kind == "run-finished" and e.run_id == rec.run_id), None)
        if rec.kind != "result" or end is None:
            return []
        day = str(end.body.get("finished") or "")[:10]
        states = []
        for e in self.entries:
            if e.kind in REVOCABLE and e.body.get("requirement_id") == rec.body.get("requirement_id"):
                revoked = [r.seq for r in self.referring(e.seq) if r.kind == "revocation"]
                expires = e.body.get("expires")
                states.append((e, e.seq < end.seq and (not revoked or revoked[0] > end.seq)
                               and (expires is None or str(expires) >= day)))
        return states

    def referring(self, seq: int) -> list[TrailEntry]:
        """Corrections and revocations naming entry ``seq``, oldest first."""
        return [e for e in self.entries if e.kind in REFERENCES and e.body.get(REFERENCES[e.kind]) == seq]


def _entry(item: Any, head) -> tuple[TrailEntry, list[dict], bytes]:  # noqa: ANN001 -- TreeHead
    try:
        seq, rid, kind, prev, digest = (item[k] for k in ("seq", "run_id", "kind", "prev_hash", "entry_hash"))
        payload = base64.b64decode(item["payload"], validate=True)
        path = tlog.decode_hashes(item["proof"])
        sigs, role = item.get("signatures") or [], str(item.get("role", ""))
        assert isinstance(seq, int) and all(isinstance(v, str) for v in (rid, kind, prev, digest))
        assert isinstance(sigs, list) and all(isinstance(s, dict) for s in sigs)
    except (KeyError, TypeError, ValueError, AssertionError):
        raise ProofError("a trail entry lacks seq, run_id, kind, prev_hash, entry_hash, payload, signatures "
                         "or proof") from None
    if entry_hash(seq, rid, kind, prev, payload) != digest:
        raise ProofError(f"entry {seq} does not hash to its entry_hash: the entry was changed")
    if not 0 < seq <= head.size or not tlog.verify_inclusion(
            seq - 1, head.size, tlog.leaf_hash(bytes.fromhex(digest)), path, head.root):
        raise ProofError(f"entry {seq} is not in the signed tree of size {head.size} (proof fails)")
    try:
        body = json.loads(payload)
    except (ValueError, RecursionError):
        body = None
    if not isinstance(body, dict):
        raise ProofError(f"entry {seq}'s payload is not a JSON object")
    return TrailEntry(seq, kind, role, rid, digest, body), sigs, payload


class _Keys:
    """Key entries of the trail, in log order: who could sign at which entry."""

    def __init__(self) -> None:
        self.events: dict[str, list[tuple[int, str, bytes, dict]]] = {}

    def add(self, entry: TrailEntry, sigs: list[dict]) -> None:
        body, action, key_id = entry.body, entry.body.get("action"), str(entry.body.get("key_id", ""))
        if action in ("add", "rotate"):
            try:
                raw = unb64(str(body.get("public_key", "")))
            except ValueError:
                raw = b""
            message = head_message(entry.seq, entry.entry_hash)
            self_signed = any(_verifies(raw, s, message) for s in sigs if s.get("key_id") == key_id)
            # a person key is registered from its public half: a ledger key's endorsement stands in
            endorsed = body.get("role") == "person" and any(
                (known := self.at(str(s.get("key_id", "")), entry.seq)) is not None
                and known[1].get("role", "ledger") == "ledger" and _verifies(known[0], s, message) for s in sigs)
            if key_id_of(raw) != key_id or not (self_signed or endorsed):
                raise ProofError(f"key entry {entry.seq} does not record a self-signed key {key_id[:16]}")
            self.events.setdefault(key_id, []).append((entry.seq, "add", raw, body))
            entry.signed_by.append(f"{body.get('name') or key_id[:16]} ({'itself' if self_signed else 'endorsed'})")
            if action == "rotate" and body.get("replaces"):
                self.events.setdefault(str(body["replaces"]), []).append((entry.seq, "retire", b"", body))
        elif action == "revoke":
            self.events.setdefault(key_id, []).append((entry.seq, "revoke", b"", body))

    def at(self, key_id: str, seq: int) -> tuple[bytes, dict] | None:
        """The key's public bytes and key entry if it was active just before entry ``seq``."""
        state = None
        for at, what, raw, body in sorted(self.events.get(key_id, []), key=lambda e: e[0]):
            if at >= seq:
                break
            state = (raw, body) if what == "add" else None
        return state


def _verifies(raw: bytes, sig: dict, message: bytes) -> bool:
    try:
        return verify_signature(raw, unb64(str(sig.get("sig", ""))), message)
    except ValueError:
        return False


def _parse(data: str) -> dict[str, Any]:
    """The trail document; NotADocumentError (nothing to check) when ``data`` is not one."""
    def not_a_trail(why: str) -> NotADocumentError:
        return NotADocumentError(f"not a {TRAIL_FORMAT} document ({why}); expected the JSON "
                                 "`golive evidence export --record SEQ --with-trail` writes")

    if len(data) > MAX_TRAIL_BYTES:
        raise not_a_trail("larger than 256 MiB")
    try:
        doc = json.loads(data)
    except RecursionError:
        raise not_a_trail("JSON nested too deeply") from None
    except ValueError as exc:
        raise not_a_trail(f"not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise not_a_trail(f"a JSON {type(doc).__name__}, not an object")
    if doc.get("format") != TRAIL_FORMAT:
        raise not_a_trail(f"format is {str(doc.get('format'))[:60]!r}")
    if not (isinstance(doc.get("record"), int) and isinstance(doc.get("entries"), list)
            and isinstance(doc.get("checkpoint"), str)):
        raise not_a_trail("record, entries or checkpoint missing or of the wrong type")
    return doc


def verify_trail(data: str, keys: list[tuple[str | None, bytes]], origin: str | None = None) -> TrailReport:
    """Check an audit trail (see the module docstring); ProofError says what fails."""
    doc = _parse(data)
    head, signers = check_checkpoint(doc["checkpoint"], keys, origin)
    report = TrailReport(doc["record"], head.origin, head.size, signers, checkpoint=doc["checkpoint"])
    checked = sorted((_entry(item, head) for item in doc["entries"]), key=lambda e: e[0].seq)
    if len({e.seq for e, _s, _p in checked}) != len(checked):
        raise ProofError("an entry appears twice in the trail")
    by_seq = {e.seq: e for e, _s, _p in checked}
    if report.record not in by_seq or by_seq[report.record].role != "record":
        raise ProofError(f"the trail does not hold its record, entry {report.record}")
    for entry in by_seq.values():
        _check_role(entry, report.record)
    key_book = _Keys()
    for entry, sigs, _payload in checked:
        if entry.kind == "key":
            key_book.add(entry, sigs)
            continue
        message = head_message(entry.seq, entry.entry_hash)
        for sig in sigs:
            found = key_book.at(str(sig.get("key_id", "")), entry.seq)
            if found is not None and _verifies(found[0], sig, message):
                if entry.kind != "checkpoint" or found[1].get("role", "ledger") == "ledger":
                    entry.signed_by.append(str(found[1].get("name") or str(sig["key_id"])[:16]))
        if entry.kind in SIGNED_KINDS and not entry.signed_by:
            raise ProofError(f"entry {entry.seq} ({entry.kind}) carries no signature that verifies with a key "
                             "the trail records as active at that entry")
        _check_reference(entry, by_seq)
    report.entries = [e for e, _s, _p in checked]
    _check_blobs(doc, by_seq[report.record], report)
    if doc.get("timestamp"):
        report.timestamp = _unb64(doc["timestamp"], "the trail's timestamp")
    return report


def _check_role(entry: TrailEntry, record: int) -> None:
    """The role the exporter gave an entry is not signed: it must fit the entry's (hashed) kind."""
    fits = {entry.kind, {"run-started": "rerun", "result": "rerun-result"}.get(entry.kind)}
    if (entry.role == "record") != (entry.seq == record) or (entry.role != "record" and entry.role not in fits):
        raise ProofError(f"entry {entry.seq} ({entry.kind}) is given the role {entry.role[:40]!r}, which does not fit "
                         "it: the trail was edited")


def _unb64(data: Any, what: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (ValueError, TypeError):
        raise ProofError(f"{what} is not base64") from None


def _check_reference(entry: TrailEntry, by_seq: dict[int, TrailEntry]) -> None:
    if entry.kind not in REFERENCES:
        return
    name = REFERENCES[entry.kind]
    target = by_seq.get(entry.body.get(name)) if isinstance(entry.body.get(name), int) else None
    if target is None or target.seq >= entry.seq:
        raise ProofError(f"{entry.kind} {entry.seq} names entry {entry.body.get(name)!r}, which the trail does "
                         "not hold before it")
    recorded = entry.body.get(f"{name}_entry_hash")
    if recorded is not None and recorded != target.entry_hash:
        raise ProofError(f"{entry.kind} {entry.seq} names entry {target.seq} by a different hash")
    if entry.kind == "revocation" and target.kind not in REVOCABLE:
        raise ProofError(f"revocation {entry.seq} revokes entry {target.seq}, a {target.kind}: only "
                         "attestations and waivers can be revoked")


def _check_blobs(doc: dict[str, Any], record: TrailEntry, report: TrailReport) -> None:
    named = {b.get("blob") for b in record.body.get("blobs") or [] if isinstance(b, dict)}
    blobs = doc.get("blobs") or {}
    if not isinstance(blobs, dict):
        raise ProofError("the trail's blobs are not a {sha256: base64} object")
    for digest, data in blobs.items():
        content = _unb64(data, f"artifact copy {str(digest)[:16]}")
        if digest not in named or hashlib.sha256(content).hexdigest() != digest:
            raise ProofError(f"artifact copy {str(digest)[:16]}... is not one the record names, or its content "
                             "does not hash to it")
        report.blobs += 1
    left_out = doc.get("blobs_left_out") or []
    if not isinstance(left_out, list) or not set(map(str, left_out)) <= named - set(blobs):
        raise ProofError("the trail's blobs_left_out names an artifact copy the record does not name, or one it holds")
    report.blobs_left_out = [str(d) for d in left_out]
