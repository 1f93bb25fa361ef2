"""Vectorised "previous value in the same group" over chunked record streams.

MBO checks compare each record with the previous record of its channel or instrument. Within a
chunk that is a stable sort by a dense group code (radix sort on 16-bit codes, so linear time)
and a shift; across chunks each group's last value is carried in a small array indexed by the
same persistent code.
"""
from __future__ import annotations

import numpy as np


class GroupCodes:
    """Persistent dense codes (0, 1, 2, ...) for group keys seen across chunks."""

    def __init__(self) -> None:
        self.keys: list[int] = []
        self._code: dict[int, int] = {}
        self._table_range = (0, 0)
        self._table = np.zeros(0, dtype=np.uint16)

    def encode(self, keys: np.ndarray) -> np.ndarray:
        if len(keys) and self.keys:
            lo, hi = self._table_range
            kmin, kmax = int(keys.min()), int(keys.max())
            if lo <= kmin and kmax < hi:
                codes = self._table[keys - lo]
                if not (codes == 65_535).any():
                    return codes
        codes = self._encode_new(keys)
        self._rebuild_table()
        return codes

    def _rebuild_table(self) -> None:
        """A direct lookup table when the keys span a small range (channels, a few
        instruments): one gather instead of a hash plus a binary search per record."""
        lo, hi = min(self.keys), max(self.keys) + 1
        if hi - lo > 1 << 20:
            self._table_range = (0, 0)
            return
        self._table = np.full(hi - lo, 65_535, dtype=np.uint16)
        self._table[np.asarray(self.keys, dtype=np.int64) - lo] = np.arange(len(self.keys))
        self._table_range = (lo, hi)

    def _encode_new(self, keys: np.ndarray) -> np.ndarray:
        # unique() without an inverse is hash-based; searchsorted on the few keys is cheaper
        # than the sort that return_inverse would do
        uniq = np.unique(keys)
        local = np.empty(len(uniq), dtype=np.uint16)
        for k, key in enumerate(uniq.tolist()):
            code = self._code.get(key)
            if code is None:
                if len(self.keys) >= 65_535:
                    raise ValueError("more than 65535 groups (channels or instruments) in one file")
                code = self._code[key] = len(self.keys)
                self.keys.append(key)
            local[k] = code
        if len(uniq) == 1:
            return np.full(len(keys), local[0], dtype=np.uint16)
        return local[np.searchsorted(uniq, keys)]

    def __len__(self) -> int:
        return len(self.keys)


class GroupedOrder:
    """The stable group-sorted order of one chunk, reused by several columns."""

    def __init__(self, codes: np.ndarray):
        self.codes = codes
        self.order = np.argsort(codes, kind="stable")
        self.sorted_codes = codes[self.order]
        n = len(codes)
        edge = np.empty(n, dtype=bool)
        if n:
            edge[0] = True
            np.not_equal(self.sorted_codes[1:], self.sorted_codes[:-1], out=edge[1:])
        self.starts = np.flatnonzero(edge)
        self.ends = np.append(self.starts[1:] - 1, n - 1) if n else self.starts
        self.is_start = edge

    def previous(self, values: np.ndarray, carry: np.ndarray, carry_valid: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Previous value of each record's group (from ``carry`` for a group's first record in
        the chunk) and whether one exists. Updates ``carry``/``carry_valid`` in place."""
        _, prev, valid = self.previous_sorted(values, carry, carry_valid)
        return self._unsort(prev), self._unsort(valid)

    def previous_sorted(self, values: np.ndarray, carry: np.ndarray, carry_valid: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """As :meth:`previous`, in group-sorted order: (values, previous, valid). Comparing
        there and mapping only the hits back (:meth:`positions`) avoids two scatters."""
        sv = values[self.order]
        prev = np.empty_like(sv)
        if len(sv):
            prev[1:] = sv[:-1]
        first_codes = self.sorted_codes[self.starts]
        prev[self.starts] = carry[first_codes]
        valid = np.ones(len(sv), dtype=bool)
        valid[self.starts] = carry_valid[first_codes]
        carry[self.sorted_codes[self.ends]] = sv[self.ends]
        carry_valid[self.sorted_codes[self.ends]] = True
        return sv, prev, valid

    def previous_max_sorted(self, values: np.ndarray, carry: np.ndarray, carry_valid: np.ndarray
                            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Running maximum of the group's earlier values (sequence high-water mark), in
        group-sorted order: (values, previous maximum, valid); values must fit in 32 bits.
        Updates ``carry``/``carry_valid`` in place."""
        offset = self.sorted_codes.astype(np.uint64) << np.uint64(32)
        sv = values[self.order].astype(np.uint64)
        sv += offset
        first_codes = self.sorted_codes[self.starts]
        has = carry_valid[first_codes]
        carried = carry[first_codes].astype(np.uint64) + offset[self.starts]
        # folding the carried maximum into each group's first value makes the plain running
        # maximum equal to max(carry, earlier values) for every later record of the group;
        # the first values are put back afterwards (they are returned as the values)
        own_first = sv[self.starts]
        sv[self.starts] = np.where(has, np.maximum(own_first, carried), own_first)
        running = np.maximum.accumulate(sv)
        sv[self.starts] = own_first
        prev = np.empty_like(running)
        if len(prev):
            prev[1:] = running[:-1]
        prev[self.starts] = carried
        prev -= offset
        valid = np.ones(len(sv), dtype=bool)
        valid[self.starts] = has
        end_codes = self.sorted_codes[self.ends]
        carry[end_codes] = running[self.ends] - offset[self.ends]
        carry_valid[end_codes] = True
        sv -= offset
        return sv, prev, valid

    def positions(self, mask_sorted: np.ndarray) -> np.ndarray:
        """Chunk positions (ascending) of the records selected in group-sorted order."""
        return np.sort(self.order[np.flatnonzero(mask_sorted)])

    def _unsort(self, sorted_values: np.ndarray) -> np.ndarray:
        out = np.empty_like(sorted_values)
        out[self.order] = sorted_values
        return out


def grow(array: np.ndarray, size: int, fill=0) -> np.ndarray:
    """``array`` extended with ``fill`` to at least ``size`` entries (carry arrays grow as new
    groups appear)."""
    if len(array) >= size:
        return array
    extra = np.full(max(size, 2 * len(array)) - len(array), fill, dtype=array.dtype)
    return np.concatenate([array, extra])
