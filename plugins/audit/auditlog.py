"""The target's audit log (``logs/audit.jsonl``) indexed for the audit family's checks.

Each entry is one audited action: ``seq``, ``ts``, ``actor``, ``event`` and ``id`` (the id of
the thing acted on: signal id, order id, fill id...). Event-specific fields are either at
the top level or under ``payload``; ``fields(entry)`` merges both so checks need not care.
Records files are read through the records contract (golive.plugins.records.reader), whose
errors are turned into ``missing``/``error`` results here as well.
"""
from __future__ import annotations

import functools
from typing import Any, Callable, Iterable

from golive.model import CheckContext, CheckResult, Requirement, Status
from golive.plugins.monitoring.opslog import Record, guarded, input_path, iter_jsonl
from golive.plugins.records import reader

EVENT_NAMES = {"signal": "signal", "order": "order_new", "fill": "fill", "position": "position_change"}


def load(ctx: CheckContext, events: Iterable[str] | None = None) -> list[Record]:
    """The audit log's entries of the ``events`` kinds (all when None), streamed: entries of
    other kinds are checked and dropped, not kept."""
    path = input_path(ctx, "audit", "logs/audit.jsonl")
    wanted = None if events is None else set(events)
    entries = [e for e in iter_jsonl(path, required=("ts", "event")) if wanted is None or e.get("event") in wanted]
    ctx.record_artifact(path)
    return entries


def fields(entry: Record) -> dict[str, Any]:
    payload = entry.get("payload")
    merged = dict(payload) if isinstance(payload, dict) else {}
    merged.update({k: v for k, v in entry.data.items() if k != "payload" and not k.startswith("_")})
    merged["_ts"] = entry.get("_ts")
    return merged


def by_id(entries: list[Record], event: str) -> dict[str, dict]:
    """Entries of one event kind keyed by their ``id`` (the first one wins: later ones are
    amendments and are reported by the checks that care)."""
    out: dict[str, dict] = {}
    for e in entries:
        if e.get("event") == event and e.get("id") is not None:
            out.setdefault(str(e["id"]), fields(e) | {"_where": e.where})
    return out


def records_guarded(func: Callable[[Requirement, CheckContext], CheckResult]):
    """``guarded`` plus the records reader's own missing/error exceptions."""

    @functools.wraps(func)
    def wrapper(requirement: Requirement, ctx: CheckContext) -> CheckResult:
        try:
            return func(requirement, ctx)
        except reader.RecordsMissing as exc:
            return CheckResult(status=Status.MISSING, message=f"{requirement.id}: {exc}")
        except reader.RecordsError as exc:
            return CheckResult(status=Status.ERROR, message=f"{requirement.id}: {exc}")

    return guarded(wrapper)
