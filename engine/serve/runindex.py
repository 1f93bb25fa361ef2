"""The dashboard's run list, kept in the database: ``serve_runs``, filtered and paged in SQL.

One row per run, derived from the ledger entries' payloads (``run-started``, ``run-finished``,
``checkpoint``, a schedule's ``run`` event) and from the run's saved results document (verdict
and rates, ``<store>/runs/<started>_<id>.json``). ``serve_sync`` remembers the last entry read:
each request reads only the entries appended since, in windows of ledger positions, so the
server holds one page of runs at a time whatever the size of the store (memory stays flat as the
store grows; no list of every run is ever built in the process).

The failing, partial and waived counts are the results document's figures, the ones ``golive run``
and ``golive history`` print (failing = fail + error on the *effective* status: a waived
requirement counts as waived, a partial one as partial). Until the document is found, the
``run-finished`` entry's recorded statuses stand in (no waiver applied yet).

Several server processes may sync at once: every write is idempotent (an insert that ignores a
known run, updates that set values) and the synced position only moves forward. The table is an
index the app may rebuild (drop it and it is re-derived); nothing here writes evidence. The app
also adds one index to ``ledger_entries`` (run, kind, seq) that its run pages need.
"""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Mapping, Optional

from sqlalchemy import Index, inspect, text
from sqlmodel import Field, SQLModel

from golive import history as hist
from golive.ledger.store import Store, payload_bytes

FAILING = ("fail", "partial", "error")  # what the trend and compare pages call failing
COUNTED_FAILING = ("fail", "error")  # the run figures' "failing" (golive.run.readiness.figures)
WINDOW = 50_000  # ledger positions one sync transaction reads (the run entries among them: a few thousand)
DOC_CHECKS = 500  # runs awaiting their results document looked up per transaction
ANALYZE_AFTER = 10_000  # ledger positions synced in one refresh after which PostgreSQL re-reads statistics
DOC_CHECK_EVERY_S = 5.0
DOC_GRACE = timedelta(minutes=10)  # a run finished longer ago without a document never gets one
CHOICES = 200  # distinct plans/targets offered in the filter menus
RUN_ENTRIES_INDEX = "ix_serve_ledger_entries_run_kind_seq"
CONDITIONS = (("plan", "plan_id = :plan"), ("target", "target = :target"),
              ("verdict", "COALESCE(verdict, 'none') = :verdict"), ("since", "substr(started, 1, 10) >= :since"),
              ("until", "substr(started, 1, 10) <= :until"), ("status", "status = :status"))


class ServeRun(SQLModel, table=True):
    __tablename__ = "serve_runs"
    # newest first, alone or within one target or plan (the runs page's filters)
    __table_args__ = (Index("ix_serve_runs_order", "started", "seq"),
                      Index("ix_serve_runs_target_order", "target", "started", "seq"),
                      Index("ix_serve_runs_plan_order", "plan_id", "started", "seq"))
    id: str = Field(primary_key=True)
    seq: int  # of the run-started entry: ties of ``started`` keep the ledger's order
    started: str = ""
    finished: str = ""
    status: str = "incomplete"  # finished | incomplete (no run-finished entry)
    plan_id: str = ""
    plan_version: str = ""
    plan_digest: str = ""
    target: str = ""
    selection: str = "[]"  # JSON list (``--only``)
    by_status: str = "{}"  # JSON {status: count}
    results: int = 0
    failing: int = 0
    partial: int = 0
    waived: int = 0
    checkpoint_seq: Optional[int] = None
    scheduled: bool = False
    verdict: Optional[str] = Field(default=None, index=True)
    coverage_rate: Optional[float] = None
    verification_rate: Optional[float] = None
    doc_state: str = Field(default="pending", index=True)  # pending | found | none


class ServeSync(SQLModel, table=True):
    __tablename__ = "serve_sync"
    id: int = Field(default=1, primary_key=True)
    synced_seq: int = 0


TABLES = (ServeRun, ServeSync)
COLUMNS = ("id", "started", "plan_id", "plan_version", "plan_digest", "target", "selection", "finished", "status",
           "by_status", "results", "failing", "partial", "waived", "checkpoint_seq", "scheduled", "verdict", "coverage_rate", "verification_rate")


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
    status: str = "incomplete"
    by_status: dict[str, int] = field(default_factory=dict)
    results: int = 0
    failing: int = 0  # fail + error, effective (see the module docstring)
    partial: int = 0
    waived: int = 0
    checkpoint_seq: int | None = None
    scheduled: bool = False  # a schedule ``run`` entry names this run (else it was started by hand)
    verdict: str | None = None  # from the results document; None without one
    coverage_rate: float | None = None
    verification_rate: float | None = None

    @classmethod
    def of_row(cls, row: Any) -> "RunSummary":
        values = dict(zip(COLUMNS, row))
        values["selection"] = tuple(json.loads(values["selection"] or "[]"))
        values["by_status"] = {str(k): int(v) for k, v in json.loads(values["by_status"] or "{}").items()}
        values["scheduled"] = bool(values["scheduled"])
        return cls(**values)


