"""Crossed or locked books that are not defects: auctions and pre-open books.

Before an auction the venue takes orders without matching them, so the book may cross; the
uncross is a trade without side (``N``). :class:`Auctions` remembers, at each side-N trade, the
record that ended its instrument's last complete event (``F_LAST``): a crossed/locked episode of
:class:`~.book.BookChecker` that ends on such a record was ended by the auction. With session
segments the book already counts episodes that began outside continuous trading apart
(``pre_open_*``). :meth:`Auctions.episodes` lists every episode with ``defect`` true or false.
"""
from __future__ import annotations

import numpy as np

from .book import F_LAST, BookChecker
from .dbn_reader import MboRun
from .sessions import SEGMENT_NAMES

MAX_UNCROSS_MARKS = 200_000  # (instrument, record index) pairs that can end an auction


class Auctions:
    def __init__(self, book: BookChecker):
        self.book = book
        # an auction uncross: a side-N trade whose instrument had no complete event since the
        # record at the index; a crossed/locked episode ending on that record was the auction
        self.uncross_marks: set[tuple[int, int]] = set()
        self.limit_hit = ""

    def mark(self, run: MboRun, unsided: np.ndarray) -> None:
        """Before the book sees ``run``: remember (instrument, index of its last complete event)
        at each side-N trade, the moment an auction uncross ends a crossed pre-open book."""
        r = run.records
        trades = np.flatnonzero(unsided & (r["action"].view(np.uint8) == ord("T")))
        if not len(trades):
            return
        if len(self.uncross_marks) >= MAX_UNCROSS_MARKS:
            self.limit_hit = (f"more than {MAX_UNCROSS_MARKS} trades without side: later "
                              "crossed books were not matched against auctions")
            return
        insts = r["instrument_id"]
        ends = np.flatnonzero((r["flags"] & F_LAST) != 0)
        for x in np.unique(insts[trades]).tolist():
            own_ends = ends[insts[ends] == x]
            k = np.searchsorted(own_ends, trades[insts[trades] == x]) - 1
            self.uncross_marks.update((x, e) for e in run.at(own_ends[k[k >= 0]]).tolist())
            ep = self.book.open.get(x)
            if (k < 0).any() and ep is not None:  # its last complete event is in an earlier run:
                self.uncross_marks.add((x, ep.end_index))  # an open episode ends on it

    def episodes(self, metrics: dict, by_inst_book: dict) -> list[dict]:
        """Crossed/locked episodes that are not defects: those that began outside continuous
        trading (``pre_open_*``, counted by the book) and those a trade without side (an auction
        uncross) ended (``auction_*``; the book of an auction is crossed by design). An episode
        can be both; one that began in continuous trading and an uncross ended is taken out of
        ``crossed/locked_episodes``. Each listed episode says ``defect`` true or false."""
        out = []
        for kind in ("crossed", "locked"):
            metrics.setdefault(f"pre_open_{kind}_episodes", 0)
            metrics[f"auction_{kind}_episodes"] = 0
        for e in self.book.episodes:
            item = e.as_dict()
            per = by_inst_book.setdefault(e.instrument_id, {})
            if (e.instrument_id, e.end_index) in self.uncross_marks and e.instrument_id not in self.book.open:
                item["auction"] = True
                metrics[f"auction_{e.kind}_episodes"] += 1
                per[f"auction_{e.kind}_episodes"] = per.get(f"auction_{e.kind}_episodes", 0) + 1
                if not e.segment:
                    metrics[f"{e.kind}_episodes"] -= 1
                    per[f"{e.kind}_episodes"] -= 1
            if e.segment:
                item["segment"] = SEGMENT_NAMES[e.segment]
            item["defect"] = not (item.get("auction") or e.segment)
            out.append(item)
        return out
