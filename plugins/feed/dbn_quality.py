"""MBO data quality of one DBN file, computed chunk by chunk with numpy.

What is measured (every count also lists its first ``max_violations`` places, by record
index in the file, instrument, channel and ``ts_recv``):

* ``ts_recv_regressions`` — a record received before the record in front of it (DBN files are
  ordered by ``ts_recv``); ``ts_event_regressions`` — per instrument; ``ts_event_after_recv``.
* latency ``ts_recv − ts_event``: p50/p99/max in ms, from a 1 µs histogram (exact to 1 µs up
  to 1 s; above that the percentile is reported as the observed maximum).
* sequence numbers per (publisher, channel): ``sequence_gaps``/``missing_sequences`` are numbers
  never received (a late record fills the gap it left), ``late_records`` arrived after a higher
  number of their channel. Missing numbers are kept as ranges (bisected when a late record
  fills one), so both counts are exact; past ``MAX_GAP_RANGES`` ranges new gaps are still
  counted but no longer matched against late records, and ``not_judged`` says so.
* book snapshot records (``F_SNAPSHOT``): counted (``snapshot_records``), fed to the book and
  checked for prices and sizes, but left out of latency, ordering, flags-of-``ts_recv``,
  duplicate and sequence checks: their ``ts_event`` is the original order time and their
  ``ts_recv``/``sequence`` those of the snapshot.
* ``side_none_fills``: trades and fills with side ``N`` (an auction uncross, an unknown
  aggressor) — normal, and kept away from the book's unknown-order count.
* ``duplicates_adjacent`` (the same event as the record just before it in the file, resent:
  ``ts_recv`` may differ) and ``duplicates_exact`` (byte-identical to an earlier record).
* prices on A/M/T/F records: ``undefined_prices``, ``non_positive_prices``; ``price_jumps``:
  trades more than ``jump_ratio`` away from the instrument's previous trade (a print that
  reverses the previous jump is its return, not a new jump).
* flags: ``bad_ts_recv_flags`` (F_BAD_TS_RECV), ``maybe_bad_book_flags`` (F_MAYBE_BAD_BOOK).
* ``zero_sizes`` on A/M/T/F records; the longest intervals without records (``silences``).
* gateway records: heartbeats, slow-reader warnings, ``skipped_records_errors`` (a gap).
* crossed/locked books by reconstruction (:mod:`.book`), when ``book`` is on.
"""
from __future__ import annotations

import heapq
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .book import F_LAST, BookChecker
from .dbn_reader import (ControlRecord, DbnMboReader, MboRun, OtherSchemaError, RTYPE_ERROR,
                         RTYPE_SYSTEM, symbols_by_instrument)
from .grouped import GroupCodes, GroupedOrder, grow

UNDEF_PRICE = np.iinfo(np.int64).max
F_BAD_TS_RECV, F_MAYBE_BAD_BOOK, F_SNAPSHOT = 8, 4, 32
LATENCY_BINS = 1 << 20  # 1 us bins: 0 .. ~1.05 s
# bounds on the per-record Python work that only anomalies trigger, so a pathological file
# (a sequence reset, a replayed hour) stays fast; hitting one is reported in the result
MAX_PER_CHUNK = 10_000
MAX_UNCROSS_MARKS = 200_000  # (instrument, record index) pairs that can end an auction
MAX_GAP_RANGES = 1_000_000  # open gap ranges per file (3 Python ints each, ~100 MB at most)
SEQUENCE_METRICS = ("sequence_gaps", "missing_sequences", "late_records")


@dataclass
class QualityOptions:
    # ~3.5 MiB of records: each numpy pass over a chunk then runs from cache, not memory
    # (measured 2.4x faster than 1 Mi-record chunks)
    chunk_records: int = 1 << 16
    jump_ratio: float = 0.05
    allow_negative_prices: bool = False
    sequence_scope: str = "channel"  # only "channel": Databento numbers messages per channel
    book: bool = True
    max_violations: int = 50
    silence_floor_s: float = 1.0
    max_silences: int = 1000


