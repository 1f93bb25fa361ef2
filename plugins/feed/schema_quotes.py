"""Crossed and locked top of book in quote schemas (mbp-1, mbp-10, tbbo, bbo, cmbp-1, cbbo),
told apart from the legitimate crossed book of a pre-open auction.

A quote record is crossed (bid > ask) or locked (bid == ask) when both sides are set. An
*episode* is a run of consecutive crossed/locked records of one instrument (in file order),
ended by its next fine record. Before an auction the venue lets the book cross (CME
pre-open, 22:39:55-23:00 UTC on the ES sample); the auction uncross prints trades without an
aggressor side (side ``N``). So an episode that contains such a trade, or is ended by one,
is an auction episode: its records are counted as ``auction_quote_crossed``/``_locked``, not
as defects. Every other episode's records count as ``quote_crossed``/``quote_locked``, also
one still open at the end of the file (unless it already holds an unsided trade).

Vectorised per chunk in the instrument-sorted order the caller already has
(:class:`~.grouped.GroupedOrder`); only runs still open at a chunk's end are carried.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .grouped import GroupedOrder


@dataclass
class Pending:
    """The records of an episode still open at the end of a chunk (file positions)."""

    index: np.ndarray
    ts_recv: np.ndarray
    state: np.ndarray
    auction: bool


@dataclass
class Closed:
    """Records of finished episodes: file positions, instrument codes, ts_recv, state (1
    locked, 2 crossed) and whether their episode was an auction."""

    index: np.ndarray
    codes: np.ndarray
    ts_recv: np.ndarray
    state: np.ndarray
    auction: np.ndarray


class QuoteEpisodes:
    def __init__(self) -> None:
        self.open: dict[int, Pending] = {}

    def update(self, state: np.ndarray, unsided_trade: np.ndarray, by_inst: GroupedOrder,
               first_index: int, ts_recv: np.ndarray) -> Closed | None:
        """``state`` per record (0 fine, 1 locked, 2 crossed), ``unsided_trade`` marks trades
        with side N; returns the records of the episodes that ended in this chunk."""
        bad_any = bool(state.any())
        if not bad_any and not self.open:
            return None
        order, codes = by_inst.order, by_inst.sorted_codes
        n = len(order)
        sb, su, ss = state[order] > 0, unsided_trade[order], state[order]
        carried = np.zeros(n, dtype=bool)  # group start whose instrument has an open episode
        if self.open:
            starts = by_inst.starts
            carried[starts] = np.isin(codes[starts], np.fromiter(self.open, np.int64, len(self.open)))
        prev_bad = np.empty(n, dtype=bool)
        if n:
            prev_bad[0] = False
            prev_bad[1:] = sb[:-1]
        prev_bad[by_inst.is_start] = False
        run_start = sb & ~prev_bad
        next_bad = np.zeros(n, dtype=bool)
        next_bad[:-1] = sb[1:]
        next_bad[by_inst.ends] = False
        run_end = sb & ~next_bad
        rs, re = np.flatnonzero(run_start), np.flatnonzero(run_end)
        open_at_end = np.zeros(len(re), dtype=bool)
        if len(re):
            open_at_end = np.isin(re, by_inst.ends)
        cs = np.concatenate([[0], np.cumsum(su)])
        auction = cs[re + 1] - cs[rs] > 0
        ender = np.minimum(re + 1, n - 1)
        auction |= ~open_at_end & su[ender]
        # episodes carried from earlier chunks: continued by a leading run or ended at once
        joined = carried & sb  # group start that is also a run start: continues the episode
        head_runs = np.isin(rs, np.flatnonzero(joined))
        pos_index = order.astype(np.int64) + first_index
        out = _Collector()
        for g in np.flatnonzero(carried & ~sb).tolist():  # ends on the group's first record
            p = self.open.pop(int(codes[g]))
            out.add(p.index, int(codes[g]), p.ts_recv, p.state, p.auction or bool(su[g]))
        keep: dict[int, Pending] = {}
        for k in np.flatnonzero(head_runs | open_at_end).tolist():
            a, z, code = int(rs[k]), int(re[k]), int(codes[rs[k]])
            idx, tr, st = pos_index[a:z + 1], ts_recv[order[a:z + 1]], ss[a:z + 1]
            flag = bool(auction[k])
            if head_runs[k]:
                p = self.open.pop(code)
                idx, tr, st = (np.concatenate([p.index, idx]), np.concatenate([p.ts_recv, tr]),
                               np.concatenate([p.state, st]))
                flag |= p.auction
            if open_at_end[k]:
                keep[code] = Pending(idx.copy(), tr.copy(), st.copy(), flag)
            else:
                out.add(idx, code, tr, st, flag)
        self.open.update(keep)
        # the remaining runs started and ended inside this chunk: label their records at once
        plain = ~(head_runs | open_at_end)
        if plain.any():
            run_id = np.cumsum(run_start) - 1
            in_plain = sb & plain[np.clip(run_id, 0, None)]
            sel = np.flatnonzero(in_plain)
            out.add_many(pos_index[sel], codes[sel], ts_recv[order[sel]], ss[sel],
                         auction[run_id[sel]])
        return out.result()

    def finish(self) -> Closed | None:
        """Episodes open at the end of the file: auctions only if an unsided trade was seen."""
        out = _Collector()
        for code, p in self.open.items():
            out.add(p.index, code, p.ts_recv, p.state, p.auction)
        self.open.clear()
        return out.result()


class _Collector:
    def __init__(self) -> None:
        self.parts: list[tuple] = []

    def add(self, index, code: int, ts_recv, state, auction: bool) -> None:
        n = len(index)
        self.add_many(index, np.full(n, code, np.int64), ts_recv, state, np.full(n, auction))

    def add_many(self, index, codes, ts_recv, state, auction) -> None:
        self.parts.append((np.asarray(index, np.int64), np.asarray(codes, np.int64),
                           np.asarray(ts_recv), np.asarray(state), np.asarray(auction, bool)))

    def result(self) -> Closed | None:
        if not self.parts:
            return None
        cols = [np.concatenate(c) for c in zip(*self.parts)]
        order = np.argsort(cols[0], kind="stable")  # file order, as violations are listed
        return Closed(*(c[order] for c in cols))
