"""Position-reduction drills: the evidence for RISK-03 when no limit was breached in production.

A limit breach may never happen in the period, so "the system reduces positions automatically"
is exercised either by a real breach in ``records/positions`` or by a drill. Drills are logged
with the other drills in ``logs/dr_drills.jsonl`` (docs/ops-artifacts.md) as records with
``kind: position_reduction``: ``ts``, ``started`` (the drill put a position over its limit),
``reduced`` (the first reducing order was sent; absent = none sent), ``recovered`` (the position
was back within its limit; absent = never), optional ``symbol`` and ``outcome`` (ok|failed).
Each drill becomes a breach episode measured exactly like a real one.
"""
from __future__ import annotations

from pathlib import Path

from golive.plugins.monitoring.opslog import ArtifactError, iso, iter_jsonl

KIND = "position_reduction"


def drill_episodes(path: Path) -> list[dict]:
    """The reduction drills of ``path`` as breach-episode rows (empty when the log does not exist)."""
    if not path.is_file():
        return []
    rows = []
    for d in iter_jsonl(path, required=("ts", "kind"), ts_fields=("ts", "started", "reduced", "recovered")):
        if d["kind"] != KIND:
            continue
        start = d.get("_started")
        if start is None:
            raise ArtifactError(d.path, d.line, f"a {KIND} drill needs 'started' (when the limit was exceeded)")
        reduced, recovered = d.get("_reduced"), d.get("_recovered")
        for name, at in (("reduced", reduced), ("recovered", recovered)):
            if at is not None and at < start:
                raise ArtifactError(d.path, d.line, f"{name} is before started")
        failed = d.get("outcome", "ok") != "ok"
        rows.append({"limit_on": f"drill {d.get('symbol', '')}".strip(), "source": d.where, "start": iso(start),
                     "start_s": start, "end": iso(recovered) if recovered is not None else None,
                     "duration_s": None if recovered is None or failed else recovered - start,
                     "reduction_delay_s": None if reduced is None else reduced - start, "outcome": d.get("outcome", "ok")})
    return rows
