"""Exact sequence-gap bookkeeping for one file, and whether its sequence figures can be judged.

:class:`GapRanges` keeps the numbers a channel never received as disjoint ranges per channel
(bisected when a late record fills one), so gap and missing-number counts are exact with memory
bounded by the number of ranges. :func:`judge_sequences` decides whether a file's figures mean
anything: Databento numbers messages per channel, so a symbol-filtered file (or one filtered by
the plan's ``instruments``) skips the numbers of the instruments it left out.
"""
from __future__ import annotations

import heapq
from bisect import bisect_right

SEQUENCE_METRICS = ("sequence_gaps", "missing_sequences", "late_records")
# a symbol-filtered file whose channels skip numbers at more than this share of their steps
# visibly lacks other instruments' messages: its gaps say nothing about loss
FILTERED_JUMP_SHARE = 0.01


class GapRanges:
    """Missing sequence numbers per channel code as ascending, disjoint [lo, hi] ranges, each
    with the file position of the record that revealed it."""

    def __init__(self, max_ranges: int):
        self.max_ranges = max_ranges
        self.by_chan: dict[int, tuple[list[int], list[int], list[int]]] = {}
        self.ranges = 0
        self.unmatched = [0, 0]  # gaps and missing numbers past max_ranges (counted only)

    def add(self, code: int, lo: int, hi: int, at: int) -> bool:
        """A new gap above every open one of its channel; False when past ``max_ranges``
        (then counted, but never matched against late records)."""
        if self.ranges >= self.max_ranges:
            self.unmatched[0] += 1
            self.unmatched[1] += hi - lo + 1
            return False
        los, his, ats = self.by_chan.setdefault(code, ([], [], []))
        los.append(lo)
        his.append(hi)
        ats.append(at)
        self.ranges += 1
        return True

    def fill(self, code: int, s: int) -> None:
        """A late record with number ``s`` arrived: take it out of its gap range."""
        gaps = self.by_chan.get(code)
        if not gaps:
            return
        los, his, ats = gaps
        i = bisect_right(los, s) - 1
        if i < 0 or his[i] < s:
            return  # not missing: a copy, or a number from before the channel's first record
        lo, hi = los[i], his[i]
        if lo == hi:
            del los[i], his[i], ats[i]
            self.ranges -= 1
        elif s == lo:
            los[i] = s + 1
        elif s == hi:
            his[i] = s - 1
        else:  # split: [lo, s-1] and [s+1, hi]
            his[i] = s - 1
            los.insert(i + 1, s + 1)
            his.insert(i + 1, hi)
            ats.insert(i + 1, ats[i])
            self.ranges += 1

    def counts(self) -> tuple[int, int]:
        """(gaps, missing numbers)."""
        missing = sum(sum(his) - sum(los) + len(los) for los, his, _ in self.by_chan.values())
        return self.ranges + self.unmatched[0], missing + self.unmatched[1]

    def first(self, n: int) -> list[tuple[int, int, int, int]]:
        """The ``n`` gaps revealed first: (file position, channel code, lo, hi)."""
        return heapq.nsmallest(n, ((at, c, lo, hi) for c, (los, his, ats) in self.by_chan.items()
                                   for lo, hi, at in zip(los, his, ats)))


def subscription_filtered(meta) -> str:
    """Why the file may hold only part of its channels' messages ('' when it holds them all):
    Databento numbers messages per channel, so a symbol-filtered file skips the numbers of
    the symbols it left out."""
    if meta is None:
        return "the file has no metadata"
    symbols = list(meta.symbols or [])
    if "ALL_SYMBOLS" in symbols:
        return ""
    if not symbols:
        return "the metadata names no symbols (a live capture: the subscription is not recorded)"
    shown = ", ".join(symbols[:3]) + (f" and {len(symbols) - 3} more" if len(symbols) > 3 else "")
    return f"symbol-filtered data ({shown}; stype_in {getattr(meta.stype_in, 'value', meta.stype_in)})"


def judge_sequences(out: dict, meta) -> None:
    """Decide whether the file's sequence figures can be judged; the reason lands in
    ``out["not_judged"]`` for each sequence metric (the counts stay, for information)."""
    m = out["metrics"]
    filtered = subscription_filtered(meta)
    steps, jumps = m.get("sequence_steps", 0), m.get("sequence_jumps", 0)
    share = jumps / steps if steps else (1.0 if jumps else 0.0)
    out["sequence_judgement"] = {"filtered": filtered, "steps": steps, "jumps": jumps,
                                 "jump_share": round(share, 6)}
    if filtered and share > FILTERED_JUMP_SHARE:
        why = (f"sequence continuity cannot be judged from filtered data: {filtered}; its "
               f"channels skip numbers at {jumps} of {steps} steps ({share:.1%}), the messages of "
               "instruments not in the file")
        for k in SEQUENCE_METRICS:
            out["not_judged"].setdefault(k, why)
    if m.get("records_not_selected"):
        why = (f"sequence continuity cannot be judged from filtered data: filtered by the plan's "
               f"instruments ({m['records_not_selected']} records of other instruments left out)")
        for k in SEQUENCE_METRICS:
            out["not_judged"].setdefault(k, why)
