"""FROZEN REFERENCE: the per-record Python order book of ``plugins/feed/book.py`` before the
numpy rewrite (issue 13, point 6). Do not optimise: benchmarks/bench_book.py and
tests/test_book_equivalence.py compare the new implementation against it.

Same MBO semantics and outputs as the module docstring of ``plugins/feed/book.py`` describes.
"""
from __future__ import annotations

import numpy as np

# the episode record is the shared output type, not part of the frozen algorithm
from golive.plugins.feed.book import Episode

F_LAST = 128
UNDEF_PRICE = np.iinfo(np.int64).max


class _Side:
    """Aggregate size per price level, with the best price cached (recomputed only when the
    best level empties: levels are few, best-level removals are a minority of events)."""

    __slots__ = ("levels", "best", "better")

    def __init__(self, is_bid: bool):
        self.levels: dict[int, int] = {}
        self.best: int | None = None
        self.better = max if is_bid else min

    def add(self, price: int, size: int) -> None:
        levels = self.levels
        levels[price] = levels.get(price, 0) + size
        if self.best is None or self.better(price, self.best) == price:
            self.best = price

    def remove(self, price: int, size: int) -> None:
        left = self.levels.get(price, 0) - size
        if left > 0:
            self.levels[price] = left
            return
        self.levels.pop(price, None)
        if price == self.best:
            self.best = self.better(self.levels) if self.levels else None

    def clear(self) -> None:
        self.levels.clear()
        self.best = None


class ReferenceBookChecker:
    """Feeds MBO runs into per-instrument books; collects crossed/locked episodes and book
    inconsistencies (cancels or fills of unknown orders, re-used order ids)."""

    def __init__(self, max_episodes: int = 200):
        self.orders: dict[int, dict[int, tuple[int, int, int]]] = {}  # inst -> oid -> (side, px, size)
        self.bids: dict[int, _Side] = {}
        self.asks: dict[int, _Side] = {}
        self.open: dict[int, Episode] = {}
        self.episodes: list[Episode] = []
        self.counts = {"crossed_episodes": 0, "locked_episodes": 0, "crossed_checks": 0,
                       "locked_checks": 0, "unknown_order_events": 0, "reused_order_ids": 0}
        self.by_instrument: dict[int, dict[str, int]] = {}
        self.max_episodes = max_episodes

    def _books(self, inst: int):
        if inst not in self.orders:
            self.orders[inst], self.bids[inst], self.asks[inst] = {}, _Side(True), _Side(False)
        return self.orders[inst], self.bids[inst], self.asks[inst]

    def update(self, recs: np.ndarray, first_index: int, skip: np.ndarray | None = None) -> None:
        idx = np.arange(first_index, first_index + len(recs))
        if skip is not None and skip.any():
            recs, idx = recs[~skip], idx[~skip]
        cols = zip(idx.tolist(), recs["instrument_id"].tolist(), recs["order_id"].tolist(),
                   recs["price"].tolist(), recs["size"].tolist(), recs["flags"].tolist(),
                   recs["action"].tolist(), recs["side"].tolist(), recs["ts_recv"].tolist())
        books, open_eps, last_inst = self._books, self.open, None
        for i, inst, oid, px, size, flags, action, side, ts in cols:
            if inst != last_inst:  # records of one instrument come in runs: skip the lookups
                orders, bids, asks = books(inst)
                last_inst = inst
            if action == b"A":
                if oid in orders:
                    self.counts["reused_order_ids"] += 1
                    self._remove(orders, bids, asks, oid, None)
                if px != UNDEF_PRICE and side in (b"B", b"A"):
                    orders[oid] = (side, px, size)
                    (bids if side == b"B" else asks).add(px, size)
            elif action == b"C":
                if oid in orders:
                    self._remove(orders, bids, asks, oid, size)
                else:
                    self.counts["unknown_order_events"] += 1
            elif action == b"M":
                if oid in orders:
                    self._remove(orders, bids, asks, oid, None)
                if px != UNDEF_PRICE and side in (b"B", b"A"):
                    orders[oid] = (side, px, size)
                    (bids if side == b"B" else asks).add(px, size)
            elif action == b"R":
                orders.clear()
                bids.clear()
                asks.clear()
            elif action == b"F" and oid not in orders:
                self.counts["unknown_order_events"] += 1
            if flags & F_LAST:
                # judge only when the book is crossed/locked or an episode may end
                if (bids.best is not None and asks.best is not None and asks.best <= bids.best) \
                        or inst in open_eps:
                    self._judge(inst, bids, asks, i, ts)

    @staticmethod
    def _remove(orders, bids, asks, oid, size) -> None:
        side, px, resting = orders[oid]
        taken = resting if size is None or size >= resting else size
        (bids if side == b"B" else asks).remove(px, taken)
        if taken >= resting:
            del orders[oid]
        else:
            orders[oid] = (side, px, resting - taken)

    def _judge(self, inst: int, bids: _Side, asks: _Side, index: int, ts: int) -> None:
        state = None
        if bids.best is not None and asks.best is not None:
            spread = asks.best - bids.best
            if spread < 0:
                state = "crossed"
            elif spread == 0:
                state = "locked"
        ep = self.open.get(inst)
        if state is None and ep is None:
            return
        if ep is not None and ep.kind != state:
            del self.open[inst]
            ep = None
        if state is None:
            return
        self.counts[f"{state}_checks"] += 1
        if ep is None:
            ep = Episode(inst, state, index, ts, index, 0)
            self.open[inst] = ep
            self.counts[f"{state}_episodes"] += 1
            per = self.by_instrument.setdefault(inst, {"crossed_episodes": 0, "locked_episodes": 0})
            per[f"{state}_episodes"] += 1
            if len(self.episodes) < self.max_episodes:
                self.episodes.append(ep)
        ep.end_index = index
        ep.checks += 1
        ep.worst_spread = min(ep.worst_spread, spread)