@dataclass(frozen=True)
class RunFilters:
    plan: str = ""
    target: str = ""
    verdict: str = ""
    since: str = ""  # ISO date, inclusive
    until: str = ""  # ISO date, inclusive
    trigger: str = ""  # scheduled | manual
    status: str = ""  # finished | incomplete

    @classmethod
    def of(cls, params: Mapping[str, str]) -> "RunFilters":
        return cls(**{k: str(params.get(k) or "").strip()[:200] for k in cls.__dataclass_fields__})

    def where(self) -> tuple[str, dict[str, Any]]:
        """The SQL condition these filters make, and its parameters (always bound, never spliced)."""
        terms, params = ["1 = 1"], {}
        for name, condition in CONDITIONS:  # the column expressions are fixed here; values are parameters
            if getattr(self, name):
                terms.append(condition)
                params[name] = getattr(self, name)
        if self.trigger in ("scheduled", "manual"):
            terms.append("scheduled = :scheduled")
            params["scheduled"] = self.trigger == "scheduled"
        return " AND ".join(terms), params


class RunIndex:
    """The run list in ``serve_runs``, brought up to date with the ledger before each read."""

    def __init__(self, store: Store) -> None:
        self.store = store
        with store.write() as conn:
            _drop_outdated(conn)
            SQLModel.metadata.create_all(conn, tables=[t.__table__ for t in TABLES])
            for index in ServeRun.__table__.indexes:  # a table made by an earlier version lacks the newer ones
                index.create(conn, checkfirst=True)
            # a run's results in ledger order (run, run-in-compare and requirement pages): without it
            # SQLite's planner walks the whole 'kind' index (every result of every run)
            conn.execute(text(f"CREATE INDEX IF NOT EXISTS {RUN_ENTRIES_INDEX} ON ledger_entries (run_id, kind, seq)"))
            if conn.execute(text("SELECT count(*) FROM serve_sync")).scalar() == 0:
                conn.execute(text("INSERT INTO serve_sync (id, synced_seq) VALUES (1, 0)"))
        self._lock = threading.Lock()  # one sync at a time in this process
        self._docs_checked = 0.0

    # --- reads -------------------------------------------------------------------------
    def page(self, filters: RunFilters, offset: int, limit: int) -> tuple[list[RunSummary], int]:
        """Runs matching ``filters``, newest first, ``limit`` from ``offset``; and how many match."""
        self.refresh()
        where, params = filters.where()
        with self.store.read() as conn:
            total = conn.execute(text(f"SELECT count(*) FROM serve_runs WHERE {where}"), params).scalar() or 0
            rows = conn.execute(text(f"SELECT {', '.join(COLUMNS)} FROM serve_runs WHERE {where} "
                                     "ORDER BY started DESC, seq DESC LIMIT :limit OFFSET :offset"),
                                {**params, "limit": limit, "offset": offset}).all()
        return [RunSummary.of_row(r) for r in rows], int(total)

    def newest(self, limit: int, filters: RunFilters = RunFilters(), with_rates: bool = False) -> list[RunSummary]:
        where, params = filters.where()
        if with_rates:
            where += " AND coverage_rate IS NOT NULL AND verification_rate IS NOT NULL"
        return self.page_where(where, params, limit)

    def page_where(self, where: str, params: dict[str, Any], limit: int) -> list[RunSummary]:
        self.refresh()
        with self.store.read() as conn:
            rows = conn.execute(text(f"SELECT {', '.join(COLUMNS)} FROM serve_runs WHERE {where} "
                                     "ORDER BY started DESC, seq DESC LIMIT :limit"), {**params, "limit": limit}).all()
        return [RunSummary.of_row(r) for r in rows]

    def get(self, run_id: str) -> RunSummary | None:
        self.refresh()
        with self.store.read() as conn:
            row = conn.execute(text(f"SELECT {', '.join(COLUMNS)} FROM serve_runs WHERE id = :i"),
                               {"i": run_id}).first()
        return RunSummary.of_row(row) if row else None

    def choices(self) -> dict[str, tuple[str, ...]]:
        """The distinct plans, targets and verdicts the filter menus offer."""
        self.refresh()
        out = {}
        with self.store.read() as conn:
            for name, column in (("plans", "plan_id"), ("targets", "target"),
                                 ("verdicts", "COALESCE(verdict, 'none')")):
                out[name] = tuple(v for (v,) in conn.execute(text(
                    f"SELECT DISTINCT {column} AS v FROM serve_runs ORDER BY v LIMIT {CHOICES}")))
        return out

    # --- keeping up with the ledger -------------------------------------------------------
    def refresh(self) -> None:
        with self._lock:
            with self.store.read() as conn:
                size = conn.execute(text("SELECT size FROM ledger_head WHERE id = 1")).scalar() or 0
                synced = conn.execute(text("SELECT synced_seq FROM serve_sync WHERE id = 1")).scalar() or 0
            start = synced
            while synced < size:
                synced = self._sync_batch(synced, min(size, synced + WINDOW))
            if synced - start >= ANALYZE_AFTER:
                self._analyze()
            if time.monotonic() - self._docs_checked >= DOC_CHECK_EVERY_S or synced != size:
                self._attach_documents()
                self._docs_checked = time.monotonic()

    def _analyze(self) -> None:
        """PostgreSQL plans the requirement page's join with ``serve_runs`` from table statistics;
        a table just filled in bulk has none until autovacuum runs (measured: 524 ms a page at
        10,000 runs, 18 ms once analysed)."""
        with self.store.write() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("ANALYZE serve_runs"))

    def _sync_batch(self, after: int, upto: int) -> int:
        """Apply the run entries at positions ``after`` < seq <= ``upto``; returns ``upto``. A window
        of positions, not a LIMIT: the kind index then reads only the entries of that window."""
        with self.store.read() as conn:
            rows = conn.execute(text(
                "SELECT seq, run_id, kind, payload FROM ledger_entries WHERE seq > :a AND seq <= :u AND kind IN "
                "('run-started', 'run-finished', 'checkpoint', 'schedule') ORDER BY seq"),
                {"a": after, "u": upto}).all()
        reached = upto
        with self.store.write() as conn:
            for seq, run_id, kind, payload in rows:
                _apply(conn, seq, run_id, kind, json.loads(payload_bytes(payload)))
            conn.execute(text("UPDATE serve_sync SET synced_seq = :r WHERE id = 1 AND synced_seq < :r"),
                         {"r": reached})
        return reached

    def _attach_documents(self) -> None:
        """Verdict and rates of the runs still awaiting their results document (it is written
        after the run's last entry), newest first, ``DOC_CHECKS`` runs a transaction: one file
        name per run, no folder listing. A run finished ``DOC_GRACE`` ago without one is no longer
        looked up, so the pending set stays small after the first pass over an older store."""
        before = 1 << 62
        while True:
            with self.store.read() as conn:
                pending = conn.execute(text(
                    "SELECT seq, id, started, finished, status FROM serve_runs WHERE doc_state = 'pending' "
                    "AND seq < :before ORDER BY seq DESC LIMIT :n"), {"before": before, "n": DOC_CHECKS}).all()
            if not pending:
                return
            before = pending[-1][0]
            updates = [u for u in (_document_update(self.store.path, *row[1:]) for row in pending) if u]
            if updates:
                with self.store.write() as conn:
                    for values in updates:
                        conn.execute(text(
                            "UPDATE serve_runs SET verdict = :verdict, coverage_rate = :coverage, "
                            "verification_rate = :verification, doc_state = :state, failing = COALESCE(:failing, "
                            "failing), partial = COALESCE(:partial, partial), waived = COALESCE(:waived, waived) "
                            "WHERE id = :id"), values)


