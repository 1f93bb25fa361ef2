"""Page data for the overview pages: trends of coverage and verification over a chosen period,
one chart per series, and the ledger's status (size, head, recent checkpoints, keys).

A trend never mixes series: runs are grouped by target, plan digest and selection (``--only``),
the rule :mod:`golive.history` applies to a report's trend.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup
from sqlalchemy import text

from golive.ledger.store import Store, payload_bytes
from golive.report import charts
from golive.serve import queries
from golive.serve.runindex import RunFilters, RunIndex, RunSummary

RECENT_CHECKPOINTS = 20
TREND_RUNS = 1000  # the newest runs with rates a trends page draws (narrow the period for older ones)


@dataclass(frozen=True)
class Series:
    target: str
    plan: str
    digest: str
    selection: tuple[str, ...]
    runs: tuple[RunSummary, ...]  # oldest first, those with rates
    chart: Markup


def trends(index: RunIndex, filters: RunFilters) -> tuple[Series, ...]:
    """One series per (target, plan, digest, selection) over the newest ``TREND_RUNS`` runs that
    match ``filters`` and have rates."""
    groups: dict[tuple, list[RunSummary]] = {}
    for run in reversed(index.newest(TREND_RUNS, filters, with_rates=True)):  # oldest first
        groups.setdefault((run.target, run.plan_id, run.plan_digest, run.selection), []).append(run)
    found = []
    for (target, plan, digest, selection), runs in groups.items():
        points = [(r.started[:16].replace("T", " "), r.coverage_rate, r.verification_rate) for r in runs]
        found.append(Series(target, plan, digest, selection, tuple(runs),
                            charts.trend_line(points, f"{plan} on {target}")))
    return tuple(sorted(found, key=lambda s: s.runs[-1].started, reverse=True))


@dataclass(frozen=True)
class LedgerStatus:
    size: int
    head: str
    checkpoints: tuple[dict[str, Any], ...]  # newest first
    keys: tuple[dict[str, Any], ...]  # key entries in ledger order (add, rotate, revoke)
    authored: dict[str, int]  # attestations, waivers: how many recorded


def ledger_status(store: Store) -> LedgerStatus:
    size, head = queries.ledger_head(store)
    with store.read() as conn:
        checkpoints = conn.execute(text(
            "SELECT seq, run_id, payload FROM ledger_entries WHERE kind = 'checkpoint' ORDER BY seq DESC LIMIT :n"),
            {"n": RECENT_CHECKPOINTS}).all()
        keys = conn.execute(text("SELECT seq, payload FROM ledger_entries WHERE kind = 'key' ORDER BY seq")).all()
        authored = dict(conn.execute(text(
            "SELECT kind, count(*) FROM ledger_entries WHERE kind IN ('attestation', 'waiver') GROUP BY kind")).all())
    return LedgerStatus(
        size=size, head=head,
        checkpoints=tuple({"seq": seq, "run_id": run_id, **_fields(payload, "size", "merkle_root", "key_id", "time")}
                          for seq, run_id, payload in checkpoints),
        keys=tuple({"seq": seq, **_fields(payload, "action", "role", "name", "key_id", "replaces", "time")}
                   for seq, payload in keys),
        authored={k: int(v) for k, v in authored.items()})


def _fields(payload, *names: str) -> dict[str, str]:
    body = json.loads(payload_bytes(payload))
    return {n: str(body.get(n) if body.get(n) is not None else "") for n in names}
