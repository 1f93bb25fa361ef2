"""What the dashboard reads from the evidence store, and only reads.

Results, waivers, attestations and checkpoints come from the ledger entries themselves (the
authoritative payloads, as :mod:`golive.ledger.show` reads them), never from the index tables
alone. The run list is :mod:`golive.serve.runindex` (a table derived from the entries, paged
in SQL); everything here reads one run, one requirement or one blob at a time.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import text

from golive.ledger.show import WAIVABLE, authored_entries, waived_in_run
from golive.ledger.store import Store, payload_bytes

SHA256 = re.compile(r"^[0-9a-f]{64}$")


def run_results(store: Store, run_id: str) -> list[dict[str, Any]]:
    """The run's result payloads in ledger order, each with ``seq``, ``effective`` (``waived``
    when a waiver held at the run's end, the rule ``golive run`` applies) and ``waiver``."""
    with store.read() as conn:
        rows = conn.execute(text("SELECT seq, payload FROM ledger_entries WHERE run_id = :r AND kind = 'result' "
                                 "ORDER BY seq"), {"r": run_id}).all()
    held = waived_in_run(store, run_id) if rows else {}
    results = []
    for seq, payload in rows:
        body = json.loads(payload_bytes(payload))
        status = str(body.get("status") or "?")
        waiver = held.get(str(body.get("requirement_id")))
        waived = waiver is not None and status in WAIVABLE
        results.append({**body, "seq": seq, "effective": "waived" if waived else status,
                        "waiver": waiver if waived else None})
    return results


def checkpoint(store: Store, seq: int | None) -> dict[str, Any] | None:
    """The checkpoint entry at ``seq``: its payload with the entry hash and signatures."""
    if seq is None:
        return None
    with store.read() as conn:
        row = conn.execute(text("SELECT payload, entry_hash, signatures FROM ledger_entries WHERE seq = :s"),
                           {"s": seq}).first()
    if row is None:
        return None
    sigs = json.loads(row[2] or "[]")
    return {**json.loads(payload_bytes(row[0])), "entry_hash": row[1],
            "key_ids": [s.get("key_id", "") for s in sigs if isinstance(s, dict)]}


def ledger_head(store: Store) -> tuple[int, str]:
    with store.read() as conn:
        row = conn.execute(text("SELECT size, head FROM ledger_head WHERE id = 1")).first()
    return (int(row[0]), str(row[1])) if row else (0, "")


def requirement_results(store: Store, requirement_id: str, target: str, upto_seq: int | None = None,
                        limit: int = 50) -> list[dict[str, Any]]:
    """The last ``limit`` recorded results of ``requirement_id`` in runs of ``target`` (up to
    entry ``upto_seq``), oldest first, with ``run_id`` and ``effective`` status (the index tables
    find them -- ``results`` and the dashboard's ``serve_runs`` for the target; the entry payload
    decides). Waivers are looked up only when the requirement has any."""
    with store.read() as conn:
        rows = conn.execute(text(
            "SELECT e.seq, e.run_id, e.payload FROM results r JOIN ledger_entries e ON e.seq = r.entry_seq "
            "JOIN serve_runs s ON s.id = e.run_id AND s.target = :t "
            "WHERE r.requirement_id = :q AND e.kind = 'result' AND e.seq <= :upto ORDER BY e.seq DESC LIMIT :n"),
            {"q": requirement_id, "t": target, "upto": upto_seq if upto_seq is not None else 1 << 62,
             "n": limit}).all()
    has_waivers = bool(authored_for(store, "waiver", requirement_id))
    out = []
    for seq, run_id, payload in reversed(rows):
        body = json.loads(payload_bytes(payload))
        if body.get("requirement_id") != requirement_id:
            continue  # a stale or forged index row: the entry is what counts
        status = str(body.get("status") or "?")
        waived = has_waivers and status in WAIVABLE and requirement_id in waived_in_run(store, run_id)
        out.append({**body, "seq": seq, "run_id": run_id, "effective": "waived" if waived else status})
    return out


def authored_for(store: Store, kind: str, requirement_id: str) -> list[dict[str, Any]]:
    """Attestations or waivers recorded for ``requirement_id``, oldest first."""
    return [e for e in authored_entries(store, kind) if str(e.get("requirement_id")) == requirement_id]


@dataclass(frozen=True)
class Blob:
    """A stored artifact copy that a recorded result names."""

    sha256: str
    name: str  # the file name the result recorded (last path part)
    size: int


def recorded_blob(store: Store, sha256: str) -> Blob | None:
    """The blob ``sha256`` if a result entry lists it (the index finds the entry, its payload
    must confirm), else None. ``sha256`` must be 64 lowercase hex digits."""
    if not SHA256.fullmatch(sha256):
        return None
    with store.read() as conn:
        seqs = [s for (s,) in conn.execute(text(
            "SELECT DISTINCT entry_seq FROM artifacts WHERE blob_sha256 = :d ORDER BY entry_seq LIMIT 20"),
            {"d": sha256})]
        rows = conn.execute(text(
            f"SELECT payload FROM ledger_entries WHERE kind = 'result' AND seq IN "
            f"({','.join(str(int(s)) for s in seqs) or 'NULL'})")).all()
    for (payload,) in rows:
        for blob in json.loads(payload_bytes(payload)).get("blobs") or ():
            if blob.get("blob") == sha256:
                return Blob(sha256, Path(str(blob.get("path") or "artifact")).name, int(blob.get("size") or 0))
    return None


def read_blob(store: Store, blob: Blob, chunk: int = 1 << 16) -> Iterator[bytes] | None:
    """The blob's bytes, checked against its digest first (None when missing or modified:
    ``golive evidence verify`` names what happened to it)."""
    path = store.blob_path(blob.sha256)
    digest = hashlib.sha256()
    try:
        with path.open("rb") as f:
            for part in iter(lambda: f.read(chunk), b""):
                digest.update(part)
    except OSError:
        return None
    if digest.hexdigest() != blob.sha256:
        return None

    def stream() -> Iterator[bytes]:
        with path.open("rb") as f:
            yield from iter(lambda: f.read(chunk), b"")
    return stream()
