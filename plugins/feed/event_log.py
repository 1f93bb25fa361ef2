"""The feed event log (``logs/feed_events.jsonl``) streamed into compact columns.

A connection-flapping client writes millions of events; parsed into dicts they cost ~1 KB
each (a 400 MB log took 14 GB). Here each event keeps its time (µs since the epoch, exactly
what the parsed ``datetime`` held), kind, source, line and byte offset (~30 bytes); the gap
bounds of reconnects and backfills and the backfill counts are kept only for those events.
A message that shows an event re-reads its line (:meth:`FeedEvents.record`).

Event contract: ``docs/feed-artifacts.md``.
"""
from __future__ import annotations

import json
from array import array
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from golive.plugins.monitoring.jsonlines import size_note

from .jsonl import LogFormatError, checked, parse_ts

EVENTS = ("connect", "subscribed", "first_record", "disconnect", "reconnect", "backfill",
          "heartbeat_timeout", "error")
KIND = {name: code for code, name in enumerate(EVENTS)}
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
NO_TIME = np.iinfo(np.int64).min  # a reconnect without gap bounds


ONE_US = timedelta(microseconds=1)


def micros(dt: datetime) -> int:
    return (dt - EPOCH) // ONE_US


def from_micros(us: int) -> datetime:
    return EPOCH + ONE_US * int(us)


@dataclass
class FeedEvents:
    """Events sorted by time (a stable sort: equal times keep their file order)."""

    path: Path
    ts: np.ndarray  # µs since the epoch
    kind: np.ndarray  # code into EVENTS
    source: np.ndarray  # code into sources ("" when absent)
    sources: list[str]
    line: np.ndarray
    offset: np.ndarray  # byte offset of the line, to re-read it for a message
    gap_start: np.ndarray  # NO_TIME where the event has no gap bounds
    gap_end: np.ndarray
    missing_sequences: int  # totals over the backfills: what the client says about itself
    duplicates: int
    note: str | None = None  # the size warning, for a large log

    def __len__(self) -> int:
        return len(self.ts)

    def rows(self, *kinds: str) -> np.ndarray:
        return np.flatnonzero(np.isin(self.kind, [KIND[k] for k in kinds]))

    def where(self, row: int) -> str:
        return f"{self.path}:{int(self.line[row])}"

    def record(self, row: int) -> dict:
        """The event as logged (its line read again)."""
        with open(self.path, "rb") as fh:
            fh.seek(int(self.offset[row]))
            return json.loads(fh.readline())


def load_events(path: Path, shown: str | None = None) -> FeedEvents:
    """Stream the log into :class:`FeedEvents`; a bad line raises ``LogFormatError`` naming
    the file and line (unknown event, a backfill without its gap bounds, bad JSON or time).
    ``shown`` is the path as the size warning names it (relative to the target)."""
    note = size_note(path, shown)
    ts, kind, source, line, offset = array("q"), array("B"), array("i"), array("q"), array("q")
    gap_rows, gap_start, gap_end = array("q"), array("q"), array("q")
    missing = duplicates = 0
    sources: dict[str, int] = {}
    for row, (where, number, pos, rec) in enumerate(checked(path, {"ts": (str, int), "event": str})):
        code = KIND.get(rec["event"])
        if code is None:
            raise LogFormatError(f"{where}: unknown event {rec['event']!r}; known: {', '.join(EVENTS)}")
        gaps = {f: parse_ts(rec[f], where, f) for f in ("gap_start", "gap_end") if f in rec}
        if code == KIND["backfill"] and len(gaps) < 2:
            raise LogFormatError(f"{where}: a backfill event needs 'gap_start' and 'gap_end'")
        if gaps and code in (KIND["reconnect"], KIND["backfill"]):  # no other event's gaps are used
            gap_rows.append(row)
            gap_start.append(micros(gaps["gap_start"]) if "gap_start" in gaps else NO_TIME)
            gap_end.append(micros(gaps["gap_end"]) if "gap_end" in gaps else NO_TIME)
        if code == KIND["backfill"]:
            missing += _count(rec, "missing_sequences", where)
            duplicates += _count(rec, "duplicates", where)
        ts.append(micros(rec["_ts"]))
        kind.append(code)
        source.append(sources.setdefault(str(rec.get("source", "")), len(sources)))
        line.append(number)
        offset.append(pos)
    n = len(ts)
    order = np.argsort(_np(ts, np.int64), kind="stable")
    gaps_s, gaps_e = np.full(n, NO_TIME, np.int64), np.full(n, NO_TIME, np.int64)
    gaps_s[_np(gap_rows, np.int64)], gaps_e[_np(gap_rows, np.int64)] = _np(gap_start, np.int64), _np(gap_end, np.int64)
    del gap_rows, gap_start, gap_end
    columns = {}
    for name, col, dtype in (("ts", ts, np.int64), ("kind", kind, np.uint8), ("source", source, np.int32),
                             ("line", line, np.int64), ("offset", offset, np.int64)):
        columns[name] = _np(col, dtype)[order]
        del col[:]  # one column at a time: the unsorted copy goes before the next is made
    return FeedEvents(path=path, **columns, sources=list(sources), gap_start=gaps_s[order], gap_end=gaps_e[order],
                      missing_sequences=missing, duplicates=duplicates, note=note)


def _count(rec: dict, field: str, where: str) -> int:
    value = rec.get(field, 0)
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise LogFormatError(f"{where}: field '{field}' must be a whole number, got {value!r}") from None


def _np(col: array, dtype) -> np.ndarray:
    return np.frombuffer(col, dtype=dtype) if len(col) else np.zeros(0, dtype)


def next_of(events: FeedEvents, rows: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """For each of ``rows``, the first of ``candidates`` after it of the same source (-1 if none)."""
    out = np.full(len(rows), -1, np.int64)
    for code in np.unique(events.source[rows]):
        mine = events.source[rows] == code
        theirs = candidates[events.source[candidates] == code]
        k = np.searchsorted(theirs, rows[mine], side="right")
        out[mine] = np.where(k < len(theirs), theirs[np.minimum(k, max(len(theirs) - 1, 0))] if len(theirs) else -1, -1)
    return out


class Coverage:
    """The union of intervals (µs), to measure how much of a span they leave uncovered."""

    def __init__(self, starts: np.ndarray, ends: np.ndarray):
        keep = ends > starts
        order = np.argsort(starts[keep], kind="stable")
        merged_a, merged_b = [], []
        for a, b in zip(starts[keep][order].tolist(), ends[keep][order].tolist()):
            if merged_b and a <= merged_b[-1]:
                merged_b[-1] = max(merged_b[-1], b)
            else:
                merged_a.append(a)
                merged_b.append(b)
        self.a, self.b = np.array(merged_a, np.int64), np.array(merged_b, np.int64)
        self.before = np.concatenate(([0], np.cumsum(self.b - self.a)))  # covered length before each piece

    def uncovered(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """µs of each [lo, hi] not inside the union (0 where hi <= lo)."""
        lo, hi = np.asarray(lo, np.int64), np.asarray(hi, np.int64)
        span = np.maximum(hi - lo, 0)
        if not len(self.a):
            return span
        return span - np.maximum(self._covered_until(hi) - self._covered_until(lo), 0) * (hi > lo)

    def _covered_until(self, t: np.ndarray) -> np.ndarray:
        """Covered length in (-inf, t]."""
        k = np.searchsorted(self.a, t, side="right")  # pieces starting at or before t
        last = np.maximum(k - 1, 0)
        partial = np.clip(t - self.a[last], 0, self.b[last] - self.a[last])
        return np.where(k > 0, self.before[last] + partial, 0)
