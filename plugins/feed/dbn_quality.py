"""MBO data quality of one DBN file, computed chunk by chunk with numpy.

What is measured (every count also lists its first ``max_violations`` places, by record
index in the file, instrument, channel and ``ts_recv``):

* ``ts_recv_regressions`` — a record received before the record in front of it (DBN files are
  ordered by ``ts_recv``); ``ts_event_regressions`` — per instrument; ``ts_event_after_recv``.
* latency ``ts_recv − ts_event``: p50/p99/max in ms, from a 1 µs histogram (exact to 1 µs up
  to 1 s; above that the percentile is reported as the observed maximum).
* sequence numbers per (publisher, channel): ``sequence_gaps``/``missing_sequences`` are numbers
  never received (a late record fills the gap it left), ``late_records`` arrived after a higher
  number of their channel. Missing numbers are kept as ranges (:mod:`.sequence_gaps`), so both
  counts are exact; past ``MAX_GAP_RANGES`` ranges new gaps are still counted but no longer
  matched against late records, and ``not_judged`` says so.
* session segments (:mod:`.sessions`, from the dataset's venue calendar, the record flags and
  Databento status records): ``continuous_records``, ``pre_open_records`` (pre-open and
  auction), ``halted_records`` (closed, halted) and ``snapshot_records``, with the runs listed
  (``segments``). Latency, ``ts_recv``/``ts_event`` regressions and ``ts_event_after_recv`` judge
  continuous trading only (silences are ranked by their time inside trading hours); sequence
  numbers and duplicates apply to every non-snapshot record; a crossed/locked book that begins
  outside continuous trading is ``pre_open_crossed/locked_episodes``, never a defect.
* ``instruments`` (option): only those symbols/ids are checked; the others are skipped before
  any check (``records_not_selected``), which makes the sequence figures not judged.
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

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .auctions import Auctions
from .book import BookChecker
from .dbn_reader import (ControlRecord, DbnMboReader, MboRun, OtherSchemaError, RTYPE_ERROR,
                         RTYPE_STATUS, RTYPE_SYSTEM, symbols_by_instrument)
from .grouped import GroupCodes, GroupedOrder, grow
from .sequence_gaps import SEQUENCE_METRICS, GapRanges, judge_sequences, subscription_filtered  # noqa: F401
from .sessions import (DAY_NS, SEG_CONTINUOUS, SEG_SNAPSHOT, SEGMENT_NAMES, SegmentRuns, SessionPlan,
                       rule_from_override)

UNDEF_PRICE = np.iinfo(np.int64).max
F_BAD_TS_RECV, F_MAYBE_BAD_BOOK, F_SNAPSHOT = 8, 4, 32
LATENCY_BINS = 1 << 20  # 1 us bins: 0 .. ~1.05 s
# bounds on the per-record Python work that only anomalies trigger, so a pathological file
# (a sequence reset, a replayed hour) stays fast; hitting one is reported in the result
MAX_PER_CHUNK = 10_000
MAX_GAP_RANGES = 1_000_000  # open gap ranges per file (3 Python ints each, ~100 MB at most)


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
    instruments: list | None = None  # symbols (str) or instrument ids (int): check only these
    sessions: dict | None = None  # the plan's trading hours instead of the venue's (.sessions)

    def __post_init__(self):
        if self.instruments is not None and (isinstance(self.instruments, (str, int)) or not all(
                isinstance(x, (str, int)) for x in self.instruments)):
            raise ValueError("instruments: a list of symbols (text) or instrument ids (integers)")
        if self.sessions is not None:
            rule_from_override(self.sessions)  # raises SessionError naming the bad field


class FileQuality:
    """Accumulates the quality of one file over its chunks; ``result()`` gives a JSON-able
    dict with ``metrics``, ``by_instrument`` and ``violations``."""

    def __init__(self, path: Path, options: QualityOptions, meta=None):
        self.path, self.opt, self.meta = path, options, meta
        self.counts = dict.fromkeys((
            "records", "mbo_records", "ts_recv_regressions", "ts_event_regressions",
            "ts_event_after_recv", "sequence_gaps", "missing_sequences", "late_records",
            "duplicates_adjacent", "duplicates_exact", "undefined_prices",
            "non_positive_prices", "zero_sizes", "price_jumps", "bad_ts_recv_flags", "maybe_bad_book_flags",
            "heartbeats", "slow_reader_warnings", "skipped_records_errors", "gateway_errors",
            "other_records", "snapshot_records", "side_none_fills", "sequence_steps",
            "sequence_jumps", "continuous_records", "pre_open_records", "halted_records",
            "status_records", "records_not_selected"), 0)
        self.violations: dict[str, list[dict]] = {}
        self.hist = np.zeros(LATENCY_BINS + 1, dtype=np.int64)
        self.latency_max, self.latency_max_index = -1, -1
        self.chan, self.inst = GroupCodes(), GroupCodes()
        self.seq_max, self.seq_ok = np.zeros(4, np.uint64), np.zeros(4, bool)
        self.ev_last, self.ev_ok = np.zeros(4, np.int64), np.zeros(4, bool)
        self.trade_px, self.trade_ok = np.zeros(4, np.int64), np.zeros(4, bool)
        self.trade_move = np.zeros(4, np.int8)  # sign of the last counted/return jump
        self.last_words: np.ndarray | None = None  # the previous chunk's last record
        self.prev_recv: int | None = None
        self.gaps = GapRanges(MAX_GAP_RANGES)
        self.not_judged: dict[str, str] = {}  # metric -> why its count is not exact
        self.prev_chunk: MboRun | None = None
        self.inst_counts: dict[str, np.ndarray] = {}
        self.book = BookChecker() if options.book else None
        self.auctions = Auctions(self.book) if self.book is not None else None
        # (ns inside trading hours, last ts_recv before, first after): the longest are kept
        self.silences: list[tuple[int, int, int]] = []
        self.plan: SessionPlan | None = None
        self.segment_runs = SegmentRuns()
        self.selected: np.ndarray | None = None  # instrument ids the options select
        self.wanted: dict = {}  # each name in options.instruments -> its instrument ids
        self.span: list[int] | None = None  # first, last ts_recv of the checked MBO records
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
            item = {"index": int(run.at(w)), "instrument_id": int(r["instrument_id"][w]),
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

    def _start(self, first_recv: int) -> None:
        """At the first record: the session plan (metadata range, else from the data) and the
        instrument selection."""
        meta = self.meta
        start = int(meta.start) if meta is not None and meta.start else first_recv
        end = int(meta.end) if meta is not None and meta.end else start + DAY_NS
        self.plan = SessionPlan.for_dataset(getattr(meta, "dataset", "") or "", start, end, self.opt.sessions)
        if self.opt.instruments is not None:
            by_symbol: dict[str, list[int]] = {}
            for iid, raw in symbols_by_instrument(meta).items():
                by_symbol.setdefault(raw, []).append(int(iid))
            for name in self.opt.instruments:
                as_id = isinstance(name, int) or (name.isdigit() and name not in by_symbol)
                self.wanted[name] = [int(name)] if as_id else by_symbol.get(name, [])
            self.selected = np.array(sorted({i for ids in self.wanted.values() for i in ids}), np.uint32)

    def update(self, run: MboRun) -> None:
        if self.plan is None:
            self._start(int(run.records["ts_recv"][0]))
        self.counts["records"] += len(run.records)
        if self.selected is not None:
            keep = np.isin(run.records["instrument_id"], self.selected)
            if not keep.all():
                self.counts["records_not_selected"] += int(len(keep) - np.count_nonzero(keep))
                run = run.select(keep)
        r = run.records
        n = len(r)
        if not n:
            return
        self.counts["mbo_records"] += n
        # contiguous copies of the time columns: each later pass over them is then ~10x faster
        # than over the 56-byte records
        recv = np.ascontiguousarray(r["ts_recv"]).view(np.int64)
        event = np.ascontiguousarray(r["ts_event"]).view(np.int64)
        seg = self.plan.classify(recv, event, r["flags"], r["instrument_id"])
        inst_codes = self.inst.encode(r["instrument_id"])
        self._grow()
        n_snap = self._segments(run, seg, inst_codes, recv)
        if not n_snap:
            skip = self._live(run, seg, inst_codes, recv, event)
        elif n_snap == n:
            skip = self._snapshot(run, inst_codes)
        else:  # snapshots come in blocks: check each contiguous block by its kind
            snap = seg == SEG_SNAPSHOT
            skip = np.zeros(n, dtype=bool)
            cuts = [0, *(np.flatnonzero(snap[1:] != snap[:-1]) + 1).tolist(), n]
            for a, b in zip(cuts, cuts[1:]):
                part = run.part(a, b)
                skip[a:b] = (self._snapshot(part, inst_codes[a:b]) if snap[a] else
                             self._live(part, seg[a:b], inst_codes[a:b], recv[a:b], event[a:b]))
        unsided = r["side"].view(np.uint8) == ord("N")
        if unsided.any():  # rare outside auctions (but every ICE trade): filter by action then
            action = r["action"].view(np.uint8)
            unsided &= (action == ord("F")) | (action == ord("T"))
        self.counts["side_none_fills"] += int(np.count_nonzero(unsided))
        if self.book is not None:
            self.auctions.mark(run, unsided)  # a fill without side is not an unknown order's fill
            self.book.update(r, run.first_index, skip=skip | unsided, segments=seg, index=run.index)

    def _segments(self, run: MboRun, seg: np.ndarray, inst_codes: np.ndarray, recv: np.ndarray) -> int:
        """Count the records of each session segment (per instrument too), list their runs;
        returns the number of snapshot records."""
        n, first = len(seg), int(seg[0])
        per_seg = ({first: n} if (seg == first).all()  # nearly always: one pass, not four
                   else {c: int(np.count_nonzero(seg == c)) for c in range(len(SEGMENT_NAMES))})
        for code, here in per_seg.items():
            self.counts[f"{SEGMENT_NAMES[code]}_records"] += here
            if here and code != SEG_CONTINUOUS:
                self._per_instrument(f"{SEGMENT_NAMES[code]}_records",
                                     inst_codes if here == n else inst_codes[seg == code])
        self.segment_runs.add(seg, run.at, recv)
        lo, hi = int(recv.min()), int(recv.max())
        self.span = [lo, hi] if self.span is None else [min(self.span[0], lo), max(self.span[1], hi)]
        return per_seg.get(SEG_SNAPSHOT, 0)

    def _snapshot(self, run: MboRun, inst_codes: np.ndarray) -> np.ndarray:
        """Book snapshot records: counted, prices and sizes checked; nothing about time or
        sequence (their ``ts_event`` is the order's original time)."""
        r = run.records
        self._inst_codes = inst_codes
        self._per_instrument("records", inst_codes)
        none = np.zeros(len(r), dtype=bool)
        bad_px = self._prices(run, inst_codes, none)
        self._note("maybe_bad_book_flags", (r["flags"] & F_MAYBE_BAD_BOOK) != 0, run)
        return bad_px

    def _live(self, run: MboRun, seg: np.ndarray, inst_codes: np.ndarray, recv: np.ndarray,
              event: np.ndarray) -> np.ndarray:
        r = run.records
        self._inst_codes = inst_codes
        self._per_instrument("records", inst_codes)
        seq_keys = (r["publisher_id"].astype(np.uint32) << 8) | r["channel_id"]
        chan_codes = self.chan.encode(seq_keys)
        k = len(self.chan)
        self.seq_max, self.seq_ok = grow(self.seq_max, k), grow(self.seq_ok, k, False)
        by_chan = GroupedOrder(chan_codes)
        if len(self.chan_first_seq) < len(self.chan):  # first sequence of each new channel
            for code in range(len(self.chan_first_seq), len(self.chan)):
                self.chan_first_seq.append(int(r["sequence"][int(np.argmax(chan_codes == code))]))
        seq_s, max_s, ok_s = by_chan.previous_max_sorted(r["sequence"], self.seq_max, self.seq_ok)
        behind = by_chan.positions(ok_s & (seq_s < max_s))
        dups = self._duplicates(run, behind)
        # time and order are judged in continuous trading only: ``cont`` picks those records
        cont = seg == SEG_CONTINUOUS
        sub = None if cont.all() else np.flatnonzero(cont)
        by_inst = GroupedOrder(inst_codes if sub is None else inst_codes[sub])
        self._latency(run, by_inst, sub, recv - event)
        self._order(run, by_inst, sub, dups, recv, event)
        self._sequences(run, by_chan, seq_s, max_s, ok_s, behind[~dups[behind]])
        bad_px = self._prices(run, inst_codes, dups)
        self._note("bad_ts_recv_flags", (r["flags"] & F_BAD_TS_RECV) != 0, run)
        self._note("maybe_bad_book_flags", (r["flags"] & F_MAYBE_BAD_BOOK) != 0, run)
        self.prev_chunk = run
        return dups | bad_px

    def _latency(self, run: MboRun, by_inst: GroupedOrder, sub: np.ndarray | None, lat: np.ndarray) -> None:
        """``ts_recv - ts_event`` (``lat``; timestamps are < 2**63 ns, int64 is exact)."""
        if sub is not None:
            lat = lat[sub]
        late = np.flatnonzero(lat < 0)
        self._note_at("ts_event_after_recv", late if sub is None else sub[late], run)
        lat_us = np.clip(lat, 0, None) // 1000
        np.minimum(lat_us, LATENCY_BINS, out=lat_us)
        counts = np.bincount(lat_us)  # as long as the largest latency, not the whole range
        self.hist[: len(counts)] += counts
        if len(lat):
            at = int(np.argmax(lat))
            if lat[at] > self.latency_max:
                self.latency_max = int(lat[at])
                self.latency_max_index = int(run.at(at if sub is None else int(sub[at])))
            cur = grow(self.inst_counts.get("latency_max_ns", np.zeros(0, np.int64)), len(self.inst))
            group_max = np.maximum.reduceat(lat[by_inst.order], by_inst.starts)
            codes = by_inst.sorted_codes[by_inst.starts]
            cur[codes] = np.maximum(cur[codes], group_max)
            self.inst_counts["latency_max_ns"] = cur

    def _order(self, run: MboRun, by_inst: GroupedOrder, sub: np.ndarray | None, dups: np.ndarray,
               recv: np.ndarray, event: np.ndarray) -> None:
        """``ts_recv`` against the record before it in the file, ``ts_event`` against the
        instrument's previous continuous-trading record; judged on continuous records."""
        prev = np.empty_like(recv)
        if len(recv):
            prev[1:] = recv[:-1]
            prev[0] = recv[0] if self.prev_recv is None else self.prev_recv
            self.prev_recv = int(recv[-1])
            if self.first_recv is None:
                self.first_recv = int(recv[0])
        back_recv = (recv < prev) & ~dups
        if sub is not None:
            back_recv[np.flatnonzero(back_recv)] &= np.isin(np.flatnonzero(back_recv), sub)
        self._note("ts_recv_regressions", back_recv, run)
        self._silences(recv, prev)
        ev = event if sub is None else event[sub]
        ev_s, prev_s, ok_s = by_inst.previous_sorted(ev, self.ev_last, self.ev_ok)
        back = by_inst.positions(ok_s & (ev_s < prev_s))
        if sub is not None:
            back = sub[back]
        self._note_at("ts_event_regressions", back[~dups[back]], run)

    def _silences(self, recv: np.ndarray, prev: np.ndarray) -> None:
        """Keep the longest intervals without records (``silence_floor_s`` and up), ranked by
        their time inside trading hours, for the market-hours streaming check; at most
        ``max_silences`` of them."""
        floor = int(self.opt.silence_floor_s * 1e9)
        gap = recv - prev
        for w in np.flatnonzero(gap >= floor).tolist():
            a, b = int(prev[w]), int(recv[w])
            inside = max((y - x for x, y in self.plan.trading_intervals(a, b, clip=True)), default=0)
            self.silences.append((inside, a, b))
        if len(self.silences) > 2 * self.opt.max_silences:
            self.silences.sort(key=lambda g: (-g[0], g[1] - g[2]))
            del self.silences[self.opt.max_silences:]

    def _sequences(self, run: MboRun, by_chan: GroupedOrder, seq_s: np.ndarray,
                   max_s: np.ndarray, ok_s: np.ndarray, late: np.ndarray) -> None:
        r = run.records
        self.counts["sequence_steps"] += int(np.count_nonzero(ok_s & (seq_s > max_s)))
        jumps = np.flatnonzero(ok_s & (seq_s > max_s + 1))
        self.counts["sequence_jumps"] += len(jumps)
        for j in jumps.tolist():  # new gaps are above every open one: appending keeps order
            code, w = int(by_chan.sorted_codes[j]), int(by_chan.order[j])
            if not self.gaps.add(code, int(max_s[j]) + 1, int(seq_s[j]) - 1, int(run.at(w))):
                self._limit(f"more than {MAX_GAP_RANGES} open sequence gap ranges: later gaps "
                            "were counted but not matched against late records")
        codes = by_chan.codes
        if len(late) > MAX_PER_CHUNK:  # a sequence reset, not late records: stay linear-time
            self._limit(f"more than {MAX_PER_CHUNK} late records in a chunk: "
                        "gaps were not matched against them (sequence reset?)")
            late_to_fill = late[:0]
        else:
            late_to_fill = late
        for w in late_to_fill.tolist():
            self.gaps.fill(int(codes[w]), int(r["sequence"][w]))
        self._note_at("late_records", late, run)

    def _limit(self, why: str, metrics=SEQUENCE_METRICS) -> None:
        self.limits_hit.add(why)
        for m in metrics:
            self.not_judged.setdefault(m, why)

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
        windows = [(r, True)]
        if self.prev_chunk is not None:
            windows.insert(0, (self.prev_chunk.records, False))
        cand_seq = np.unique(r["sequence"][cand])
        seen: set[bytes] = set()
        for recs, current in windows:  # in file order: a copy comes after its original
            for w in np.flatnonzero(np.isin(recs["sequence"], cand_seq)).tolist():
                key = recs[w].tobytes()
                if current and key in seen:
                    out[w] = True
                seen.add(key)
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
        elif rec.rtype == RTYPE_STATUS:  # the instrument's trading state from now on
            if self.plan is None:
                self._start(rec.ts_recv)
            self.plan.add_status(rec.instrument_id, rec.ts_recv, rec.ts_event, rec.action, rec.is_trading)
            kind = "status_records"
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
        self.counts["sequence_gaps"], self.counts["missing_sequences"] = self.gaps.counts()
        self.violations["sequence_gaps"] = [
            {"index": at, "channel": self._chan_name(c), "missing": [lo, hi]}
            for at, c, lo, hi in self.gaps.first(self.opt.max_violations)]
        metrics = dict(self.counts)
        lat_max = max(self.latency_max, 0) / 1e6
        metrics.update(latency_p50_ms=percentile_ms(self.hist, 0.50, lat_max),
                       latency_p99_ms=percentile_ms(self.hist, 0.99, lat_max), latency_max_ms=lat_max)
        if self.book is not None:
            metrics.update(self.book.counts)
            book_by_inst = {k: dict(v) for k, v in self.book.by_instrument.items()}
            episodes = self.auctions.episodes(metrics, book_by_inst)
            if self.auctions.limit_hit:
                self.limits_hit.add(self.auctions.limit_hit)
            self.violations["crossed_or_locked"] = [e for e in episodes if e["defect"]]
            self.violations["auction_crossed_or_locked"] = [e for e in episodes if not e["defect"]]
        by_inst = {}
        for code, inst in enumerate(self.inst.keys):
            row = {k: int(v[code]) for k, v in self.inst_counts.items() if code < len(v)}
            row["latency_max_ms"] = row.pop("latency_max_ns", 0) / 1e6
            if self.book is not None:
                row.update(book_by_inst.get(inst, {}))
            by_inst[str(inst)] = row
        self.silences.sort(key=lambda g: (-g[0], g[1] - g[2]))
        out = {"file": str(self.path), "metrics": metrics, "by_instrument": by_inst,
               "first_ts_recv": self.first_recv, "last_ts_recv": self.prev_recv,
               "channels": {self._chan_name(c): [self.chan_first_seq[c], int(self.seq_max[c])]
                            for c in range(len(self.chan))},
               "silences": [[a, b] for _, a, b in self.silences[: self.opt.max_silences]],
               "latency_hist": _sparse(self.hist), "limits_hit": sorted(self.limits_hit),
               "violations": {k: v for k, v in self.violations.items() if v},
               "latency_max_index": self.latency_max_index, "not_judged": dict(self.not_judged)}
        out.update(self._session_result())
        return out

    def _session_result(self) -> dict:
        """The sessions the file was judged against, the trading intervals its range covers
        (metadata start..end widened to the records it holds), the segment runs, and the
        selected instruments that are nowhere in the file."""
        meta, span = self.meta, self.span
        starts = [x for x in (getattr(meta, "start", None), span and span[0]) if x]
        ends = [x for x in (getattr(meta, "end", None), span and span[1]) if x]
        lo, hi = (min(starts) if starts else None), (max(ends) if ends else None)
        if self.plan is None and lo is not None:
            self._start(lo)
        out = {"sessions": self.plan.describe() if self.plan is not None else {},
               "covered": [lo, hi] if lo is not None and hi is not None else None,
               "trading_intervals": (self.plan.trading_intervals(lo, hi, clip=True)
                                     if self.plan is not None and hi is not None else []),
               "segments": self.segment_runs.listing(), "segment_runs": self.segment_runs.count}
        if self.opt.instruments is not None:
            mapped = {int(i) for i in symbols_by_instrument(meta)}
            seen = set(self.inst.keys)
            out["instruments_not_found"] = [
                name for name, ids in self.wanted.items() if not ids or not (set(ids) & (mapped | seen))]
        return out

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


def check_file(path: str | Path, options: QualityOptions | None = None) -> dict:
    """Quality of one DBN file; raises :class:`~.dbn_reader.DBNFileError` on bad bytes. A file
    of another schema is returned with ``not_used`` (why) and zero records."""
    options = options or QualityOptions()
    reader = DbnMboReader(path, options.chunk_records)
    quality = FileQuality(Path(path), options)
    not_used = ""
    try:
        for item in reader:
            quality.meta = reader.metadata
            if isinstance(item, MboRun):
                quality.update(item)
            else:
                quality.control(item)
    except OtherSchemaError as exc:
        not_used = exc.problem
    quality.meta = meta = reader.metadata
    out = quality.result()
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
