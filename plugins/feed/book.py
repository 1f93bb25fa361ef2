"""Order book reconstruction from MBO records, to find crossed and locked books.

Databento MBO semantics: ``A`` adds an order, ``C`` removes ``size`` from it (partial cancels
exist), ``M`` sets its new price and size (an unknown order is treated as an add), ``R`` clears
the instrument's book, ``T``/``F``/``N`` do not change the book (the venue sends the cancel or
modify that follows a fill). The book is only complete at the end of an event, so crossing is
judged on records carrying ``F_LAST`` only. Consecutive crossed (or locked) judgements of one
instrument form one *episode*, reported with its first and last record.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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


@dataclass
class Episode:
    instrument_id: int
    kind: str  # crossed | locked
    start_index: int
    start_ts_recv: int
    end_index: int
    checks: int = 1
    worst_spread: int = 0  # most negative bid-ask seen (fixed-point 1e-9), 0 when locked

    def as_dict(self) -> dict:
        return {"instrument_id": self.instrument_id, "kind": self.kind,
                "start_index": self.start_index, "end_index": self.end_index,
                "start_ts_recv": self.start_ts_recv, "checks": self.checks,
                "worst_spread": self.worst_spread / 1e9}


class BookChecker:
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
