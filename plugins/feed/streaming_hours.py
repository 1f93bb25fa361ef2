"""Observed trading hours and silences of a set of DBN files (PRE-FEED-03 ``mbo_streaming``).

Each file covers the range its metadata states (``start``..``end``), widened to the records it
holds; a live capture without ``end`` covers up to its last record. Of that range only the
venue's continuous-trading intervals count (:mod:`.sessions`, the file result's
``trading_intervals``, or the plan's ``market_hours`` override): a holiday, a weekend or the CME
halt is neither observed nor silent.

A *silence* is time inside those intervals without a record: the gaps between records (the
file result's ``silences``), the start of the covered range before the first record and its
end after the last. Between two files of one dataset, the time from the end of one to the start
of the next is a silence only when it lies inside one trading interval (the recording stopped
during a session); a gap that spans a close is time nobody recorded, neither observed nor
silent, so unrelated files (different days, months apart) never make a silence. Pieces that
touch at a file boundary are joined. A dataset without a calendar joins nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .sessions import SessionPlan, clip_to, union


@dataclass
class Observation:
    observed: list[tuple[int, int]] = field(default_factory=list)  # union, ns UTC
    silences: list[tuple[int, int]] = field(default_factory=list)  # longest first
    joins: int = 0  # gaps between consecutive files inside one session
    sessions: dict[str, dict] = field(default_factory=dict)  # dataset -> SessionPlan.describe()

    @property
    def observed_s(self) -> float:
        return sum(b - a for a, b in self.observed) / 1e9

    @property
    def longest_s(self) -> float:
        return (self.silences[0][1] - self.silences[0][0]) / 1e9 if self.silences else 0.0


def observe(results: list[dict], override: dict | None = None) -> Observation:
    """Observed trading time and silences of per-file quality results (readable MBO files)."""
    out = Observation()
    files, pieces = [], []
    for r in results:
        cov = r.get("covered")
        if not cov or cov[0] is None or cov[1] is None:
            continue
        lo, hi = int(cov[0]), int(cov[1])
        dataset = r.get("dataset", "")
        if override is not None:
            plan = SessionPlan.for_dataset(dataset, lo, hi, override)
            intervals = plan.trading_intervals(lo, hi, clip=True)
            out.sessions.setdefault(dataset, plan.describe())
        else:
            intervals = [(int(a), int(b)) for a, b in r.get("trading_intervals", [])]
            out.sessions.setdefault(dataset, r.get("sessions", {}))
        first, last = r.get("first_ts_recv"), r.get("last_ts_recv")
        gaps = [(int(a), int(b)) for a, b in r.get("silences", [])]
        gaps += [(lo, hi)] if first is None else [(lo, int(first)), (int(last), hi)]
        for a, b in gaps:
            pieces += clip_to(intervals, a, b)
        out.observed += intervals
        files.append((dataset, lo, hi))
    for dataset, gap in _session_gaps(files, override):
        out.joins += 1
        out.observed.append(gap)
        pieces.append(gap)
    out.observed = union(out.observed)
    boundaries = {t for _, lo, hi in files for t in (lo, hi)}
    out.silences = sorted(_join_touching(pieces, boundaries), key=lambda p: p[0] - p[1])
    return out


def _session_gaps(files: list[tuple[str, int, int]], override: dict | None):
    """(dataset, gap) between consecutive files of a dataset that lies inside one session."""
    by_dataset: dict[str, list[tuple[int, int]]] = {}
    for dataset, lo, hi in files:
        by_dataset.setdefault(dataset, []).append((lo, hi))
    for dataset, spans in by_dataset.items():
        spans.sort()
        plan = SessionPlan.for_dataset(dataset, spans[0][0], max(h for _, h in spans), override)
        if plan.rule is None:
            continue  # no sessions: nothing tells a stopped recording from unrelated files
        reach = spans[0][1]
        for lo, hi in spans[1:]:
            if lo > reach:
                inside = plan.trading_intervals(reach, lo)
                if len(inside) == 1 and inside[0][0] <= reach and lo <= inside[0][1]:
                    yield dataset, (reach, lo)
            reach = max(reach, hi)


def _join_touching(pieces: list[tuple[int, int]], boundaries: set[int]) -> list[tuple[int, int]]:
    """Join pieces where one ends exactly where the next begins at a file boundary (two gaps
    of one file that meet at a record stay apart); overlapping pieces (files covering the
    same time) are kept apart."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(set(pieces)):
        if b <= a:
            continue
        if out and out[-1][1] == a and a in boundaries:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def inside_hours(results: list[dict], times_ns: list[int], override: dict | None = None) -> list[bool]:
    """Whether each time lies in a trading interval of one of the results' datasets."""
    if not times_ns:
        return []
    lo, hi = min(times_ns), max(times_ns) + 1
    plans = [SessionPlan.for_dataset(d, lo, hi, override)
             for d in sorted({r.get("dataset", "") for r in results})]
    intervals = union(iv for p in plans for iv in p.trading_intervals(lo, hi))
    return [any(a <= t < b for a, b in intervals) for t in times_ns]
