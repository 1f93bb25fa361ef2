"""Order book reconstruction from MBO records, to find crossed and locked books.

Databento MBO semantics: ``A`` adds an order, ``C`` removes ``size`` from it (partial cancels
exist), ``M`` sets its new price and size (an unknown order is treated as an add), ``R`` clears
the instrument's book, ``T``/``F``/``N`` do not change the book (the venue sends the cancel or
modify that follows a fill). The book is only complete at the end of an event, so crossing is
judged on records carrying ``F_LAST`` only. Consecutive crossed (or locked) judgements of one
instrument form one *episode*, reported with its first and last record. Given session segments
(:mod:`.sessions`), an episode that begins outside continuous trading (a pre-open book may
cross by design) is counted apart, as ``pre_open_crossed/locked_episodes``.

Vectorised with numpy, one run of records at a time (no per-record Python):

1. *orders* — records are grouped per (instrument, clear epoch, order id); within a group the
   state after an ``A``/``M`` is known, and cancels between two of them are a running sum, so
   each record learns whether its order was resting (and at what side, price, size) from a
   segmented cumulative sum. This gives unknown-order and re-used-id counts, and the price-level
   changes (remove, then add) of every record;
2. *levels* — the changes are grouped per (instrument, epoch, side, price); a running sum gives
   each level's size, hence the intervals (in record positions) in which the level exists;
3. *best prices* — a segment tree over the records of the run (grouped per instrument) is
   filled with those intervals (max of bid prices, max of negated ask prices) and read at the
   ``F_LAST`` records;
4. *episodes* — runs of equal crossed/locked states per instrument.

Resting orders and price levels are carried between runs as arrays and re-entered at the start
of the next run (of a big book, only the orders the run names). Memory is the book plus a few
arrays of the run's size. Runs of 10^4..10^5 records are fast (fixed numpy cost per run; the
array kernels are in :mod:`.book_kernels`). Results are identical to the former per-record
implementation, kept frozen in ``benchmarks/book_reference.py`` (see
``tests/test_book_equivalence.py``; ``benchmarks/bench_book.py`` measures both).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .book_kernels import chain_sort, ends, group_ids, interval_max, shifted, starts

F_LAST = 128
UNDEF_PRICE = np.iinfo(np.int64).max
_NEG = np.iinfo(np.int64).min
_A, _C, _M, _R, _F, _B = (ord(c) for c in "ACMRFB")
_PSEUDO = 0  # a resting order / level carried from the previous run
# resting orders are re-entered whole while they are fewer than this many times the run's records
CARRY_ALL_BELOW = 2


@dataclass
class Episode:
    instrument_id: int
    kind: str  # crossed | locked
    start_index: int
    start_ts_recv: int
    end_index: int
    checks: int = 1
    worst_spread: int = 0  # most negative bid-ask seen (fixed-point 1e-9), 0 when locked
    segment: int = 0  # session segment of the first crossed/locked record (0: continuous)

    def as_dict(self) -> dict:
        out = {"instrument_id": self.instrument_id, "kind": self.kind,
               "start_index": self.start_index, "end_index": self.end_index,
               "start_ts_recv": self.start_ts_recv, "checks": self.checks,
               "worst_spread": self.worst_spread / 1e9}
        if self.segment:
            out["segment"] = self.segment
        return out


class _Rows:
    """The records a run feeds, without copying them: all of ``recs``, or those at ``keep``.
    Each column read from the 56-byte records is a pass over all of them, so size, flags,
    action and side -- one 8-byte word of the MBO layout -- are read together once."""

    _WORD = {"size": (0, 32), "flags": (32, 8), "action": (48, 8), "side": (56, 8)}  # bit, width

    def __init__(self, recs: np.ndarray, keep: np.ndarray | None):
        self.recs, self.keep = recs, keep
        self.n = len(recs) if keep is None else len(keep)
        fields = recs.dtype.fields
        self._word = None
        if all(name in fields and fields[name][1] == 32 + bit // 8 for name, (bit, _) in self._WORD.items()):
            word = recs.view(np.dtype({"names": ["w"], "formats": ["<u8"], "offsets": [32],
                                       "itemsize": recs.dtype.itemsize}))["w"]
            self._word = (np.ascontiguousarray(word) if keep is None else word[keep]).view(np.int64)

    def column(self, name: str) -> np.ndarray:
        if self._word is not None and name in self._WORD:
            bit, width = self._WORD[name]
            part = (self._word >> bit) if bit else self._word
            return part & 0xFFFFFFFF if width == 32 else part.astype(np.uint8)
        col = self.recs[name]
        return np.ascontiguousarray(col) if self.keep is None else col[self.keep]

    def at(self, name: str, where: np.ndarray) -> np.ndarray:
        return self.recs[name][where if self.keep is None else self.keep[where]]


class _Axis:
    """The run's records grouped per instrument (stable sort; none when the run holds one
    instrument) and split at book clears (``R``): each record's rank on that axis, each
    instrument group's first rank and end, and the (group, clear epoch) code of each record."""

    def __init__(self, inst: np.ndarray, action: np.ndarray):
        n = self.n = len(inst)
        lo, hi = int(inst.min()), int(inst.max())
        if lo == hi:
            self.order = self.rank = None
            gid_ax, act_ax = None, action
            self.gfirst, self.g_inst = np.zeros(1, np.int64), inst[:1].copy()
        else:  # radix sort of small codes
            code = inst - lo
            self.order = np.argsort(code.astype(np.uint16) if hi - lo < 1 << 16 else code, kind="stable")
            self.rank = np.empty(n, np.int64)
            self.rank[self.order] = np.arange(n)
            inst_ax = inst[self.order]
            gs = starts(inst_ax)
            gid_ax, act_ax = group_ids(gs).astype(np.int64), action[self.order]
            self.gfirst = np.flatnonzero(gs)
            self.g_inst = inst_ax[self.gfirst]
        self.g_end = np.append(self.gfirst[1:], n)
        n_groups = len(self.g_inst)
        self.r_ranks = np.flatnonzero(act_ax == _R)
        self.cleared = len(self.r_ranks) > 0
        if not self.cleared:  # nearly always: one epoch
            self.n_ep, ge_ax = 1, gid_ax
            self.g_final_epoch = np.zeros(n_groups, np.int64)
        else:
            cum_r = np.zeros(n, np.int64)
            cum_r[self.r_ranks] = 1
            np.cumsum(cum_r, out=cum_r)
            before_g = np.where(self.gfirst > 0, cum_r[self.gfirst - 1], 0)
            epoch_ax = cum_r - (before_g[gid_ax] if gid_ax is not None else before_g[0])
            self.g_final_epoch = epoch_ax[self.g_end - 1]
            self.n_ep = int(self.g_final_epoch.max()) + 1
            ge_ax = epoch_ax if gid_ax is None else gid_ax * self.n_ep + epoch_ax
        self.final_ge = np.arange(n_groups) * self.n_ep + self.g_final_epoch
        if ge_ax is None or self.order is None:
            self._ge = ge_ax
        else:
            self._ge = np.empty(n, np.int64)
            self._ge[self.order] = ge_ax

    def ge_all(self) -> np.ndarray:
        """(group, epoch) code of each record."""
        return np.zeros(self.n, np.int64) if self._ge is None else self._ge

    def rank_of(self, positions: np.ndarray) -> np.ndarray:
        return positions if self.rank is None else self.rank[positions]

    def open_end(self, start: np.ndarray, group: np.ndarray) -> np.ndarray:
        """Where a level existing from ``start`` to the end of its epoch stops: at the
        instrument's next clear, or after its last record."""
        g_end = self.g_end[group]
        if not self.cleared:
            return g_end
        k = np.searchsorted(self.r_ranks, start, side="left")
        nr = self.r_ranks[np.minimum(k, len(self.r_ranks) - 1)]
        return np.where((k < len(self.r_ranks)) & (nr < g_end), nr, g_end)