class FileQuality:
    """Accumulates the quality of one file over its chunks; ``result()`` gives a JSON-able
    dict with ``metrics``, ``by_instrument`` and ``violations``."""

    def __init__(self, path: Path, options: QualityOptions):
        self.path, self.opt = path, options
        self.counts = dict.fromkeys((
            "records", "mbo_records", "ts_recv_regressions", "ts_event_regressions",
            "ts_event_after_recv", "sequence_gaps", "missing_sequences", "late_records",
            "duplicates_adjacent", "duplicates_exact", "undefined_prices",
            "non_positive_prices", "zero_sizes", "price_jumps", "bad_ts_recv_flags", "maybe_bad_book_flags",
            "heartbeats", "slow_reader_warnings", "skipped_records_errors", "gateway_errors",
            "other_records", "snapshot_records", "side_none_fills", "sequence_steps",
            "sequence_jumps"), 0)
        self.violations: dict[str, list[dict]] = {}
        self.hist = np.zeros(LATENCY_BINS + 1, dtype=np.int64)
        self.latency_max, self.latency_max_index = -1, -1
        self.chan, self.inst = GroupCodes(), GroupCodes()
        self.seq_max, self.seq_ok = np.zeros(4, np.uint64), np.zeros(4, bool)
        self.ev_last, self.ev_ok = np.zeros(4, np.uint64), np.zeros(4, bool)
        self.trade_px, self.trade_ok = np.zeros(4, np.int64), np.zeros(4, bool)
        self.trade_move = np.zeros(4, np.int8)  # sign of the last counted/return jump
        self.last_words: np.ndarray | None = None  # the previous chunk's last record
        self.prev_recv: int | None = None
        # channel code -> ([lo...], [hi...], [record index...]): disjoint ranges, ascending
        self.open_gaps: dict[int, tuple[list[int], list[int], list[int]]] = {}
        self.gap_ranges = 0
        self.unmatched_gaps = [0, 0]  # gaps and missing numbers past MAX_GAP_RANGES
        self.not_judged: dict[str, str] = {}  # metric -> why its count is not exact
        # an auction uncross: a side-N trade whose instrument had no complete event since the
        # record at the index; a crossed/locked episode ending on that record was the auction
        self.uncross_marks: set[tuple[int, int]] = set()
        self.prev_chunk: MboRun | None = None
        self.inst_counts: dict[str, np.ndarray] = {}
        self.book = BookChecker() if options.book else None
        self.silences: list[tuple[int, int]] = []  # (last ts_recv before, first after), ns
        self.limits_hit: set[str] = set()
        if options.sequence_scope != "channel":
            raise ValueError(f"sequence_scope {options.sequence_scope!r}: only 'channel' is "
                             "supported (Databento numbers messages per channel)")
        self.chan_first_seq: list[int] = []
        self.first_recv: int | None = None

    # -- helpers ---------------------------------------------------------------------------
    def _note(self, kind: str, mask: np.ndarray, run: MboRun, detail=None) -> int:
        return self._note_at(kind, np.flatnonzero(mask), run, detail)

    def _note_at(self, kind: str, where: np.ndarray, run: MboRun, detail=None) -> int:
        """Count and list the records at chunk positions ``where`` (ascending)."""
        n = len(where)
        if not n:
            return 0
        self.counts[kind] += n
        lst = self.violations.setdefault(kind, [])
        r = run.records
        for w in where[: max(0, self.opt.max_violations - len(lst))].tolist():
            item = {"index": run.first_index + w, "instrument_id": int(r["instrument_id"][w]),
                    "channel_id": int(r["channel_id"][w]), "ts_recv": int(r["ts_recv"][w])}
            if detail is not None:
                item.update(detail(w))
            lst.append(item)
        self._per_instrument(kind, self._inst_codes[where])
        return n

    def _per_instrument(self, kind: str, codes: np.ndarray) -> None:
        counts = np.bincount(codes, minlength=len(self.inst))
        cur = grow(self.inst_counts.get(kind, np.zeros(0, np.int64)), len(self.inst))
        cur[: len(counts)] += counts
        self.inst_counts[kind] = cur

    # -- the checks ------------------------------------------------------------------------
    def _grow(self) -> None:
        ki = len(self.inst)
        for name in ("ev_last", "trade_px", "trade_move"):
            setattr(self, name, grow(getattr(self, name), ki))
        self.ev_ok, self.trade_ok = grow(self.ev_ok, ki, False), grow(self.trade_ok, ki, False)

    def update(self, run: MboRun) -> None:
        r = run.records
        n = len(r)
        self.counts["records"] += n
        self.counts["mbo_records"] += n
        snap = (r["flags"] & F_SNAPSHOT) != 0
        n_snap = int(np.count_nonzero(snap))
        if not n_snap:
            skip = self._live(run)
        elif n_snap == n:
            skip = self._snapshot(run)
        else:  # snapshots come in blocks: check each contiguous block by its kind
            skip = np.zeros(n, dtype=bool)
            cuts = [0, *(np.flatnonzero(snap[1:] != snap[:-1]) + 1).tolist(), n]
            for a, b in zip(cuts, cuts[1:]):
                part = MboRun(r[a:b], run.first_index + a)
                skip[a:b] = self._snapshot(part) if snap[a] else self._live(part)
        unsided = r["side"].view(np.uint8) == ord("N")
        if unsided.any():  # rare outside auctions (but every ICE trade): filter by action then
            action = r["action"].view(np.uint8)
            unsided &= (action == ord("F")) | (action == ord("T"))
        self.counts["side_none_fills"] += int(np.count_nonzero(unsided))
        if self.book is not None:
            self._uncrosses(run, unsided)  # a fill without side is not an unknown order's fill
            self.book.update(r, run.first_index, skip=skip | unsided)

    def _uncrosses(self, run: MboRun, unsided: np.ndarray) -> None:
        """Before the book sees ``run``: remember (instrument, index of its last complete event)
        at each side-N trade, the moment an auction uncross ends a crossed pre-open book."""
        r = run.records
        trades = np.flatnonzero(unsided & (r["action"].view(np.uint8) == ord("T")))
        if not len(trades):
            return
        if len(self.uncross_marks) >= MAX_UNCROSS_MARKS:
            self.limits_hit.add(f"more than {MAX_UNCROSS_MARKS} trades without side: later "
                                "crossed books were not matched against auctions")
            return
        insts = r["instrument_id"]
        ends = np.flatnonzero((r["flags"] & F_LAST) != 0)
        for x in np.unique(insts[trades]).tolist():
            own_ends = ends[insts[ends] == x]
            k = np.searchsorted(own_ends, trades[insts[trades] == x]) - 1
            self.uncross_marks.update((x, e) for e in (own_ends[k[k >= 0]] + run.first_index).tolist())
            ep = self.book.open.get(x)
            if (k < 0).any() and ep is not None:  # its last complete event is in an earlier run:
                self.uncross_marks.add((x, ep.end_index))  # an open episode ends on it

    def _auction_episodes(self, metrics: dict, by_inst_book: dict) -> list[dict]:
        """Crossed/locked episodes that a trade without side (the auction uncross) ended: the
        pre-open book of an auction is crossed by design. Taken out of the crossed/locked counts
        and counted as ``auction_crossed_episodes``/``auction_locked_episodes``."""
        out = []
        metrics["auction_crossed_episodes"] = metrics["auction_locked_episodes"] = 0
        for e in self.book.episodes:
            if (e.instrument_id, e.end_index) in self.uncross_marks and e.instrument_id not in self.book.open:
                metrics[f"{e.kind}_episodes"] -= 1
                metrics[f"auction_{e.kind}_episodes"] += 1
                per = by_inst_book.get(e.instrument_id)
                if per is not None:
                    per[f"{e.kind}_episodes"] -= 1
                    per[f"auction_{e.kind}_episodes"] = per.get(f"auction_{e.kind}_episodes", 0) + 1
                out.append(dict(e.as_dict(), auction=True))
            else:
                out.append(e.as_dict())
        return out

    def _snapshot(self, run: MboRun) -> np.ndarray:
        """Book snapshot records: counted, prices and sizes checked; nothing about time or
        sequence (their ``ts_event`` is the order's original time)."""
        r = run.records
        self.counts["snapshot_records"] += len(r)
        inst_codes = self._inst_codes = self.inst.encode(r["instrument_id"])
        self._per_instrument("records", inst_codes)
        self._per_instrument("snapshot_records", inst_codes)
        self._grow()
        none = np.zeros(len(r), dtype=bool)
        bad_px = self._prices(run, inst_codes, none)
        self._note("maybe_bad_book_flags", (r["flags"] & F_MAYBE_BAD_BOOK) != 0, run)
        return bad_px

    def _live(self, run: MboRun) -> np.ndarray:
        r = run.records
        inst_codes = self._inst_codes = self.inst.encode(r["instrument_id"])
        self._per_instrument("records", inst_codes)
        seq_keys = (r["publisher_id"].astype(np.uint32) << 8) | r["channel_id"]
        chan_codes = self.chan.encode(seq_keys)
        k = len(self.chan)
        self.seq_max, self.seq_ok = grow(self.seq_max, k), grow(self.seq_ok, k, False)
        self._grow()
        by_chan = GroupedOrder(chan_codes)
        by_inst = GroupedOrder(inst_codes)

        if len(self.chan_first_seq) < len(self.chan):  # first sequence of each new channel
            for code in range(len(self.chan_first_seq), len(self.chan)):
                self.chan_first_seq.append(int(r["sequence"][int(np.argmax(chan_codes == code))]))
        _, max_s, ok_s = by_chan.previous_max_sorted(r["sequence"], self.seq_max, self.seq_ok)
        # the values it returns hold the carried maximum at each group's first record (so a
        # late record opening a chunk looked on time): take the records' own numbers
        seq_s = r["sequence"][by_chan.order].astype(np.uint64)
        behind = by_chan.positions(ok_s & (seq_s < max_s))
        dups = self._duplicates(run, behind)
        self._latency(run, by_inst)
        self._order(run, by_inst, dups)
        self._sequences(run, by_chan, seq_s, max_s, ok_s, behind[~dups[behind]])
        bad_px = self._prices(run, inst_codes, dups)
        self._note("bad_ts_recv_flags", (r["flags"] & F_BAD_TS_RECV) != 0, run)
        self._note("maybe_bad_book_flags", (r["flags"] & F_MAYBE_BAD_BOOK) != 0, run)
        self.prev_chunk = run
        return dups | bad_px

    def _latency(self, run: MboRun, by_inst: GroupedOrder) -> None:
        r = run.records
        # timestamps are < 2**63 ns, so the int64 views are exact and need no copy
        lat = r["ts_recv"].view(np.int64) - r["ts_event"].view(np.int64)
        self._note("ts_event_after_recv", lat < 0, run)
        lat_us = np.clip(lat, 0, None) // 1000
        np.minimum(lat_us, LATENCY_BINS, out=lat_us)
        counts = np.bincount(lat_us)  # as long as the largest latency, not the whole range
        self.hist[: len(counts)] += counts
        if len(lat):
            at = int(np.argmax(lat))
            if lat[at] > self.latency_max:
                self.latency_max, self.latency_max_index = int(lat[at]), run.first_index + at
            cur = grow(self.inst_counts.get("latency_max_ns", np.zeros(0, np.int64)), len(self.inst))
            group_max = np.maximum.reduceat(lat[by_inst.order], by_inst.starts)
            codes = by_inst.sorted_codes[by_inst.starts]
            cur[codes] = np.maximum(cur[codes], group_max)
            self.inst_counts["latency_max_ns"] = cur

    def _order(self, run: MboRun, by_inst: GroupedOrder, dups: np.ndarray) -> None:
        r = run.records
        recv = r["ts_recv"].view(np.int64)
        prev = np.empty_like(recv)
        if len(recv):
            prev[1:] = recv[:-1]
            prev[0] = recv[0] if self.prev_recv is None else self.prev_recv
            self.prev_recv = int(recv[-1])
            if self.first_recv is None:
                self.first_recv = int(recv[0])
        self._note("ts_recv_regressions", (recv < prev) & ~dups, run)
        self._silences(recv, prev)
        ev_s, prev_s, ok_s = by_inst.previous_sorted(r["ts_event"], self.ev_last, self.ev_ok)
        back = by_inst.positions(ok_s & (ev_s < prev_s))
        self._note_at("ts_event_regressions", back[~dups[back]], run)

    def _silences(self, recv: np.ndarray, prev: np.ndarray) -> None:
        """Keep the longest intervals without records (``silence_floor_s`` and up), for the
        market-hours streaming check; at most ``max_silences`` of them, the longest."""
        floor = int(self.opt.silence_floor_s * 1e9)
        gap = recv - prev
        for w in np.flatnonzero(gap >= floor).tolist():
            self.silences.append((int(prev[w]), int(recv[w])))
        if len(self.silences) > 2 * self.opt.max_silences:
            self.silences.sort(key=lambda g: g[0] - g[1])
            del self.silences[self.opt.max_silences:]

    def _sequences(self, run: MboRun, by_chan: GroupedOrder, seq_s: np.ndarray,
                   max_s: np.ndarray, ok_s: np.ndarray, late: np.ndarray) -> None:
        r = run.records
        self.counts["sequence_steps"] += int(np.count_nonzero(ok_s & (seq_s > max_s)))
        jumps = np.flatnonzero(ok_s & (seq_s > max_s + 1))
        self.counts["sequence_jumps"] += len(jumps)
        for j in jumps.tolist():  # new gaps are above every open one: appending keeps order
            code, w = int(by_chan.sorted_codes[j]), int(by_chan.order[j])
            lo, hi = int(max_s[j]) + 1, int(seq_s[j]) - 1
            if self.gap_ranges >= MAX_GAP_RANGES:
                self.unmatched_gaps[0] += 1
                self.unmatched_gaps[1] += hi - lo + 1
                self._limit(f"more than {MAX_GAP_RANGES} open sequence gap ranges: later gaps "
                            "were counted but not matched against late records")
                continue
            los, his, ats = self.open_gaps.setdefault(code, ([], [], []))
            los.append(lo)
            his.append(hi)
            ats.append(run.first_index + w)
            self.gap_ranges += 1
        codes = by_chan.codes
        if len(late) > MAX_PER_CHUNK:  # a sequence reset, not late records: stay linear-time
            self._limit(f"more than {MAX_PER_CHUNK} late records in a chunk: "
                        "gaps were not matched against them (sequence reset?)")
            late_to_fill = late[:0]
        else:
            late_to_fill = late
        for w in late_to_fill.tolist():
            self._fill_gap(int(codes[w]), int(r["sequence"][w]))
        self._note_at("late_records", late, run)

    def _limit(self, why: str, metrics=SEQUENCE_METRICS) -> None:
        self.limits_hit.add(why)
        for m in metrics:
            self.not_judged.setdefault(m, why)

    def _fill_gap(self, chan_code: int, s: int) -> None:
        """A late record with number ``s`` arrived: take it out of its gap range (bisected)."""
        gaps = self.open_gaps.get(chan_code)
        if not gaps:
            return
        los, his, ats = gaps
        i = bisect_right(los, s) - 1
        if i < 0 or his[i] < s:
            return  # not missing: a copy, or a number from before the channel's first record
        lo, hi = los[i], his[i]
        if lo == hi:
            del los[i], his[i], ats[i]
            self.gap_ranges -= 1
        elif s == lo:
            los[i] = s + 1
        elif s == hi:
            his[i] = s - 1
        else:  # split: [lo, s-1] and [s+1, hi]
            his[i] = s - 1
            los.insert(i + 1, s + 1)
            his.insert(i + 1, hi)
            ats.insert(i + 1, ats[i])
            self.gap_ranges += 1

    def _duplicates(self, run: MboRun, behind: np.ndarray) -> np.ndarray:
        r = run.records
        n = len(r)
        # compare 8-byte words of each record with the record before it in the file, leaving
        # out ts_recv (word 5) and ts_in_delta (low half of word 6): a resent event
        words = np.ascontiguousarray(r).view(np.uint64).reshape(n, r.dtype.itemsize // 8)
        same = np.zeros(n, dtype=bool)
        if n > 1:
            # ts_event and order_id first: they rule out nearly every pair cheaply
            cand = np.flatnonzero((words[1:, 1] == words[:-1, 1]) & (words[1:, 2] == words[:-1, 2]))
            a, b = words[cand + 1], words[cand]
            eq = (a[:, :5] == b[:, :5]).all(axis=1)
            eq &= (a[:, 6] >> np.uint64(32)) == (b[:, 6] >> np.uint64(32))
            same[cand[eq] + 1] = True
        if n and self.last_words is not None:
            same[0] = bool((words[0, :5] == self.last_words[:5]).all()
                           and words[0, 6] >> np.uint64(32) == self.last_words[6] >> np.uint64(32))
        if n:
            self.last_words = words[-1].copy()
        self._note("duplicates_adjacent", same, run)
        exact = self._exact_duplicates(run, behind[~same[behind]])
        return same | exact

    def _exact_duplicates(self, run: MboRun, cand: np.ndarray) -> np.ndarray:
        """Byte-identical copies of an earlier record in this or the previous chunk. A copy
        repeats its original's sequence number, so only records behind their channel's
        high-water mark (positions ``cand``) can be copies and only those are compared."""
        r = run.records
        out = np.zeros(len(r), dtype=bool)
        if not len(cand):
            return out
        if len(cand) > MAX_PER_CHUNK:
            self._limit(f"more than {MAX_PER_CHUNK} records behind their sequence in a "
                        "chunk: only the first were compared for exact duplicates",
                        ("duplicates_exact",))
            cand = cand[:MAX_PER_CHUNK]
        seq = r["sequence"]
        windows = [(r, run.first_index)]
        if self.prev_chunk is not None:
            windows.insert(0, (self.prev_chunk.records, self.prev_chunk.first_index))
        cand_seq = np.unique(seq[cand])
        seen: dict[bytes, int] = {}
        for recs, first in windows:
            near = np.flatnonzero(np.isin(recs["sequence"], cand_seq))
            for w in near.tolist():
                key = recs[w].tobytes()
                at = first + w
                if key in seen and at >= run.first_index and seen[key] < at:
                    out[at - run.first_index] = True
                else:
                    seen.setdefault(key, at)
        keep = np.zeros(len(r), dtype=bool)
        keep[cand] = True
        out &= keep
        self._note("duplicates_exact", out, run)
        return out

    def _prices(self, run: MboRun, inst_codes: np.ndarray, dups: np.ndarray) -> np.ndarray:
        r = run.records
        action = r["action"].view(np.uint8)
        priced = ((action == ord("A")) | (action == ord("M")) | (action == ord("T"))
                  | (action == ord("F"))) & ~dups
        px = r["price"]
        undef = priced & (px == UNDEF_PRICE)
        # spreads and some options trade at zero or below: the plan can allow that
        nonpos = (np.zeros(len(r), dtype=bool) if self.opt.allow_negative_prices
                  else priced & (px < 1))
        self._note("zero_sizes", priced & (r["size"] == 0), run)
        self._note("undefined_prices", undef, run)
        self._note("non_positive_prices", nonpos, run)
        trades = np.flatnonzero((action == ord("T")) & ~dups & ~undef & ~nonpos)
        if len(trades):
            by = GroupedOrder(inst_codes[trades])
            tpx = px[trades]
            prev, ok = by.previous(tpx, self.trade_px, self.trade_ok)
            ratio = np.where(ok, tpx / np.where(prev == 0, 1, prev) - 1.0, 0.0)
            move = np.sign(ratio).astype(np.int8) * (np.abs(ratio) > self.opt.jump_ratio)
            move_prev, _ = by.previous(move, self.trade_move, np.ones(len(self.trade_move), bool))
            counted = (move != 0) & ~((move_prev != 0) & (move_prev == -move))
            mask = np.zeros(len(r), dtype=bool)
            mask[trades[counted]] = True
            prev_full = np.zeros(len(r), dtype=np.int64)
            prev_full[trades] = prev
            self._note("price_jumps", mask, run,
                       lambda w: {"price": float(px[w]) / 1e9, "previous_trade": float(prev_full[w]) / 1e9})
        return undef | nonpos

    def control(self, rec: ControlRecord) -> None:
        self.counts["records"] += 1
        if rec.rtype == RTYPE_SYSTEM:
            kind = {"HEARTBEAT": "heartbeats", "SLOW_READER_WARNING": "slow_reader_warnings"}.get(rec.code)
            if kind is None and "heartbeat" in rec.text.lower():
                kind = "heartbeats"
        elif rec.rtype == RTYPE_ERROR:
            kind = ("skipped_records_errors" if rec.code == "SKIPPED_RECORDS_AFTER_SLOW_READING"
                    else "gateway_errors")
        else:
            kind = "other_records"
        if kind is None:
            return
        self.counts[kind] += 1
        if kind in ("skipped_records_errors", "gateway_errors", "slow_reader_warnings"):
            lst = self.violations.setdefault(kind, [])
            if len(lst) < self.opt.max_violations:
                lst.append({"index": rec.index, "ts_event": rec.ts_event, "code": rec.code,
                            "message": rec.text[:200]})

    # -- result ----------------------------------------------------------------------------
    def result(self) -> dict:
        self.counts["sequence_gaps"] = self.gap_ranges + self.unmatched_gaps[0]
        self.counts["missing_sequences"] = self.unmatched_gaps[1] + sum(
            sum(his) - sum(los) + len(los) for los, his, _ in self.open_gaps.values())
        first = heapq.nsmallest(self.opt.max_violations, (
            (at, c, lo, hi) for c, (los, his, ats) in self.open_gaps.items()
            for lo, hi, at in zip(los, his, ats)))
        self.violations["sequence_gaps"] = [
            {"index": at, "channel": self._chan_name(c), "missing": [lo, hi]} for at, c, lo, hi in first]
        metrics = dict(self.counts)
        lat_max = max(self.latency_max, 0) / 1e6
        metrics.update(latency_p50_ms=percentile_ms(self.hist, 0.50, lat_max),
                       latency_p99_ms=percentile_ms(self.hist, 0.99, lat_max), latency_max_ms=lat_max)
        if self.book is not None:
            metrics.update(self.book.counts)
            book_by_inst = {k: dict(v) for k, v in self.book.by_instrument.items()}
            episodes = self._auction_episodes(metrics, book_by_inst)
            self.violations["crossed_or_locked"] = [e for e in episodes if not e.get("auction")]
            self.violations["auction_crossed_or_locked"] = [e for e in episodes if e.get("auction")]
        by_inst = {}
        for code, inst in enumerate(self.inst.keys):
            row = {k: int(v[code]) for k, v in self.inst_counts.items() if code < len(v)}
            row["latency_max_ms"] = row.pop("latency_max_ns", 0) / 1e6
            if self.book is not None:
                row.update(book_by_inst.get(inst, {}))
            by_inst[str(inst)] = row
        self.silences.sort(key=lambda g: g[0] - g[1])
        return {"file": str(self.path), "metrics": metrics, "by_instrument": by_inst,
                "first_ts_recv": self.first_recv, "last_ts_recv": self.prev_recv,
                "channels": {self._chan_name(c): [self.chan_first_seq[c], int(self.seq_max[c])]
                             for c in range(len(self.chan))},
                "silences": self.silences[: self.opt.max_silences],
                "latency_hist": _sparse(self.hist), "limits_hit": sorted(self.limits_hit),
                "violations": {k: v for k, v in self.violations.items() if v},
                "latency_max_index": self.latency_max_index, "not_judged": dict(self.not_judged)}

    def _chan_name(self, code: int) -> str:
        key = self.chan.keys[code]
        return f"publisher {key >> 8} channel {key & 0xFF}"


def percentile_ms(hist: np.ndarray, q: float, max_ms: float) -> float:
    """The ``q`` quantile of a 1 us latency histogram, in ms (bin middle); in the overflow
    bin the exact maximum is the honest bound."""
    total = int(hist.sum())
    if not total:
        return 0.0
    b = int(np.searchsorted(np.cumsum(hist), max(int(np.ceil(q * total)), 1)))
    if b >= LATENCY_BINS:
        return max_ms
    return (b + 0.5) / 1e3


def _sparse(hist: np.ndarray) -> dict:
    nz = np.flatnonzero(hist)
    return {"bins": nz.tolist(), "counts": hist[nz].tolist()}


# a symbol-filtered file whose channels skip numbers at more than this share of their steps
# visibly lacks other instruments' messages: its gaps say nothing about loss
FILTERED_JUMP_SHARE = 0.01


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


def check_file(path: str | Path, options: QualityOptions | None = None) -> dict:
    """Quality of one DBN file; raises :class:`~.dbn_reader.DBNFileError` on bad bytes. A file
    of another schema is returned with ``not_used`` (why) and zero records."""
    options = options or QualityOptions()
    reader = DbnMboReader(path, options.chunk_records)
    quality = FileQuality(Path(path), options)
    not_used = ""
    try:
        for item in reader:
            if isinstance(item, MboRun):
                quality.update(item)
            else:
                quality.control(item)
    except OtherSchemaError as exc:
        not_used = exc.problem
    out = quality.result()
    meta = reader.metadata
    out["dataset"] = meta.dataset if meta is not None else ""
    out["schema"] = str(getattr(meta.schema, "value", meta.schema)) if meta is not None else ""
    if not_used:
        out["not_used"] = not_used
    else:
        judge_sequences(out, meta)
    symbols = symbols_by_instrument(meta)
    for inst, row in out["by_instrument"].items():
        if inst in symbols:
            row["symbol"] = symbols[inst]
    out["bytes_read"] = reader.bytes_read
    return out
