"""What every records-based check shares: error mapping, params schema, plan-limit lookup.

``guarded`` turns a missing records file into ``missing`` and a contract breach into ``error``
(the message names file, column and row) so a bad file never stops the run. ``make_spec`` builds
the :class:`CheckSpec` with a params schema that always accepts ``files`` (per-file path
overrides). ``plan_limit`` reads a threshold value from the requirement only to *list* the rows
that break it in ``details``; the verdict stays the engine's.
"""
from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any, Callable

import pandas as pd

from golive.model import CheckResult, CheckSpec, Requirement, Status
from golive.plugins.records.reader import RecordsError, RecordsMissing, size_notes

MAX_LISTED = 50  # violation lists in details are capped so a report stays readable

FILES_SCHEMA = {
    "type": "object",
    "description": "override the path (relative to the target root) of a records file",
    "additionalProperties": {"type": "string"},
}


def guarded(func: Callable[[Requirement, Any], CheckResult]) -> Callable[[Requirement, Any], CheckResult]:
    @functools.wraps(func)
    def run(requirement: Requirement, ctx) -> CheckResult:
        try:
            return _with_size_notes(func(requirement, ctx), ctx)
        except RecordsMissing as exc:
            return CheckResult(status=Status.MISSING, message=str(exc))
        except RecordsError as exc:
            return CheckResult(status=Status.ERROR, message=f"{requirement.id}: {exc}",
                               details={"bad_input": exc.as_dict()})
    return run


def _with_size_notes(result: CheckResult, ctx) -> CheckResult:
    """``details.large_inputs`` names the large records files read ("... is 400 MB: read in chunks")."""
    notes = size_notes(ctx)
    if notes and isinstance(result, CheckResult):
        details = result.details or {}
        result.details = {**details, "large_inputs": sorted({*details.get("large_inputs", ()), *notes})}
    return result


def make_spec(plugin: str, name: str, func, description: str, metrics: tuple[str, ...],
              properties: dict | None = None, required: tuple[str, ...] = ()) -> CheckSpec:
    props = {"files": FILES_SCHEMA, **(properties or {})}
    schema = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return CheckSpec(plugin=plugin, name=name, func=guarded(func), description=description,
                     params_schema=schema, metrics=metrics)


def plan_limit(requirement: Requirement, metric: str) -> Any | None:
    """The plan's limit on ``metric`` (first threshold naming it), or None."""
    for t in requirement.thresholds:
        if t.metric == metric and t.op != "between":
            return t.value
    return None


def no_data(message: str) -> CheckResult:
    """Nothing to measure: the records exist but hold no rows of the kind the check needs."""
    return CheckResult(status=Status.MISSING, message=message)


def money(value: Decimal | None) -> float | None:
    """A Decimal amount as a metric number (rounded to the cent; the exact value goes in details)."""
    return None if value is None else float(value.quantize(Decimal("0.01")))


def listed(rows: list, total: int | None = None) -> dict:
    """A capped violation list plus how many there were."""
    return {"count": len(rows) if total is None else total, "items": rows[:MAX_LISTED],
            "truncated": len(rows) > MAX_LISTED}


class Tally:
    """Items found row by row over a large file: all are counted, the first ``keep`` are kept
    (``listed(t.items, t.count)`` is what ``listed`` of the full list gives)."""

    def __init__(self, keep: int = MAX_LISTED + 1) -> None:
        self.items: list = []
        self.count, self.keep = 0, keep

    def add(self, item) -> None:
        self.count += 1
        if len(self.items) < self.keep:
            self.items.append(item)

    def listed(self) -> dict:
        return listed(self.items, self.count)


class TimeSpan:
    """Event times seen chunk by chunk, kept as their count and the earliest and latest: what
    ``observe`` needs of them (``observe(result, what, span.ends, events=span.events)``)."""

    def __init__(self) -> None:
        self.events, self.ends = 0, []

    def add(self, times) -> None:
        known = pd.Series(times).dropna()
        if len(known):
            self.events += len(known)
            self.ends = [min([*self.ends[:1], known.min()]), max([*self.ends[1:], known.max()])]


def signals_of(frame, strategy: str | None = None, mode: str | None = None, emitted_only: bool = True):
    """Filter a signals frame on strategy/mode/emitted (columns may be absent = no filter)."""
    out = frame
    if strategy and "strategy" in out:
        out = out[out["strategy"] == strategy]
    if mode and "mode" in out:
        out = out[out["mode"] == mode]
    if emitted_only and "emitted" in out:
        # .loc with a bool mask: an empty object-dtype mask given to [] selects *columns* (none),
        # so a filter that matched nothing used to drop every column and crash the check
        out = out.loc[out["emitted"].map(lambda v: v is None or bool(v)).astype(bool)]
    return out


COMMON_FILTERS = {
    "strategy": {"type": "string", "description": "only signals of this strategy (ev, ifd)"},
    "mode": {"type": "string", "description": "only signals of this mode (shadow, limited, live)"},
}