class BookChecker:
    """Feeds MBO runs into per-instrument books; collects crossed/locked episodes and book
    inconsistencies (cancels or fills of unknown orders, re-used order ids)."""

    def __init__(self, max_episodes: int = 200):
        # resting orders: instrument, order id, side (0 bid, 1 ask), price, size
        self._o_inst = np.zeros(0, np.uint32)
        self._o_oid = np.zeros(0, np.uint64)
        self._o_side = np.zeros(0, np.int8)
        self._o_px = np.zeros(0, np.int64)
        self._o_size = np.zeros(0, np.int64)
        # existing price levels: instrument, side, price, aggregate size
        self._l_inst = np.zeros(0, np.uint32)
        self._l_side = np.zeros(0, np.int8)
        self._l_px = np.zeros(0, np.int64)
        self._l_size = np.zeros(0, np.int64)
        self.open: dict[int, Episode] = {}
        self.episodes: list[Episode] = []
        self.counts = {"crossed_episodes": 0, "locked_episodes": 0, "crossed_checks": 0,
                       "locked_checks": 0, "unknown_order_events": 0, "reused_order_ids": 0}
        self.by_instrument: dict[int, dict[str, int]] = {}
        self.max_episodes = max_episodes

    def update(self, recs: np.ndarray, first_index: int, skip: np.ndarray | None = None,
               segments: np.ndarray | None = None, index: np.ndarray | None = None) -> None:
        """Feed records ``recs`` (file positions ``first_index``.., or ``index`` when they are
        not consecutive), leaving out those marked in ``skip``. With ``segments`` (session
        segment codes, :mod:`.sessions`), an episode whose first record is outside continuous
        trading (code != 0) is counted as ``pre_open_crossed/locked_episodes`` instead."""
        pos_index, keep = index, None
        if skip is not None and skip.any():
            keep = np.flatnonzero(~skip)
            pos_index = index[keep] if index is not None else keep.astype(np.int64) + first_index
            if segments is not None:
                segments = segments[keep]
        rows = _Rows(recs, keep)
        n = rows.n
        if n == 0:
            return
        inst = rows.column("instrument_id").astype(np.uint32, copy=False)
        action = rows.column("action")
        ax = _Axis(inst, action)
        start, end, val = self._levels(ax, *self._orders(rows, action, ax))
        # --- best bid / ask at the F_LAST records -----------------------------------------
        flags = rows.column("flags")
        if ax.order is None:
            q = qr = np.flatnonzero(flags & F_LAST)
        else:  # per instrument, in record order
            qr = np.flatnonzero(flags[ax.order] & F_LAST)
            q = ax.order[qr]
        if len(q) == 0:
            return
        best = interval_max(2 * n, start, end, val, np.concatenate([qr, qr + n]))
        bid, nask = best[:len(q)], best[len(q):]
        both = (bid != _NEG) & (nask != _NEG)
        spread = np.ones(len(q), np.int64)
        spread[both] = -nask[both] - bid[both]
        state = (spread <= 0).astype(np.int8)  # 1 crossed, 2 locked, 0 neither
        state += spread == 0
        self._episodes(q, state, spread, inst, rows, first_index, pos_index,
                       None if segments is None else segments[q])

    def _orders(self, rows: "_Rows", action: np.ndarray, ax: "_Axis"):
        """Resting orders carried in plus the run's order events, in (order, time) chains:
        counts unknown-order events and re-used ids, stores the orders resting at the end, and
        returns the price-level changes (for :meth:`_levels`)."""
        # every record takes part: one that is not A/C/M/F (a trade, a clear) changes nothing
        # in its order's chain, which is cheaper than gathering the order events apart
        g_inst, n_ep = ax.g_inst, ax.n_ep
        carried = np.isin(self._o_inst, g_inst)
        oid = rows.column("order_id")
        if len(self._o_oid) > CARRY_ALL_BELOW * rows.n:  # a big book: re-enter only the
            cleared = np.isin(self._o_inst, g_inst[ax.g_final_epoch > 0])  # orders the run names
            carried &= np.isin(self._o_oid, oid)
            keep_o = ~carried & ~cleared
        else:
            keep_o = ~carried
        nc = int(np.count_nonzero(carried))
        side_byte = rows.column("side")
        not_bid = side_byte != _B
        side = not_bid.view(np.int8) + (not_bid & (side_byte != _A)).view(np.int8)  # 0 B, 1 A, 2 none
        # element arrays: the carried orders first, then the run's records in order
        o_grp = np.concatenate([np.searchsorted(g_inst, self._o_inst[carried]) * n_ep, ax.ge_all()])
        o_oid = np.concatenate([self._o_oid[carried], oid])
        o_act = np.concatenate([np.full(nc, _PSEUDO, np.uint8), action])
        o_side = np.concatenate([self._o_side[carried], side])
        o_px = np.concatenate([self._o_px[carried], rows.column("price")])
        o_size = np.concatenate([self._o_size[carried], rows.column("size")])
        order, chain0 = chain_sort(o_grp, len(g_inst) * n_ep, o_oid)
        act, size = o_act[order], o_size[order]
        is_a, is_c, is_m = act == _A, act == _C, act == _M
        is_reset = is_a | is_m | (act == _PSEUDO)  # the order's state is known after it
        valid_new = is_reset & ((o_px != UNDEF_PRICE) & (o_side != 2))[order]
        # segments: a reset and the cancels/fills up to the next reset of the same order
        seg_begin = chain0.copy()
        seg_begin[1:] |= is_reset[:-1]
        seg = group_ids(seg_begin)
        sb = np.flatnonzero(seg_begin)
        src = np.maximum(sb - 1, 0)  # the reset a segment follows (when not a chain start)
        base_present = valid_new[src] & ~chain0[sb]
        c_amt = size * is_c
        cs = np.cumsum(c_amt)
        cs -= c_amt
        c_before = cs - cs[sb][seg]  # cancelled since the reset
        bsize = size[src][seg]
        present = base_present[seg]
        gone = c_before >= bsize
        zero = np.flatnonzero(present & (bsize == 0))
        if len(zero):  # a size-0 order is gone after any cancel, even of 0
            cn = np.cumsum(is_c, dtype=np.int64)
            gone[zero] = cn[zero] - is_c[zero] > cn[sb[seg[zero]]] - is_c[sb[seg[zero]]]
        present &= ~gone
        resting = bsize - c_before
        self.counts["unknown_order_events"] += int(np.count_nonzero((is_c | (act == _F)) & ~present))
        self.counts["reused_order_ids"] += int(np.count_nonzero(is_a & present))
        # price-level changes: remove (sub-step 0) then add (sub-step 1)
        rm = np.flatnonzero((is_a | is_m | is_c) & present)
        rm_amt = resting[rm]
        part = np.flatnonzero(is_c[rm])  # a cancel removes at most what rests
        rm_amt[part] = np.minimum(rm_amt[part], size[rm[part]])
        rm_base = order[src[seg[rm]]]
        add = np.flatnonzero(valid_new & (act != _PSEUDO))
        # final state of each order chain (at its last record), unless cleared later in the run
        e = np.flatnonzero(ends(chain0))
        if ax.cleared:
            ge = o_grp[order[e]]
            e = e[ge == ax.final_ge[ge // n_ep]]
        e_reset, e_c, e_size, e_rest = is_reset[e], is_c[e], size[e], resting[e]
        after_present = np.where(e_reset, valid_new[e], present[e] & (~e_c | (e_size < e_rest)))
        e = e[after_present]
        e_reset, e_c, e_size, e_rest = e_reset[after_present], e_c[after_present], e_size[after_present], e_rest[after_present]
        oe, e_base = order[e], order[src[seg[e]]]
        after_size = np.where(e_reset, e_size, np.where(e_c, e_rest - e_size, e_rest))
        after_side = np.where(e_reset, o_side[oe], o_side[e_base])
        after_px = np.where(e_reset, o_px[oe], o_px[e_base])
        new_o = (g_inst[o_grp[oe] // n_ep], o_oid[oe], after_side, after_px, after_size)
        old_o = (self._o_inst[keep_o], self._o_oid[keep_o], self._o_side[keep_o],
                 self._o_px[keep_o], self._o_size[keep_o])
        (self._o_inst, self._o_oid, self._o_side, self._o_px,
         self._o_size) = (np.concatenate([a, b]) for a, b in zip(old_o, new_o))
        orm, oadd = order[rm], order[add]
        changes = (  # (group, epoch) * 2 + side, price, amount, time 2 * position + sub-step
            np.concatenate([o_grp[rm_base] * 2 + o_side[rm_base], o_grp[oadd] * 2 + o_side[oadd]]),
            np.concatenate([o_px[rm_base], o_px[oadd]]),
            np.concatenate([-rm_amt, size[add]]),
            np.concatenate([2 * (orm - nc), 2 * (oadd - nc) + 1]))
        return changes

    def _levels(self, ax: "_Axis", c_key, c_px, c_amt, c_t):
        """Price levels carried in plus the run's changes, in (level, time) chains: stores the
        levels existing at the end and returns the intervals (axis ranks; asks offset by the
        run's size, values negated) in which each level exists."""
        g_inst, n_ep, n = ax.g_inst, ax.n_ep, ax.n
        lcar = np.isin(self._l_inst, g_inst)
        keep_l = ~lcar
        nl = int(np.count_nonzero(lcar))
        lkey = np.concatenate([np.searchsorted(g_inst, self._l_inst[lcar]) * (2 * n_ep)
                               + self._l_side[lcar], c_key])
        l_px = np.concatenate([self._l_px[lcar], c_px])
        l_amt = np.concatenate([self._l_size[lcar], c_amt])
        # time: -1 for a carried level; sorted by (time + 1) after the carried ones
        order, lchain0 = chain_sort(lkey, len(g_inst) * n_ep * 2, l_px,
                                    np.concatenate([np.arange(nl), c_t + nl]))
        amt = l_amt[order]
        t = np.concatenate([np.full(nl, -1, np.int64), c_t])[order]
        lseg = group_ids(lchain0)
        lb = np.flatnonzero(lchain0)
        total = np.cumsum(amt)
        total -= (total[lb] - amt[lb])[lseg]
        exists = (t & 1) == 1  # carried levels (t = -1) and adds exist
        exists |= total > 0
        flip = exists != shifted(exists, False)
        flip[lchain0] = exists[lchain0]
        fin = np.flatnonzero(ends(lchain0) & exists)
        fkey = lkey[order[fin]]
        if ax.cleared:  # not cleared later in the run
            keep = (fkey >> 1) == ax.final_ge[fkey // (2 * n_ep)]
            fin, fkey = fin[keep], fkey[keep]
        new_l = (g_inst[fkey // (2 * n_ep)], (fkey & 1).astype(np.int8), l_px[order[fin]], total[fin])
        old_l = (self._l_inst[keep_l], self._l_side[keep_l], self._l_px[keep_l], self._l_size[keep_l])
        self._l_inst, self._l_side, self._l_px, self._l_size = (
            np.concatenate([a, b]) for a, b in zip(old_l, new_l))
        # intervals in which each level exists: from an appearance to the next flip of its chain
        tf = np.flatnonzero(flip)
        ai = np.flatnonzero(exists[tf])
        appear = tf[ai]
        akey = lkey[order[appear]]
        lg = akey // (2 * n_ep)
        at = t[appear]
        start = np.where(at < 0, ax.gfirst[lg], ax.rank_of(np.maximum(at, 0) >> 1))
        nxt = np.minimum(ai + 1, max(len(tf) - 1, 0))
        closes = (ai + 1 < len(tf)) & (lseg[tf[nxt]] == lseg[appear])
        close_rank = ax.rank_of(np.maximum(t[tf[nxt]], 0) >> 1)
        end = np.where(closes, close_rank, ax.open_end(start, lg))
        ask = (akey & 1) == 1
        px = l_px[order[appear]]
        off = ask * n
        return start + off, end + off, np.where(ask, -px, px)

    def _episodes(self, q, state, spread, inst, rows, first_index, pos_index, seg_q) -> None:
        qi = inst[q]
        gs = starts(qi)
        prev = np.empty(len(q), np.int8)
        prev[1:] = state[:-1]
        kinds = {"crossed": 1, "locked": 2}
        for j in np.flatnonzero(gs):
            ep = self.open.get(int(qi[j]))
            prev[j] = kinds[ep.kind] if ep is not None else 0
        on = state != 0
        g_last = np.append(np.flatnonzero(gs)[1:], len(q)) - 1
        self.counts["crossed_checks"] += int(np.count_nonzero(state == 1))
        self.counts["locked_checks"] += int(np.count_nonzero(state == 2))
        if on.any():
            self._runs(q, qi, state, prev, gs, on, spread, g_last, rows, first_index, pos_index, seg_q)
        for j in g_last.tolist():  # the episode left open by each instrument
            if state[j] == 0:
                self.open.pop(int(qi[j]), None)

    def _runs(self, q, qi, state, prev, gs, on, spread, g_last, rows, first_index, pos_index, seg_q) -> None:
        begin = on & ((state != prev) | gs)
        new = on & (state != prev)
        w = np.flatnonzero(on)
        rb = np.flatnonzero(begin[w])
        run_first, run_last = w[rb], w[np.append(rb[1:], len(w)) - 1]
        run_checks = np.diff(np.append(rb, len(w)))
        run_worst = np.minimum.reduceat(spread[w], rb)
        index = (q + first_index) if pos_index is None else pos_index[q]
        ts = rows.at("ts_recv", q)
        names = {1: "crossed", 2: "locked"}
        fresh = []
        ends = set(g_last.tolist())
        for f, l, c, wv in zip(run_first.tolist(), run_last.tolist(), run_checks.tolist(),
                               run_worst.tolist()):
            i, kind = int(qi[f]), names[int(state[f])]
            if not new[f]:
                ep = self.open[i]
                ep.end_index = int(index[l])
                ep.checks += c
                ep.worst_spread = min(ep.worst_spread, wv)
                continue
            segment = 0 if seg_q is None else int(seg_q[f])
            ep = Episode(i, kind, int(index[f]), int(ts[f]), int(index[l]), c, min(0, wv), segment)
            fresh.append(ep)
            per = self.by_instrument.setdefault(i, {"crossed_episodes": 0, "locked_episodes": 0})
            name = f"pre_open_{kind}_episodes" if segment else f"{kind}_episodes"
            self.counts[name] = self.counts.get(name, 0) + 1
            per[name] = per.get(name, 0) + 1
            if l in ends:
                self.open[i] = ep
        fresh.sort(key=lambda e: e.start_index)
        room = self.max_episodes - len(self.episodes)
        if room > 0:
            self.episodes.extend(fresh[:room])