def _apply(conn, seq: int, run_id: str, kind: str, body: dict[str, Any]) -> None:  # noqa: ANN001
    """One ledger entry's effect on ``serve_runs`` (idempotent: applying it twice changes nothing)."""
    if kind == "run-started":
        plan = body.get("plan") or {}
        conn.execute(text(
            "INSERT INTO serve_runs (id, seq, started, finished, status, plan_id, plan_version, plan_digest, target, "
            "selection, by_status, results, failing, partial, waived, scheduled, doc_state) VALUES (:id, :seq, "
            ":started, '', 'incomplete', :plan_id, :plan_version, :plan_digest, :target, :selection, '{}', 0, 0, 0, 0, "
            ":f, 'pending') "
            "ON CONFLICT (id) DO NOTHING"),
            {"id": run_id, "seq": seq, "started": str(body.get("started") or ""), "plan_id": str(plan.get("id") or ""),
             "plan_version": str(plan.get("version") or ""), "plan_digest": str(plan.get("digest") or ""),
             "target": str(body.get("target") or ""), "selection": json.dumps(list(body.get("selection") or ())),
             "f": False})
    elif kind == "run-finished":
        by_status = {str(k): int(v) for k, v in (body.get("by_status") or {}).items()}
        # recorded statuses until the results document gives the effective figures (never over them)
        conn.execute(text("UPDATE serve_runs SET status = 'finished', finished = :f, by_status = :b, results = :n, "
                          "failing = CASE WHEN doc_state = 'found' THEN failing ELSE :failing END, "
                          "partial = CASE WHEN doc_state = 'found' THEN partial ELSE :partial END WHERE id = :id"),
                     {"id": run_id, "f": str(body.get("finished") or ""), "b": json.dumps(by_status),
                      "n": int(body.get("results") or 0), "failing": sum(by_status.get(s, 0) for s in COUNTED_FAILING),
                      "partial": by_status.get("partial", 0)})
    elif kind == "checkpoint":
        conn.execute(text("UPDATE serve_runs SET checkpoint_seq = :s WHERE id = :id "
                          "AND (checkpoint_seq IS NULL OR checkpoint_seq < :s)"), {"id": run_id, "s": seq})
    elif kind == "schedule" and body.get("event") == "run" and body.get("run_id"):
        conn.execute(text("UPDATE serve_runs SET scheduled = :t WHERE id = :id"),
                     {"id": str(body["run_id"]), "t": True})


