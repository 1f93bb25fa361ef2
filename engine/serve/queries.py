"""What the dashboard reads from the evidence store, and only reads.

Results, waivers, attestations and checkpoints come from the ledger entries themselves (the
authoritative payloads, as :mod:`golive.ledger.show` reads them), never from the index tables
alone. The run list is kept in memory and extended from the entries appended since it was last
read (the ledger is append-only, so the entries already read never change): a page costs one
``ledger_head`` lookup when nothing was recorded. The readiness verdict and coverage rates are not
ledger entries; they come from the results document saved with each run
(``<store>/runs/*.json``, :mod:`golive.history`), and a run without one shows no verdict.
"""
from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import text

from golive import history as hist
from golive.ledger.show import WAIVABLE, authored_entries, waived_in_run
from golive.ledger.store import Store, payload_bytes

FAILING = ("fail", "partial", "error")
SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class RunSummary:
    """One run as the runs list shows it."""

    id: str
    started: str
    plan_id: str = ""
    plan_version: str = ""
    plan_digest: str = ""
    target: str = ""
    selection: tuple[str, ...] = ()
    finished: str = ""
    status: str = "incomplete"  # finished | incomplete (no run-finished entry)
    by_status: dict[str, int] = field(default_factory=dict)
    results: int = 0
    checkpoint_seq: int | None = None
    scheduled: bool = False  # a schedule ``run`` entry names this run (else it was started by hand)
    verdict: str | None = None  # from the results document; None without one
    coverage_rate: float | None = None
    verification_rate: float | None = None

    @property
    def failing(self) -> int:
        return sum(self.by_status.get(s, 0) for s in FAILING)


class RunIndex:
    """The run list, extended from the entries appended since the last read."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._runs: dict[str, RunSummary] = {}
        self._seen = 0  # entries read so far
        self._lock = threading.Lock()

    def runs(self) -> list[RunSummary]:
        """Every run, newest first."""
        with self._lock:
            self._refresh()
            # the ledger's order breaks ties: runs started in the same second keep it (ids are random)
            ordered = sorted(enumerate(self._runs.values()), key=lambda ir: (ir[1].started, ir[0]), reverse=True)
            return [r for _, r in ordered]

    def get(self, run_id: str) -> RunSummary | None:
        with self._lock:
            self._refresh()
            return self._runs.get(run_id)

    def _refresh(self) -> None:
        with self.store.read() as conn:
            size = conn.execute(text("SELECT size FROM ledger_head WHERE id = 1")).scalar() or 0
            if size <= self._seen:
                return
            rows = conn.execute(text(
                "SELECT seq, run_id, kind, payload FROM ledger_entries WHERE seq > :s AND kind IN "
                "('run-started', 'run-finished', 'checkpoint', 'schedule') ORDER BY seq"), {"s": self._seen}).all()
        for seq, run_id, kind, payload in rows:
            body = json.loads(payload_bytes(payload))
            if kind == "run-started":
                plan = body.get("plan") or {}
                self._runs[run_id] = RunSummary(
                    id=run_id, started=str(body.get("started") or ""), plan_id=str(plan.get("id") or ""),
                    plan_version=str(plan.get("version") or ""), plan_digest=str(plan.get("digest") or ""),
                    target=str(body.get("target") or ""), selection=tuple(body.get("selection") or ()))
            elif run_id in self._runs and kind == "run-finished":
                run = self._runs[run_id]
                run.status, run.finished = "finished", str(body.get("finished") or "")
                run.by_status = {str(k): int(v) for k, v in (body.get("by_status") or {}).items()}
                run.results = int(body.get("results") or 0)
            elif run_id in self._runs and kind == "checkpoint":
                self._runs[run_id].checkpoint_seq = seq
            elif kind == "schedule" and body.get("event") == "run" and body.get("run_id") in self._runs:
                self._runs[body["run_id"]].scheduled = True
        self._seen = size
        self._attach_documents()

    def _attach_documents(self) -> None:
        """Verdict and rates of runs that have none yet, from their saved documents (a run's
        document is written after its last entry, so a run without one is looked up again).
        The folder is listed once per refresh, not once per run."""
        lacking = {r.id: r for r in self._runs.values() if r.verdict is None}
        folder = self.store.path / hist.RUNS
        if not lacking or not folder.is_dir():
            return
        for path in folder.glob("*.json"):
            run = lacking.get(path.stem.split("_", 1)[-1])
            doc = _read_document(path, run.id) if run else None
            if doc is None:
                continue
            run.verdict = str(((doc.get("summary") or {}).get("verdict") or {}).get("state") or "") or None
            try:
                run.coverage_rate, run.verification_rate = hist.rates(doc)
            except (TypeError, ValueError):
                pass  # a damaged document: the run is listed without its rates


def document(store_path: Path, run_id: str) -> dict[str, Any] | None:
    """The results document of ``run_id``, or None (none saved, or damaged)."""
    folder = store_path / hist.RUNS
    for path in folder.glob(f"*_{glob_safe(run_id)}.json") if folder.is_dir() else ():
        return _read_document(path, run_id)
    return None


def _read_document(path: Path, run_id: str) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and (doc.get("run") or {}).get("id") == run_id else None


def glob_safe(run_id: str) -> str:
    """``run_id`` when it holds only id characters (so it cannot steer a glob), else ``""``."""
    return run_id if re.fullmatch(r"[0-9A-Za-z._-]+", run_id) else "\0"


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


def requirement_results(store: Store, requirement_id: str, upto_seq: int | None = None,
                        limit: int = 50) -> list[dict[str, Any]]:
    """The last ``limit`` recorded results of ``requirement_id`` (up to entry ``upto_seq``),
    oldest first, with ``run_id`` and ``effective`` status (the index table finds them; the
    entry payload decides). Waivers are looked up only when the requirement has any."""
    with store.read() as conn:
        rows = conn.execute(text(
            "SELECT e.seq, e.run_id, e.payload FROM results r JOIN ledger_entries e ON e.seq = r.entry_seq "
            "WHERE r.requirement_id = :q AND e.kind = 'result' AND e.seq <= :upto ORDER BY e.seq DESC LIMIT :n"),
            {"q": requirement_id, "upto": upto_seq if upto_seq is not None else 1 << 62, "n": limit}).all()
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
