"""Array kernels of the numpy order book (:mod:`.book`): group boundaries, packed sorts that
keep each chain of events in time order, and a max segment tree over record positions.

Written for speed on runs of 10^4..10^5 records: one ``np.sort``/``np.argsort`` of a packed
int64 instead of ``lexsort``, comparisons and multiplications instead of lookup tables and
``np.where`` (several times faster in numpy), no full-length gather that is not needed.
"""
from __future__ import annotations

import numpy as np

_NEG = np.iinfo(np.int64).min


def starts(*keys: np.ndarray) -> np.ndarray:
    """True where any key differs from the previous element (and at 0)."""
    n = len(keys[0])
    out = np.zeros(n, dtype=bool)
    if n:
        out[0] = True
        for k in keys:
            out[1:] |= k[1:] != k[:-1]
    return out


def ends(group_starts: np.ndarray) -> np.ndarray:
    """True at the last element of each group, given the group starts."""
    out = np.ones(len(group_starts), dtype=bool)
    out[:-1] = group_starts[1:]
    return out


def shifted(values: np.ndarray, first) -> np.ndarray:
    """``values`` moved one place right, ``first`` at 0 (the previous element)."""
    out = np.empty_like(values)
    if len(values):
        out[0] = first
        out[1:] = values[:-1]
    return out


def group_ids(group_starts: np.ndarray) -> np.ndarray:
    """0-based group number of each element (cumulative count of starts, in int32: a bool
    cumsum into int64 is twice as slow)."""
    out = np.cumsum(group_starts.view(np.uint8), dtype=np.int32)
    out -= 1
    return out


def dense_rank(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Rank of each value among the distinct values (0-based), and how many there are."""
    if len(values) == 0:
        return np.zeros(0, np.int64), 0
    order = np.argsort(values)
    ranks = np.empty(len(values), np.int64)
    ranks[order] = np.cumsum(starts(values[order])) - 1
    return ranks, int(ranks[order[-1]]) + 1


def _key_rank(key: np.ndarray, room: int) -> tuple[np.ndarray, int]:
    """``key`` as small non-negative int64 codes in the same order: shifted to 0 (and divided
    by the common step, prices in ticks) when that fits in ``room`` bits, else dense ranks."""
    if not len(key):
        return key.astype(np.int64), 1
    lo, span = int(key.min()), int(key.max()) - int(key.min())
    if span.bit_length() <= room:
        return (key - key.dtype.type(lo)).astype(np.int64), span + 1
    if span < 1 << 63:
        shifted_key = (key - key.dtype.type(lo)).astype(np.int64)
        # the step of a sample, checked on all (a full gcd.reduce costs 3x the division)
        step = int(np.gcd.reduce(shifted_key[:: max(len(key) // 256, 1)])) or 1
        krank = shifted_key // step
        if step > 1 and not np.array_equal(krank * step, shifted_key):
            step = int(np.gcd.reduce(shifted_key)) or 1
            krank = shifted_key // step
        if (span // step).bit_length() <= room:
            return krank, span // step + 1
    return dense_rank(key)


def chain_sort(group: np.ndarray, n_groups: int, key: np.ndarray, t: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Order of the elements by (key, group, t) and, in that order, where each (key, group)
    chain starts. ``t`` (default: the element's index) must be unique, >= 0 and in time order
    within a chain. One ``np.sort`` of packed ``key|group|t`` (several times faster than
    ``argsort``) gives the order: ``t`` is read back from the low bits and mapped to its
    element. Falls back to ``lexsort`` when the bits do not fit."""
    m = len(group)
    low = np.arange(m, dtype=np.int64) if t is None else t
    t_bits = max(int(low.max()).bit_length(), 1) if m else 1
    g_bits = max(n_groups - 1, 1).bit_length()
    krank, n_keys = _key_rank(key, 62 - g_bits - t_bits)
    if t_bits + g_bits + max(n_keys - 1, 1).bit_length() > 62:
        order = np.lexsort((low, group, krank))
        return order, starts(krank[order], group[order])
    packed = krank << (g_bits + t_bits)
    packed |= group.astype(np.int64) << t_bits
    packed |= low
    packed.sort()
    order = packed & ((1 << t_bits) - 1)
    if t is not None:  # t -> element
        element = np.empty(int(low.max()) + 1 if m else 0, np.int64)
        element[low] = np.arange(m)
        order = element[order]
    packed >>= t_bits
    return order, starts(packed)


def fill_max(tree: np.ndarray, size: int, lo: np.ndarray, hi: np.ndarray, val: np.ndarray) -> None:
    """Segment tree (leaves at ``size``..): node max of every value whose [lo, hi) covers it.
    The nodes of all intervals are collected level by level, then maxed in one ``at``."""
    keep = lo < hi
    lo, hi, val = lo[keep] + size, hi[keep] + size, val[keep]
    nodes, vals = [], []
    while len(lo):
        lo_odd, hi_odd = lo & 1, hi & 1
        take = lo_odd.astype(bool)
        nodes.append(lo[take])
        vals.append(val[take])
        hi -= hi_odd
        take = hi_odd.astype(bool)
        nodes.append(hi[take])
        vals.append(val[take])
        lo += lo_odd
        lo >>= 1
        hi >>= 1
        keep = lo < hi
        lo, hi, val = lo[keep], hi[keep], val[keep]
    if nodes:
        np.maximum.at(tree, np.concatenate(nodes), np.concatenate(vals))


def push_down(tree: np.ndarray, size: int) -> None:
    """Each leaf becomes the max of its ancestors (after :func:`fill_max`)."""
    width = 1
    while width < size:
        node = tree[width:2 * width]
        np.maximum(tree[2 * width:4 * width:2], node, out=tree[2 * width:4 * width:2])
        np.maximum(tree[2 * width + 1:4 * width:2], node, out=tree[2 * width + 1:4 * width:2])
        width *= 2


def interval_max(n_leaves: int, lo: np.ndarray, hi: np.ndarray, val: np.ndarray,
                 at: np.ndarray) -> np.ndarray:
    """At each position ``at``, the max of the values whose [lo, hi) covers it (int64 min
    where none does)."""
    size = 1 << max(int(n_leaves - 1).bit_length(), 0)
    tree = np.full(2 * size, _NEG, np.int64)
    fill_max(tree, size, lo, hi, val)
    push_down(tree, size)
    return tree[size + at]