def _document_update(store_path: Path, run_id: str, started: str, finished: str, status: str) -> dict | None:
    """The values a found document gives the run; ``doc_state`` ``none`` for a run finished long
    ago without one; None when it is still worth waiting for."""
    doc = read_document(document_path(store_path, run_id, started), run_id)
    if doc is None and status == "finished" and _long_ago(finished):
        doc = find_document(store_path, run_id)  # saved under another start stamp: one listing, once
        if doc is None:
            return {"id": run_id, "verdict": None, "coverage": None, "verification": None, "state": "none",
                    "failing": None, "partial": None, "waived": None}
    if doc is None:
        return None
    verdict = str(((doc.get("summary") or {}).get("verdict") or {}).get("state") or "") or None
    try:
        coverage, verification = hist.rates(doc)
    except (TypeError, ValueError):
        coverage = verification = None  # a damaged document: the run is listed without its rates
    return {"id": run_id, "verdict": verdict, "coverage": coverage, "verification": verification, "state": "found",
            **document_counts(doc)}


def document_counts(doc: dict[str, Any]) -> dict[str, int | None]:
    """failing / partial / waived of a results document: ``summary.figures`` (what ``golive run``
    and ``golive history`` print), else counted from ``summary.by_status`` (effective statuses)."""
    summary = doc.get("summary") or {}
    figures = summary.get("figures") or {}
    by_status = summary.get("by_status") or {}
    try:
        return {"failing": int(figures.get("failing", sum(int(by_status.get(s, 0)) for s in COUNTED_FAILING))),
                "partial": int(figures.get("partial", by_status.get("partial", 0))),
                "waived": int(figures.get("waived", by_status.get("waived", 0)))}
    except (TypeError, ValueError, AttributeError):
        return {"failing": None, "partial": None, "waived": None}  # a damaged document: keep the recorded counts


def _drop_outdated(conn) -> None:  # noqa: ANN001
    """Drop a ``serve_runs`` table made before the partial/waived columns (and rewind the sync):
    it is an index, re-derived from the ledger on the next read."""
    found = inspect(conn)
    columns = {c["name"] for c in found.get_columns("serve_runs")} if found.has_table("serve_runs") else set()
    if columns and "waived" not in columns:
        conn.execute(text("DROP TABLE serve_runs"))
        if found.has_table("serve_sync"):
            conn.execute(text("UPDATE serve_sync SET synced_seq = 0"))


def _long_ago(when: str) -> bool:
    try:
        moment = datetime.fromisoformat(when)
    except ValueError:
        return True
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc) - moment > DOC_GRACE


def document_path(store_path: Path, run_id: str, started: str) -> Path:
    """Where :func:`golive.history.save` writes the run's document (``<started>_<id>.json``)."""
    stamp = str(started).replace(":", "").replace("-", "")[:15]
    return store_path / hist.RUNS / f"{stamp}_{run_id}.json"


def run_document(store_path: Path, run: "RunSummary") -> dict[str, Any] | None:
    """The results document of ``run``, or None (none saved, or damaged)."""
    return read_document(document_path(store_path, run.id, run.started), run.id) or find_document(store_path, run.id)


def find_document(store_path: Path, run_id: str) -> dict[str, Any] | None:
    folder = store_path / hist.RUNS
    safe = run_id if re.fullmatch(r"[0-9A-Za-z._-]+", run_id) else None  # a glob pattern only of id characters
    for path in folder.glob(f"*_{safe}.json") if safe and folder.is_dir() else ():
        return read_document(path, run_id)
    return None


def read_document(path: Path, run_id: str) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and (doc.get("run") or {}).get("id") == run_id else None
