"""Data quality of one DBN file of a non-MBO schema, computed chunk by chunk with numpy.

``check_other_file(path, options)`` returns the result shape of
:func:`.dbn_quality.check_file` (metrics, violations with their first ``max_violations``
places, by_instrument, first/last ts_recv, not_judged, limits_hit) plus ``checks_applied``.
What each schema gets (the rules themselves are in :mod:`.schema_rules`):

* every schema with ``ts_recv``: ``ts_recv_regressions`` (files are ordered by ``ts_recv``),
  ``ts_event_after_recv``; ``duplicates_exact`` (byte-identical to an earlier record with the
  same ``ts_recv``, or ``ts_event`` for bars). Book snapshot records (``F_SNAPSHOT``) are
  counted (``snapshot_records``) and left out of the time checks, as for MBO.
* event schemas (trades, tbbo, mbp-1/10, cmbp-1, bbo, cbbo, tcbbo, status, imbalance):
  ``ts_event_regressions`` per instrument. Not for definitions and statistics, whose
  ``ts_event`` is when the exchange set the value, re-sent later.
* trades and book updates: ``undefined_prices``/``non_positive_prices``/``zero_sizes`` on
  A/M/T/F records, ``unknown_actions``, ``price_jumps`` between an instrument's trades (a print
  that reverses the previous jump is its return, not a new jump).
* quotes: crossed/locked top of book by episode, auction crossings apart
  (:mod:`.schema_quotes`); mbp-10 ``levels_out_of_order``; ``levels_inconsistent`` (price
  without size or orders, size without price); quoted prices at or below zero.
* sequence numbers (trades, tbbo, mbp, bbo, statistics): counted per instrument for
  information and never judged: these schemas carry a subset of their channel's messages,
  so numbers skip by design; symbol-filtered files get :func:`.dbn_quality.judge_sequences`'
  reason first.
* ohlcv: ``ohlc_inconsistent``, prices, ``zero_sizes`` (volume 0), ``bars_misaligned`` to the
  bar interval (not ohlcv-eod, stamped at each venue's close), ``bars_out_of_order`` and
  ``bars_duplicated`` per instrument; bbo/cbbo ``ts_recv`` must also sit on their interval.
* definition: ``definition_incomplete``, ``definitions_conflicting`` (one instrument id, two
  raw symbols, same publisher and UTC day: Databento ids are unique per publisher and day).
* statistics ``statistics_invalid``; status ``status_unknown``/``status_inconsistent``;
  imbalance prices and ``imbalance_invalid``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from . import schema_rules as rules
from .dbn_quality import QualityOptions
from .dbn_reader import RTYPE_ERROR, RTYPE_SYSTEM, ControlRecord, symbols_by_instrument
from .grouped import GroupCodes, GroupedOrder, grow
from .schema_quotes import Closed, QuoteEpisodes
from .schema_catalog import (DEFECT_METRICS, NO_EVENT_ORDER, NS_PER_DAY, OTHER_METRICS,  # noqa: F401
                             QUOTE_LEVELS, TRADE_LIKE, checks_applied, judgements, produced_metrics)
from .schema_reader import SCHEMA_CLASSES, RecordRun, SchemaReader

SUPPORTED_SCHEMAS = tuple(SCHEMA_CLASSES)
F_BAD_TS_RECV, F_MAYBE_BAD_BOOK, F_SNAPSHOT = 8, 4, 32
class OtherQuality:
    """Accumulates the quality of one non-MBO file over its chunks."""

    def __init__(self, path: Path, schema: str, names: tuple[str, ...], opt: QualityOptions):
        self.path, self.schema, self.opt = path, schema, opt
        self.names = set(names)
        self.counts = dict.fromkeys(OTHER_METRICS, 0)
        self.violations: dict[str, list[dict]] = {}
        self.inst = GroupCodes()
        self.inst_counts: dict[str, np.ndarray] = {}
        self.carry = {k: (np.zeros(4, np.uint64), np.zeros(4, bool)) for k in ("event", "seq")}
        self.trade_px, self.trade_ok = np.zeros(4, np.int64), np.zeros(4, bool)
        self.trade_move = np.zeros(4, np.int8)
        self.prev_recv: int | None = None
        self.first_time: int | None = None
        self.dup_tail: np.ndarray | None = None
        self.time_field = "ts_recv" if "ts_recv" in self.names else "ts_event"
        self.quotes = QuoteEpisodes() if schema in QUOTE_LEVELS else None
        self.def_symbols: dict[tuple[int, int, int], bytes] = {}
        self.not_judged: dict[str, str] = {}
        self.limits_hit: set[str] = set()

    # -- counting ----------------------------------------------------------------------------
    def _note(self, kind: str, mask: np.ndarray, run: RecordRun,
              detail: Callable[[int], dict] | None = None) -> None:
        """Count the records of ``run`` where ``mask`` is set; ``detail(position)`` adds to
        each listed place."""
        self._note_at(kind, np.flatnonzero(mask), run, detail)

    def _note_at(self, kind: str, where: np.ndarray, run: RecordRun, detail=None) -> None:
        if len(where):
            r = run.records
            self._record(kind, where + run.first_index, self._codes[where],
                         r[self.time_field][where], detail, where)

    def _record(self, kind: str, index: np.ndarray, codes: np.ndarray, times: np.ndarray,
                detail=None, local=None) -> None:
        """Count records at file positions ``index`` (ascending) and keep the
        ``max_violations`` first places of each kind (by file position: an episode can end
        after later records were listed) with instrument, time and ``detail``."""
        self.counts[kind] += len(index)
        listed = self.violations.setdefault(kind, [])
        cap = self.opt.max_violations
        if len(listed) < cap or int(index[0]) < listed[-1]["index"]:
            new = []
            for k in range(min(len(index), cap)):
                place = {"index": int(index[k]), "instrument_id": self.inst.keys[int(codes[k])],
                         self.time_field: int(times[k])}
                if detail is not None:
                    place.update(detail(int(local[k])))
                new.append(place)
            if listed and new and new[0]["index"] < listed[-1]["index"]:
                new = sorted(listed + new, key=lambda p: p["index"])
                listed.clear()
            listed.extend(new[: cap - len(listed)])
        self._tally(kind, codes)

    def _tally(self, kind: str, codes: np.ndarray) -> None:
        old = self.inst_counts.get(kind)
        tally = np.bincount(codes, minlength=len(self.inst)).astype(np.int64)
        if old is not None:
            tally[: len(old)] += old
        self.inst_counts[kind] = tally

    def _grow(self) -> None:
        k = len(self.inst)
        for key, (vals, ok) in self.carry.items():
            self.carry[key] = (grow(vals, k), grow(ok, k, False))
        self.trade_px, self.trade_ok = grow(self.trade_px, k), grow(self.trade_ok, k, False)
        self.trade_move = grow(self.trade_move, k)

    # -- per chunk -----------------------------------------------------------------------------
    def update(self, run: RecordRun) -> None:
        r = run.records
        n = len(r)
        self.counts["records"] += n
        self._codes = self.inst.encode(r["instrument_id"])
        self._grow()
        self._tally("records", self._codes)
        by_inst = GroupedOrder(self._codes)
        snap = (r["flags"] & F_SNAPSHOT) != 0 if "flags" in self.names else np.zeros(n, bool)
        self.counts["snapshot_records"] += int(np.count_nonzero(snap))
        if self.first_time is None and n:
            self.first_time = int(r[self.time_field][0])
        self._order(run, by_inst, snap)
        self._exact_duplicates(run)
        if "flags" in self.names:
            self._note("bad_ts_recv_flags", ~snap & ((r["flags"] & F_BAD_TS_RECV) != 0), run)
            self._note("maybe_bad_book_flags", (r["flags"] & F_MAYBE_BAD_BOOK) != 0, run)
        if "sequence" in self.names:
            self._sequences(run, by_inst, snap)
        if self.schema in TRADE_LIKE or self.schema in QUOTE_LEVELS:
            self._trades(run, by_inst)
        if self.quotes is not None:
            self._quotes(run, by_inst)
        self._schema_rules(run, by_inst)

    def _order(self, run: RecordRun, by_inst: GroupedOrder, snap: np.ndarray) -> None:
        r = run.records
        any_snap = bool(snap.any())
        if self.time_field == "ts_recv":
            live = np.flatnonzero(~snap) if any_snap else np.arange(len(r))
            recv = r["ts_recv"][live] if any_snap else r["ts_recv"]
            prev = np.empty_like(recv)
            if len(recv):
                prev[0] = recv[0] if self.prev_recv is None else self.prev_recv
                prev[1:] = recv[:-1]
                self.prev_recv = int(recv[-1])
            self._note_at("ts_recv_regressions", live[recv < prev], run,
                          lambda w: {"previous_ts_recv": int(prev[np.searchsorted(live, w)])})
            after = r["ts_event"] > r["ts_recv"]
            self._note("ts_event_after_recv", after & ~snap if any_snap else after, run)
        elif len(r):
            self.prev_recv = int(r["ts_event"][-1])
        if self.schema in NO_EVENT_ORDER:
            return
        vals, ok = self.carry["event"]
        ev, prev_ev, has = by_inst.previous_sorted(r["ts_event"], vals, ok)
        if self.schema.startswith("ohlcv"):
            self._note_sorted("bars_out_of_order", has & (ev < prev_ev), by_inst, run)
            self._note_sorted("bars_duplicated", has & (ev == prev_ev), by_inst, run)
            return
        back = has & (ev < prev_ev)
        self._note_sorted("ts_event_regressions", back & ~snap[by_inst.order] if any_snap else back,
                          by_inst, run)

    def _note_sorted(self, kind, mask_sorted, by_inst: GroupedOrder, run: RecordRun) -> None:
        if mask_sorted.any():
            self._note_at(kind, by_inst.positions(mask_sorted), run)

    def _exact_duplicates(self, run: RecordRun) -> None:
        """Byte-identical records among those sharing a time stamp (the file is sorted by it,
        so copies of one event sit together); the previous chunk's last time carries over.
        Only records with a neighbour of the same time are hashed and sorted."""
        r = run.records
        if not len(r):
            return
        t = r[self.time_field]
        tail, last = self.dup_tail, t[-1]
        # the records of the last time stamp (found from the end: usually one)
        k = len(t) - 1
        while k and t[k - 1] == last:
            k -= 1
        self.dup_tail = r[k:].copy()
        same = t[1:] == t[:-1]
        edge = tail is not None and t[0] == tail[self.time_field][0]
        if not edge and not same.any():
            return
        near = np.zeros(len(r), dtype=bool)
        near[1:] |= same
        near[:-1] |= same
        near[0] |= edge
        pos = np.flatnonzero(near)
        rows = r[pos]
        if edge:  # earlier copies in the previous chunk come first, at negative positions
            rows, pos = np.concatenate([tail, rows]), np.concatenate([np.arange(-len(tail), 0), pos])
        times = rows[self.time_field]
        words = rows.view(np.uint64).reshape(len(rows), -1)
        mult = np.arange(1, 2 * words.shape[1], 2, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        h = (words * mult).sum(axis=1)
        order = np.lexsort((pos, h, times))
        a, b = order[:-1], order[1:]
        eq = (h[a] == h[b]) & (times[a] == times[b]) & (words[a] == words[b]).all(axis=1)
        dup = np.unique(pos[b[eq]])
        self._note_at("duplicates_exact", dup[dup >= 0], run)

    def _sequences(self, run: RecordRun, by_inst: GroupedOrder, snap: np.ndarray) -> None:
        vals, ok = self.carry["seq"]
        seq, high, has = by_inst.previous_max_sorted(run.records["sequence"], vals, ok)
        live = has & ~snap[by_inst.order]
        self.counts["sequence_steps"] += int(np.count_nonzero(live & (seq > high)))
        jump = live & (seq > high + 1)
        self.counts["sequence_jumps"] += int(np.count_nonzero(jump))
        self.counts["sequence_gaps"] += int(np.count_nonzero(jump))
        self.counts["missing_sequences"] += int((seq[jump] - high[jump] - 1).sum())
        self._note_sorted("late_records", live & (seq < high), by_inst, run)

    def _trades(self, run: RecordRun, by_inst: GroupedOrder) -> None:
        r = run.records
        if "action" in self.names:
            self._note("unknown_actions", rules.unknown_actions(r), run)
            action = rules.char(r, "action")
            priced = rules.PRICED_ACTIONS[action]
            trade = action == ord("T")
        elif self.schema == "tcbbo":  # every record is a trade
            self._note("unknown_actions", rules.unknown_actions(r), run)
            priced = trade = np.ones(len(r), dtype=bool)
        else:  # bbo/cbbo: price and side describe the interval's last trade, if any
            priced = np.zeros(len(r), dtype=bool)
            trade = r["price"] != rules.UNDEF_PRICE
        unsided = trade & (rules.char(r, "side") == ord("N"))
        self._unsided = unsided
        if not priced.any():
            return
        self.counts["side_none_fills"] += int(np.count_nonzero(unsided))
        undefined, non_positive = rules.price_masks(r["price"], priced, self.opt.allow_negative_prices)
        self._note("undefined_prices", undefined, run)
        self._note("non_positive_prices", non_positive, run)
        self._note("zero_sizes", priced & (r["size"] == 0), run)
        self._jumps(run, np.flatnonzero(trade & priced & ~undefined & ~non_positive), by_inst)

    def _jumps(self, run: RecordRun, trades: np.ndarray, by_inst: GroupedOrder) -> None:
        if not len(trades):
            return
        px = run.records["price"][trades]
        # a trades file: every record counts, the chunk's instrument order serves as is
        by = by_inst if len(trades) == len(run.records) else GroupedOrder(self._codes[trades])
        prev, has = by.previous(px, self.trade_px, self.trade_ok)
        move = rules.jumps(px, prev, has, self.opt.jump_ratio)
        before, _ = by.previous(move, self.trade_move, np.ones(len(self.trade_move), bool))
        counted = (move != 0) & ((before == 0) | (before == move))  # -before is the return
        hits = trades[counted]
        prev_at = dict(zip(hits.tolist(), prev[counted].tolist()))
        self._note_at("price_jumps", hits, run,
                      lambda w: {"price": float(run.records["price"][w]) / 1e9,
                                 "previous_trade": prev_at[w] / 1e9})

    def _quotes(self, run: RecordRun, by_inst: GroupedOrder) -> None:
        r = run.records
        levels = QUOTE_LEVELS[self.schema]
        if levels > 1:
            self._note("levels_out_of_order", rules.levels_out_of_order(r, levels), run)
        self._note("levels_inconsistent", rules.levels_inconsistent(r, levels), run)
        self._note("non_positive_prices", rules.quote_prices(r, levels, self.opt.allow_negative_prices), run)
        closed = self.quotes.update(rules.top_state(r), self._unsided, by_inst, run.first_index,
                                    r["ts_recv"])
        self._episodes(closed)

    def _episodes(self, closed: Closed | None) -> None:
        if closed is None:
            return
        for state, name in ((2, "quote_crossed"), (1, "quote_locked")):
            for auction, kind in ((True, f"auction_{name}"), (False, name)):
                m = (closed.state == state) & (closed.auction == auction)
                if auction:
                    self.counts[kind] += int(np.count_nonzero(m))
                    self._tally(kind, closed.codes[m])
                elif m.any():
                    self._record(kind, closed.index[m], closed.codes[m], closed.ts_recv[m])

    def _schema_rules(self, run: RecordRun, by_inst: GroupedOrder) -> None:
        r, s, allow = run.records, self.schema, self.opt.allow_negative_prices
        interval = rules.BAR_INTERVAL_NS.get(s)
        if interval is not None:
            self._note("bars_misaligned", rules.misaligned(r[self.time_field], interval), run)
        if s.startswith("ohlcv"):
            masks = rules.ohlc_rules(r, allow)
        elif s == "status":
            masks = rules.status_rules(r)
        elif s == "imbalance":
            masks = rules.imbalance_rules(r, allow)
        elif s == "statistics":
            bad, why = rules.statistics_invalid(r)
            masks = {}
            self._note("statistics_invalid", bad, run, lambda w: {"problem": why[w],
                       "stat_type": int(r["stat_type"][w])})
        elif s == "definition":
            masks = {}
            self._definitions(run)
        else:
            masks = {}
        for kind, mask in masks.items():
            self._note(kind, mask, run)

    def _definitions(self, run: RecordRun) -> None:
        r = run.records
        missing = rules.definition_missing(r)
        bad = np.zeros(len(r), dtype=bool)
        for _, m in missing:
            bad |= m
        self._note("definition_incomplete", bad, run,
                   lambda w: {"missing": [f for f, m in missing if m[w]],
                              "raw_symbol": r["raw_symbol"][w].decode(errors="replace")})
        live = np.flatnonzero(rules.char(r, "security_update_action") != ord("D"))
        day = (r["ts_recv"][live] // NS_PER_DAY).astype(np.int64)
        keys = np.rec.fromarrays([r["publisher_id"][live], r["instrument_id"][live], day,
                                  r["raw_symbol"][live]])
        uniq, inverse = np.unique(keys, return_inverse=True)
        conflict = np.zeros(len(uniq), dtype=bool)
        seen_before: dict[int, bytes] = {}
        for u, (pub, iid, d, sym) in enumerate(uniq.tolist()):
            known = self.def_symbols.setdefault((pub, iid, d), sym)
            conflict[u] = known != sym
            seen_before[u] = known
        hits = live[conflict[inverse]]
        was = {int(live[i]): seen_before[int(inverse[i])] for i in np.flatnonzero(conflict[inverse])}
        self._note_at("definitions_conflicting", hits, run,
                      lambda w: {"raw_symbol": r["raw_symbol"][w].decode(errors="replace"),
                                 "first_raw_symbol": was[w].decode(errors="replace")})

    def control(self, rec: ControlRecord) -> None:
        self.counts["records"] += 1
        if rec.rtype == RTYPE_SYSTEM:
            kind = "heartbeats" if "heartbeat" in (rec.code + rec.text).lower() else (
                "slow_reader_warnings" if rec.code == "SLOW_READER_WARNING" else "other_records")
        elif rec.rtype == RTYPE_ERROR:
            kind = ("skipped_records_errors" if rec.code == "SKIPPED_RECORDS_AFTER_SLOW_READING"
                    else "gateway_errors")
        else:
            kind = "other_records"
        self.counts[kind] += 1
        if kind in DEFECT_METRICS:
            lst = self.violations.setdefault(kind, [])
            if len(lst) < self.opt.max_violations:
                lst.append({"index": rec.index, "ts_event": rec.ts_event, "code": rec.code,
                            "message": rec.text[:200]})

    # -- result ------------------------------------------------------------------------------
    def result(self) -> dict:
        if self.quotes is not None:
            self._episodes(self.quotes.finish())
        produced = {k: v for k, v in self.counts.items() if k in produced_metrics(self.schema, self.names)}
        by_inst = {}
        for code, inst in enumerate(self.inst.keys):
            by_inst[str(inst)] = {k: int(v[code]) for k, v in self.inst_counts.items()
                                  if code < len(v) and v[code]}
        return {"file": str(self.path), "schema": self.schema, "metrics": produced,
                "violations": {k: v for k, v in self.violations.items() if v},
                "by_instrument": by_inst, "first_ts_recv": self.first_time,
                "last_ts_recv": self.prev_recv, "time_field": self.time_field,
                "not_judged": dict(self.not_judged), "limits_hit": sorted(self.limits_hit),
                "checks_applied": checks_applied(self.schema, self.names, self.time_field)}

def check_other_file(path: str | Path, options: QualityOptions | None = None) -> dict:
    """Quality of one DBN file of a schema in :data:`SUPPORTED_SCHEMAS`; raises
    :class:`~.dbn_reader.DBNFileError` on bad bytes (:class:`~.dbn_reader.OtherSchemaError`
    for MBO or mixed files, which :func:`.dbn_quality.check_file` reads)."""
    options = options or QualityOptions()
    reader = SchemaReader(path, options.chunk_records)
    quality: OtherQuality | None = None
    for item in reader:
        if quality is None:
            quality = OtherQuality(Path(path), reader.schema, reader.dtype.names, options)
        if isinstance(item, RecordRun):
            quality.update(item)
        else:
            quality.control(item)
    if quality is None:  # a header and no record
        quality = OtherQuality(Path(path), reader.schema, reader.dtype.names, options)
    out = quality.result()
    meta = reader.metadata
    out["dataset"] = meta.dataset or ""
    out["dbn_version"] = reader.version
    judgements(out, quality.schema, meta)
    rows = out["by_instrument"]
    for inst, symbol in symbols_by_instrument(meta).items():
        rows.get(inst, {})["symbol"] = symbol  # ids of the metadata not in the file: ignored
    out["bytes_read"] = reader.bytes_read
    return out
