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
arrays of the run's size. Runs of 10^4..10^5 records are fast (fixed numpy cost per run). Results are identical to the former per-record implementation, kept frozen in
``benchmarks/book_reference.py`` (see ``tests/test_book_equivalence.py``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

F_LAST = 128
UNDEF_PRICE = np.iinfo(np.int64).max
_NEG = np.iinfo(np.int64).min
_A, _C, _M, _R, _F = (ord(c) for c in "ACMRF")
_PSEUDO = 0  # a resting order / level carried from the previous run
# resting orders are re-entered whole while they are fewer than this many times the run's records
CARRY_ALL_BELOW = 2
_SIDE = np.full(256, 2, np.int8)  # side byte -> 0 bid, 1 ask, 2 none
_SIDE[ord("B")], _SIDE[ord("A")] = 0, 1
_ORDER_ACTION = np.zeros(256, bool)  # actions that concern one order
_ORDER_ACTION[[_A, _C, _M, _F]] = True


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


def _starts(*keys: np.ndarray) -> np.ndarray:
    """True where any key differs from the previous element (and at 0)."""
    n = len(keys[0])
    out = np.zeros(n, dtype=bool)
    if n:
        out[0] = True
        for k in keys:
            out[1:] |= k[1:] != k[:-1]
    return out


def _ends(starts: np.ndarray) -> np.ndarray:
    """True at the last element of each group, given the group starts."""
    out = np.ones(len(starts), dtype=bool)
    out[:-1] = starts[1:]
    return out


def _dense_rank(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Rank of each value among the distinct values (0-based), and how many there are."""
    if len(values) == 0:
        return np.zeros(0, np.int64), 0
    order = np.argsort(values)
    ranks = np.empty(len(values), np.int64)
    ranks[order] = np.cumsum(_starts(values[order])) - 1
    return ranks, int(ranks[order[-1]]) + 1


def _chain_order(group: np.ndarray, n_groups: int, key: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Order by (key, group, t) -- ``t`` unique per (key, group) -- with one unstable sort of
    a packed int64 (lexsort is several times slower)."""
    t = t + 1  # >= 0
    t_bits = max(int(t.max()).bit_length(), 1) if len(t) else 1
    g_bits = max(n_groups - 1, 1).bit_length()
    lo = int(key.min()) if len(key) else 0
    span = int(key.max()) - lo if len(key) else 0
    step = 1
    if span.bit_length() + g_bits + t_bits > 62 and span < 1 << 63:  # prices: try in ticks
        step = int(np.gcd.reduce(key - key.dtype.type(lo))) or 1
    if (span // step).bit_length() + g_bits + t_bits <= 62:  # the keys themselves, shifted to 0
        krank, n_keys = (key - key.dtype.type(lo)).astype(np.int64), span // step + 1
        if step > 1:
            krank //= step
    else:
        krank, n_keys = _dense_rank(key)
    if t_bits + g_bits + max(n_keys - 1, 1).bit_length() > 62:
        return np.lexsort((t, group, krank))
    packed = (krank << (g_bits + t_bits)) | (group.astype(np.int64) << t_bits) | t
    return np.argsort(packed)


def _fill_max(tree: np.ndarray, size: int, lo: np.ndarray, hi: np.ndarray, val: np.ndarray) -> None:
    """Segment tree (leaves at ``size``..): node max of every value whose [lo, hi) covers it."""
    keep = lo < hi
    lo, hi, val = lo[keep] + size, hi[keep] + size, val[keep]
    while len(lo):
        odd = (lo & 1) == 1
        if odd.any():
            np.maximum.at(tree, lo[odd], val[odd])
            lo = lo + odd
        odd = (hi & 1) == 1
        if odd.any():
            hi = hi - odd
            np.maximum.at(tree, hi[odd], val[odd])
        lo, hi = lo >> 1, hi >> 1
        keep = lo < hi
        if not keep.all():
            lo, hi, val = lo[keep], hi[keep], val[keep]


def _push_down(tree: np.ndarray, size: int) -> None:
    width = 1
    while width < size:
        node = tree[width:2 * width]
        np.maximum(tree[2 * width:4 * width:2], node, out=tree[2 * width:4 * width:2])
        np.maximum(tree[2 * width + 1:4 * width:2], node, out=tree[2 * width + 1:4 * width:2])
        width *= 2


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
        pos_index = index
        if skip is not None and skip.any():
            keep = np.flatnonzero(~skip)
            pos_index = index[keep] if index is not None else keep.astype(np.int64) + first_index
            recs = recs[keep]
            if segments is not None:
                segments = segments[keep]
        n = len(recs)
        if n == 0:
            return
        inst = np.ascontiguousarray(recs["instrument_id"]).astype(np.uint32, copy=False)
        action = np.ascontiguousarray(recs["action"]).view(np.uint8)
        # --- axis: records grouped per instrument (stable), clear epochs --------------------
        lo, hi = int(inst.min()), int(inst.max())
        if lo == hi:
            ax = rank = np.arange(n)
        else:  # radix sort of small codes
            code = inst - lo
            ax = np.argsort(code.astype(np.uint16) if hi - lo < 1 << 16 else code, kind="stable")
            rank = np.empty(n, np.int64)
            rank[ax] = np.arange(n)
        inst_ax = inst[ax]
        gfirst = np.flatnonzero(_starts(inst_ax))
        g_inst = inst_ax[gfirst]
        g_end = np.append(gfirst[1:], n)
        gid_ax = np.cumsum(_starts(inst_ax)) - 1
        is_r_ax = action[ax] == _R
        cum_r = np.cumsum(is_r_ax)
        before_g = np.where(gfirst > 0, cum_r[gfirst - 1], 0) if len(gfirst) else gfirst
        epoch_ax = cum_r - before_g[gid_ax]
        g_final_epoch = epoch_ax[g_end - 1]
        n_ep = int(g_final_epoch.max()) + 1
        ge = np.empty(n, np.int64)  # (instrument group, clear epoch) of each record
        ge[ax] = gid_ax * n_ep + epoch_ax
        final_ge = np.arange(len(g_inst)) * n_ep + g_final_epoch
        r_ranks = np.flatnonzero(is_r_ax)

        def group_of(i: np.ndarray) -> np.ndarray:
            return np.searchsorted(g_inst, i)

        # --- orders ---------------------------------------------------------------------
        is_ord = _ORDER_ACTION[action]
        carried = np.isin(self._o_inst, g_inst)
        if len(self._o_oid) > CARRY_ALL_BELOW * n:  # a big book: re-enter only the orders
            cleared = np.isin(self._o_inst, g_inst[g_final_epoch > 0])  # that the run names
            carried &= np.isin(self._o_oid, recs["order_id"][is_ord])
            keep_o = ~carried & ~cleared
        else:
            keep_o = ~carried
        p = np.flatnonzero(is_ord)
        rec_side = _SIDE[np.ascontiguousarray(recs["side"]).view(np.uint8)]
        rec_px = recs["price"]
        rec_size = recs["size"].astype(np.int64)
        key1 = np.concatenate([group_of(self._o_inst[carried]) * n_ep, ge[p]])
        o_oid = np.concatenate([self._o_oid[carried], recs["order_id"][p]])
        o_act = np.concatenate([np.full(int(carried.sum()), _PSEUDO, np.uint8), action[p]])
        o_side = np.concatenate([self._o_side[carried], rec_side[p]])
        o_px = np.concatenate([self._o_px[carried], rec_px[p]])
        o_size = np.concatenate([self._o_size[carried], rec_size[p]])
        o_pos = np.concatenate([np.full(int(carried.sum()), -1, np.int64), p])
        order = _chain_order(key1, len(g_inst) * n_ep, o_oid, o_pos)
        key1, o_oid, o_act = key1[order], o_oid[order], o_act[order]
        o_side, o_px, o_size, o_pos = o_side[order], o_px[order], o_size[order], o_pos[order]
        m = len(order)
        chain0 = _starts(key1, o_oid)
        is_reset = (o_act == _PSEUDO) | (o_act == _A) | (o_act == _M)
        valid_new = is_reset & (o_px != UNDEF_PRICE) & (o_side != 2)
        seg_begin = chain0.copy()
        seg_begin[1:] |= is_reset[:-1]
        seg = np.cumsum(seg_begin) - 1
        sb = np.flatnonzero(seg_begin)
        from_prev = ~chain0[sb]  # the segment follows a reset of the same order
        src = np.maximum(sb - 1, 0)
        base_present = from_prev & valid_new[src]
        base_side, base_px, base_size = o_side[src], o_px[src], o_size[src]
        is_c = o_act == _C
        c_amt = np.where(is_c, o_size, 0)
        cs = np.cumsum(c_amt) - c_amt
        cn = np.cumsum(is_c) - is_c
        c_before = cs - cs[sb][seg]
        n_before = cn - cn[sb][seg]
        bsize = base_size[seg]
        present = base_present[seg] & ~((n_before > 0) & (c_before >= bsize))
        resting = bsize - c_before
        prev_side, prev_px = base_side[seg], base_px[seg]
        is_a, is_m, is_f = o_act == _A, o_act == _M, o_act == _F
        self.counts["unknown_order_events"] += int(np.count_nonzero((is_c | is_f) & ~present))
        self.counts["reused_order_ids"] += int(np.count_nonzero(is_a & present))
        # price-level changes: remove (sub-step 0) then add (sub-step 1)
        rm_am = (is_a | is_m) & present
        rm_c = is_c & present
        rm = np.flatnonzero(rm_am | rm_c)
        rm_amt = resting[rm]
        np.minimum(rm_amt, o_size[rm], out=rm_amt, where=rm_c[rm])
        add = np.flatnonzero(valid_new & (o_act != _PSEUDO))
        # final state of each order chain (at its last record)
        e = np.flatnonzero(_ends(chain0))
        e = e[key1[e] == final_ge[key1[e] // n_ep]]  # not cleared later in the run
        e_reset, e_c, e_size, e_rest = is_reset[e], is_c[e], o_size[e], resting[e]
        after_present = np.where(e_reset, valid_new[e], present[e] & (~e_c | (e_size < e_rest)))
        e = e[after_present]
        e_reset, e_c, e_size, e_rest = e_reset[after_present], e_c[after_present], e_size[after_present], e_rest[after_present]
        after_size = np.where(e_reset, e_size, np.where(e_c, e_rest - e_size, e_rest))
        after_side = np.where(e_reset, o_side[e], prev_side[e])
        after_px = np.where(e_reset, o_px[e], prev_px[e])
        new_o = (g_inst[key1[e] // n_ep], o_oid[e], after_side, after_px, after_size)
        old_o = (self._o_inst[keep_o], self._o_oid[keep_o], self._o_side[keep_o],
                 self._o_px[keep_o], self._o_size[keep_o])
        (self._o_inst, self._o_oid, self._o_side, self._o_px,
         self._o_size) = (np.concatenate([a, b]) for a, b in zip(old_o, new_o))

        # --- levels ---------------------------------------------------------------------
        lcar = np.isin(self._l_inst, g_inst)
        keep_l = ~lcar
        nl = int(lcar.sum())
        lkey = np.concatenate([group_of(self._l_inst[lcar]) * (2 * n_ep) + self._l_side[lcar],
                               key1[rm] * 2 + prev_side[rm], key1[add] * 2 + o_side[add]])
        l_px = np.concatenate([self._l_px[lcar], prev_px[rm], o_px[add]])
        l_amt = np.concatenate([self._l_size[lcar], -rm_amt, o_size[add]])
        l_t = np.concatenate([np.full(nl, -1, np.int64), 2 * o_pos[rm], 2 * o_pos[add] + 1])
        l_add = np.concatenate([np.ones(nl, bool), np.zeros(len(rm), bool), np.ones(len(add), bool)])
        order = _chain_order(lkey, len(g_inst) * n_ep * 2, l_px, l_t)
        lkey, l_px, l_amt, l_t, l_add = lkey[order], l_px[order], l_amt[order], l_t[order], l_add[order]
        l_side = (lkey & 1).astype(np.int8)
        lchain0 = _starts(lkey, l_px)
        total = np.cumsum(l_amt)
        lb = np.flatnonzero(lchain0)
        lseg = np.cumsum(lchain0) - 1
        total = total - (total[lb] - l_amt[lb])[lseg]
        exists = l_add | (total > 0)
        existed = np.zeros(len(exists), bool)
        existed[1:] = exists[:-1]
        existed[lchain0] = False
        flip = exists != existed
        llast = _ends(lchain0)
        lg = lkey // (2 * n_ep)
        lfin = llast & exists & ((lkey >> 1) == final_ge[lg])
        new_l = (g_inst[lg[lfin]], l_side[lfin], l_px[lfin], total[lfin])
        old_l = (self._l_inst[keep_l], self._l_side[keep_l], self._l_px[keep_l], self._l_size[keep_l])
        self._l_inst, self._l_side, self._l_px, self._l_size = (
            np.concatenate([a, b]) for a, b in zip(old_l, new_l))
        # intervals (in axis ranks) in which each level exists
        tf = np.flatnonzero(flip)
        appear = tf[exists[tf]]
        at = l_t[appear]
        start = np.where(at < 0, gfirst[lg[appear]], rank[np.maximum(at, 0) >> 1])
        nxt = np.searchsorted(tf, appear, side="right")
        nxt_c = np.minimum(nxt, max(len(tf) - 1, 0))
        closes = (nxt < len(tf)) & (lseg[tf[nxt_c]] == lseg[appear]) if len(tf) else np.zeros(0, bool)
        close_rank = rank[np.maximum(l_t[tf[nxt_c]], 0) >> 1] if len(tf) else np.zeros(0, np.int64)
        # open at the end of its epoch: ends at the instrument's next clear, or its last record
        g_ap = lg[appear]
        k = np.searchsorted(r_ranks, start, side="left")
        k_c = np.minimum(k, max(len(r_ranks) - 1, 0))
        nr = r_ranks[k_c] if len(r_ranks) else np.zeros(len(k), np.int64)
        open_end = np.where((k < len(r_ranks)) & (nr < g_end[g_ap]), nr, g_end[g_ap])
        end = np.where(closes, close_rank, open_end)
        ask = l_side[appear] == 1
        val = np.where(ask, -l_px[appear], l_px[appear])
        off = np.where(ask, n, 0)

        # --- best bid / ask at the F_LAST records -----------------------------------------
        q = ax[(recs["flags"][ax] & F_LAST) != 0]  # per instrument, in record order
        if len(q) == 0:
            return
        size = 1 << int(2 * n - 1).bit_length()
        tree = np.full(2 * size, _NEG, np.int64)
        _fill_max(tree, size, start + off, end + off, val)
        _push_down(tree, size)
        bid = tree[size + rank[q]]
        nask = tree[size + n + rank[q]]
        both = (bid != _NEG) & (nask != _NEG)
        spread = np.where(both, -np.where(both, nask, 0) - np.where(both, bid, 0), 1)
        state = np.where(spread < 0, 1, np.where(spread == 0, 2, 0)).astype(np.int8)
        self._episodes(q, state, spread, inst, recs, first_index, pos_index,
                       None if segments is None else segments[q])

    def _episodes(self, q, state, spread, inst, recs, first_index, pos_index, seg_q) -> None:
        qi = inst[q]
        gs = _starts(qi)
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
            self._runs(q, qi, state, prev, gs, on, spread, g_last, recs, first_index, pos_index, seg_q)
        for j in g_last.tolist():  # the episode left open by each instrument
            if state[j] == 0:
                self.open.pop(int(qi[j]), None)

    def _runs(self, q, qi, state, prev, gs, on, spread, g_last, recs, first_index, pos_index, seg_q) -> None:
        begin = on & ((state != prev) | gs)
        new = on & (state != prev)
        w = np.flatnonzero(on)
        rb = np.flatnonzero(begin[w])
        run_first, run_last = w[rb], w[np.append(rb[1:], len(w)) - 1]
        run_checks = np.diff(np.append(rb, len(w)))
        run_worst = np.minimum.reduceat(spread[w], rb)
        index = (q + first_index) if pos_index is None else pos_index[q]
        ts = recs["ts_recv"][q]
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
