"""Realistic MBO DBN files for tests, benchmarks and the demo workspace, with known defects.

``write_mbo_file`` simulates a consistent limit order book per instrument (adds, cancels,
modifies, trades with their fills), encodes it as real Databento DBN (``databento_dbn``
metadata + 56-byte MBO records, optionally zstd-compressed), and can inject defects whose
exact place it returns as :class:`Truth`. Records are grouped into exchange packets that
share a sequence number, ``ts_event`` and ``ts_recv`` (as on CME MDP3); the last record of a
packet carries ``F_LAST``. The metadata says what was requested: the full channels
(``ALL_SYMBOLS``, the default: sequence numbers are then continuous per channel) or a symbol
list (``write_records(..., symbols=[...], stype_in="raw_symbol" | "parent")``). Session
structure (snapshots, the CME pre-open and opening auction, halts, holidays) is in
:mod:`examples.dbn_sessions_fixtures`.

Usage::

    from examples.dbn_fixtures import write_mbo_file
    truth = write_mbo_file("data/glbx-mbo.dbn.zst", ["ESZ6", "NQZ6"], 50_000, seed=7,
                           defects=["gap", "duplicate", "crossed_book"])
    for d in truth.defects:
        print(d.kind, d.index, d.instrument_id)
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import databento_dbn
import numpy as np

try:  # the DBN header and file writing; re-exported here for the callers of this module
    from .dbn_writer import ALL_SYMBOLS, SESSION_START_NS, metadata_bytes, write_records
except ImportError:  # run as a script from examples/
    from dbn_writer import ALL_SYMBOLS, SESSION_START_NS, metadata_bytes, write_records

MBO_DTYPE = np.dtype(list(databento_dbn.MBOMsg._dtypes))
PRICE_SCALE = 1_000_000_000
UNDEF_PRICE = np.iinfo(np.int64).max
F_LAST, F_TOB, F_SNAPSHOT, F_MBP, F_BAD_TS_RECV, F_MAYBE_BAD_BOOK = 128, 64, 32, 16, 8, 4
DEFECT_KINDS = ("gap", "out_of_order", "duplicate_adjacent", "duplicate_replay", "bad_price",
                "price_jump", "crossed_book", "latency_spike")
PUBLISHER_GLBX = 1

_DEFAULT_PRICES = {"ES": 6000.0, "NQ": 21000.0, "CL": 70.0, "GC": 2600.0, "ZN": 110.0}
_TICKS = {"ES": 0.25, "NQ": 0.25, "CL": 0.01, "GC": 0.1, "ZN": 1 / 64}


@dataclass(frozen=True)
class Defect:
    """One injected defect: ``index`` is the 0-based record position in the written file where
    a checker must report it (the first affected record)."""

    kind: str
    index: int
    instrument_id: int
    channel_id: int
    detail: dict = field(default_factory=dict)


@dataclass
class Truth:
    """What was written: record count, instruments and the injected defects, in file order;
    ``expected`` holds exact figures of legitimate structure a checker must report
    (``snapshot_records``, ``side_none_fills``, ...), see :mod:`examples.dbn_sessions_fixtures`."""

    path: Path
    n_records: int
    instruments: dict[int, str]
    defects: list[Defect]
    expected: dict = field(default_factory=dict)

    def of_kind(self, kind: str) -> list[Defect]:
        return [d for d in self.defects if d.kind == kind]


@dataclass(frozen=True)
class Flow:
    """Institutional flow to plant: from ``start_ns`` to ``end_ns`` a share ``share`` of the
    packets are trades of ``symbol`` by an ``aggressor`` (``B`` buys the offer, ``A`` sells the
    bid), against resting orders of the simulated book (so sequences, fills and the book stay
    consistent)."""

    symbol: str
    start_ns: int
    end_ns: int
    aggressor: str
    share: float = 0.15


class _Simulator:
    """Order-book simulation producing MBO records as column lists (fast enough for ~500k
    records/s; larger files tile a simulated block, see ``write_mbo_file``)."""

    def __init__(self, symbols: Sequence[str], seed: int, start_ns: int,
                 packet_gap_ns: tuple[int, int] = (20_000, 400_000), flows: Sequence[Flow] = ()):
        self.packet_gap_ns = packet_gap_ns
        self.flows = sorted(flows, key=lambda f: f.start_ns)
        self.rng = random.Random(seed)
        self.instruments = {1000 + i: s for i, s in enumerate(symbols)}
        self.ids = list(self.instruments)
        self.tick = {i: _TICKS.get(s[:2], 0.25) for i, s in self.instruments.items()}
        self.mid = {i: _DEFAULT_PRICES.get(s[:2], 100.0) for i, s in self.instruments.items()}
        self.orders: dict[int, dict[int, tuple[str, int, int]]] = {i: {} for i in self.ids}
        self.channel = {i: k % 2 for k, i in enumerate(self.ids)}
        self.seq = {0: 1_000_000, 1: 2_000_000}
        self.next_order = 6_000_000_000
        self.now = start_ns
        self.cols: dict[str, list] = {n: [] for n in MBO_DTYPE.names}
        self.best: list[tuple[int, int]] = []  # (best bid, best ask) after each record
        self.packet: list[int] = []  # packet number of each record
        self.order_life: dict[int, list[int]] = {}  # order id -> record positions touching it
        self.n_packets = 0
        self.last_recv = 0

    def _px(self, inst: int, price: float) -> int:
        t = self.tick[inst]
        return int(round(round(price / t) * t * PRICE_SCALE))

    def _best(self, inst: int) -> tuple[int, int]:
        bids = [p for s, p, _ in self.orders[inst].values() if s == "B"]
        asks = [p for s, p, _ in self.orders[inst].values() if s == "A"]
        return (max(bids) if bids else 0, min(asks) if asks else 0)

    def _emit_packet(self, inst: int, recs: list[tuple[str, str, int, int, int]],
                     at_ns: int | None = None, last_flag: bool = True) -> None:
        """One exchange packet; ``at_ns`` fixes its ``ts_event`` (an auction at the open),
        ``last_flag=False`` leaves ``F_LAST`` off (the first packet of a CME uncross)."""
        ch = self.channel[inst]
        self.seq[ch] += 1
        if at_ns is None:
            self.now += self.rng.randint(*self.packet_gap_ns)
        else:
            self.now = max(at_ns, self.now)
        latency = int(self.rng.lognormvariate(11.0, 0.4))  # ~60 us median capture latency
        # the capture host stamps in arrival order, so ts_recv never goes backwards
        recv = max(self.now + latency, self.last_recv)
        self.last_recv = recv
        for k, (action, side, oid, price, size) in enumerate(recs):
            flags = F_LAST if k == len(recs) - 1 and last_flag else 0
            c = self.cols
            c["length"].append(14); c["rtype"].append(160)
            c["publisher_id"].append(PUBLISHER_GLBX); c["instrument_id"].append(inst)
            c["ts_event"].append(self.now); c["order_id"].append(oid)
            c["price"].append(price); c["size"].append(size); c["flags"].append(flags)
            c["channel_id"].append(ch); c["action"].append(action.encode())
            c["side"].append(side.encode()); c["ts_recv"].append(recv)
            c["ts_in_delta"].append(self.rng.randint(3_000, 9_000))
            c["sequence"].append(self.seq[ch])
            self._apply(inst, action, side, oid, price, size)
            # the best prices are only needed where an add may be turned into a crossing one
            self.best.append(self._best(inst) if action == "A" else (0, 0))
            self.packet.append(self.n_packets)
            if oid:
                self.order_life.setdefault(oid, []).append(len(c["length"]) - 1)
        self.n_packets += 1

    def _apply(self, inst, action, side, oid, price, size) -> None:
        book = self.orders[inst]
        if action == "A":
            book[oid] = (side, price, size)
        elif action == "C":
            book.pop(oid, None)
        elif action == "M":
            book[oid] = (side, price, size)
        elif action == "R":
            book.clear()

    def _add(self, inst: int, side: str | None = None) -> None:
        side = side or self.rng.choice("BA")
        bid, ask = self._best(inst)
        t = self.tick[inst]
        depth = self.rng.randint(1, 6) * t
        if side == "B":
            price = self._px(inst, self.mid[inst] - depth)
            if ask and price >= ask:
                price = ask - self._px(inst, t)
        else:
            price = self._px(inst, self.mid[inst] + depth)
            if bid and price <= bid:
                price = bid + self._px(inst, t)
        self.next_order += 1
        self._emit_packet(inst, [("A", side, self.next_order, price, self.rng.randint(1, 20))])

    def _flow_trade(self) -> bool:
        """A trade of a flow active now, drawn with the flow's share; no draw when none is active
        (files simulated without flows stay the same)."""
        for flow in self.flows:
            if flow.start_ns <= self.now < flow.end_ns and self.rng.random() < flow.share:
                inst = next(i for i, s in self.instruments.items() if s == flow.symbol)
                self._trade(inst, flow.aggressor)
                return True
        return False

    def step(self) -> None:
        if self.flows and self._flow_trade():
            return
        inst = self.rng.choice(self.ids)
        book = self.orders[inst]
        self.mid[inst] += self.rng.choice((-1, 0, 0, 1)) * self.tick[inst] * 0.5
        r = self.rng.random()
        add_share = 0.42 if len(book) < 40 else 0.30  # keeps ~40 orders resting
        if len(book) < 12 or r < add_share:
            self._add(inst)
        elif r < 0.78:
            oid = self.rng.choice(list(book))
            side, price, size = book[oid]
            self._emit_packet(inst, [("C", side, oid, price, size)])
        elif r < 0.88:
            oid = self.rng.choice(list(book))
            side, price, size = book[oid]
            self._emit_packet(inst, [("M", side, oid, price, max(1, size - 1))])
        else:
            self._trade(inst)

    def _trade(self, inst: int, aggressor: str | None = None) -> None:
        book = self.orders[inst]
        aggressor = aggressor or self.rng.choice("BA")
        resting_side = "A" if aggressor == "B" else "B"
        resting = [(o, v) for o, v in book.items() if v[0] == resting_side]
        if not resting:
            self._add(inst, resting_side)
            return
        best_price = (min if resting_side == "A" else max)(v[1] for _, v in resting)
        oid, (side, price, size) = next((o, v) for o, v in resting if v[1] == best_price)
        qty = self.rng.randint(1, size)
        recs = [("T", aggressor, 0, price, qty), ("F", side, oid, price, qty)]
        recs.append(("C", side, oid, price, size) if qty == size else ("M", side, oid, price, size - qty))
        self._emit_packet(inst, recs)

    def run(self, n_records: int) -> np.ndarray:
        for inst in self.ids:
            for _ in range(6):
                self._add(inst, "B")
                self._add(inst, "A")
        while len(self.cols["length"]) < n_records:
            self.step()
        arr = np.empty(len(self.cols["length"]), dtype=MBO_DTYPE)
        for name in MBO_DTYPE.names:
            arr[name] = self.cols[name]
        return arr


def _packet_bounds(packet: np.ndarray, pos: int) -> tuple[int, int]:
    """First and one-past-last record of the packet containing ``pos``."""
    p = packet[pos]
    lo = int(np.searchsorted(packet, p, "left"))
    hi = int(np.searchsorted(packet, p, "right"))
    return lo, hi


class _Injector:
    """Applies defects one per segment of the file; each record carries a tag so that the
    truth positions can be read off after all inserts and deletes."""

    def __init__(self, sim: _Simulator, recs: np.ndarray, rng: random.Random):
        self.sim, self.recs, self.rng = sim, recs, rng
        self.packet = np.asarray(sim.packet[: len(recs)])
        self.tag = np.full(len(recs), -1, dtype=np.int64)
        self.drop = np.zeros(len(recs), dtype=bool)
        self.inserts: list[tuple[int, np.ndarray, int]] = []  # (before position, record, tag)
        self.pending: list[tuple[str, int, int, dict]] = []  # (kind, tag, inst, detail)

    def _single_packet_at(self, lo: int, hi: int, actions: bytes) -> int:
        """A position in [lo, hi) starting a one-record packet whose action is in ``actions``."""
        for _ in range(10_000):
            pos = self.rng.randrange(lo, hi)
            a, b = _packet_bounds(self.packet, pos)
            if b - a == 1 and self.recs["action"][a] in actions and self.tag[a] < 0:
                return a
        raise RuntimeError(f"no suitable packet in records {lo}..{hi}; write more records")

    def _add_cancelled_soon(self, lo: int, hi: int, side: bytes, within: int) -> tuple[int, int]:
        """An add (one-record packet) of ``side`` whose order is cancelled, untouched, within
        ``within`` records; returns (add position, cancel position)."""
        for _ in range(20_000):
            a = self._single_packet_at(lo, hi, (b"A",))
            if self.recs["side"][a] != side:
                continue
            life = self.sim.order_life.get(int(self.recs["order_id"][a]), [])
            if len(life) == 2 and self.recs["action"][life[1]] == b"C" and life[1] - a < within:
                return a, life[1]
        raise RuntimeError(f"no short-lived {side!r} order in records {lo}..{hi}")

    def inject(self, kind: str, lo: int, hi: int, tag: int) -> None:
        r = self.recs
        if kind == "gap":  # lose a whole add packet whose order is only ever cancelled
            a, _ = self._add_cancelled_soon(lo, hi, self.rng.choice((b"B", b"A")), 10**9)
            self.drop[a] = True
            nxt = a + 1 + int(np.argmax(r["channel_id"][a + 1:] == r["channel_id"][a]))
            self.tag[nxt] = tag
            self.pending.append((kind, tag, int(r["instrument_id"][a]),
                                 {"missing_sequence": [int(r["sequence"][a])] * 2}))
        elif kind == "out_of_order":  # two adjacent one-record packets of a channel swapped
            a = self._single_packet_at(lo, hi, (b"A", b"C", b"M"))
            ch = r["channel_id"][a]
            b = a + 1 + int(np.argmax(r["channel_id"][a + 1:] == ch))
            first, second = r[a].copy(), r[b].copy()
            r[a], r[b] = second, first
            self.tag[b] = tag  # the original `a`, now late: lower sequence and ts_recv
            self.pending.append((kind, tag, int(first["instrument_id"]),
                                 {"sequence": int(first["sequence"])}))
        elif kind == "duplicate_adjacent":  # the same event delivered twice, 2 us later
            a = self._single_packet_at(lo, hi, (b"A", b"C", b"M"))
            dup = r[a].copy()
            dup["ts_recv"] += 2_000
            self.inserts.append((a + 1, dup, tag))
            self.pending.append((kind, tag, int(dup["instrument_id"]), {"of_sequence": int(dup["sequence"])}))
        elif kind == "duplicate_replay":  # a byte-identical record replayed 200 records later
            a = self._single_packet_at(lo, hi - 300, (b"A", b"C", b"M"))
            self.inserts.append((a + 200, r[a].copy(), tag))
            self.pending.append((kind, tag, int(r["instrument_id"][a]), {"of_sequence": int(r["sequence"][a])}))
        elif kind == "bad_price":  # an add at price 0 (order later only cancelled)
            a, c = self._add_cancelled_soon(lo, hi, self.rng.choice((b"B", b"A")), 10**9)
            r["price"][a] = 0
            r["price"][c] = 0  # the exchange echoes the order's price on its cancel
            self.tag[a] = tag
            self.pending.append((kind, tag, int(r["instrument_id"][a]), {"price": 0}))
            self.tag[c] = tag + 1000  # second affected record, reported as the same defect
        elif kind == "price_jump":  # one trade printed 30 % off the market
            a = self._single_packet_at(lo, hi, (b"A",))  # find an area, then the next trade
            t = a + int(np.argmax(r["action"][a:] == b"T"))
            r["price"][t] = int(r["price"][t] * 1.3)
            self.tag[t] = tag
            self.pending.append((kind, tag, int(r["instrument_id"][t]), {"factor": 1.3}))
        elif kind == "crossed_book":  # a bid added 20 ticks through the best ask
            a, c = self._add_cancelled_soon(lo, hi, b"B", 60)
            inst = int(r["instrument_id"][a])
            best_ask = self.sim.best[a][1]
            if not best_ask:
                raise RuntimeError("crossed_book: no ask resting at the injection point")
            r["price"][a] = best_ask + 20 * self.sim._px(inst, self.sim.tick[inst])
            r["price"][c] = r["price"][a]
            self.tag[a] = tag
            self.pending.append((kind, tag, inst, {"until_cancel_tag": tag + 1000}))
            self.tag[c] = tag + 1000
        elif kind == "latency_spike":  # capture stalled 250 ms; the backlog arrives in a burst
            a = self._single_packet_at(lo, hi, (b"A", b"C", b"M"))
            stalled = int(r["ts_recv"][a]) + 250_000_000
            burst = (np.arange(len(r)) >= a) & (r["ts_recv"] < stalled)
            r["ts_recv"][burst] = stalled
            self.tag[a] = tag
            self.pending.append((kind, tag, int(r["instrument_id"][a]),
                                 {"latency_ns": int(stalled - r["ts_event"][a]),
                                  "burst_records": int(burst.sum())}))
        else:
            raise ValueError(f"unknown defect kind {kind!r}; known: {', '.join(DEFECT_KINDS)}")

    def finish(self) -> tuple[np.ndarray, list[Defect]]:
        recs, tags = self.recs[~self.drop], self.tag[~self.drop]
        keep_index = np.cumsum(~self.drop) - 1  # old position -> position after drops
        for before, rec, tag in sorted(self.inserts, key=lambda x: -x[0]):
            at = int(keep_index[min(before, len(keep_index) - 1)]) + (before >= len(keep_index))
            recs = np.insert(recs, at, rec)
            tags = np.insert(tags, at, tag)
        defects = []
        for kind, tag, inst, detail in self.pending:
            pos = np.flatnonzero(tags == tag)
            detail = dict(detail)
            if (tags == tag + 1000).any():
                detail["end_index"] = int(np.flatnonzero(tags == tag + 1000)[0])
            detail.pop("until_cancel_tag", None)
            defects.append(Defect(kind, int(pos[0]), inst, int(recs["channel_id"][pos[0]]), detail))
        defects.sort(key=lambda d: d.index)
        return recs, defects


def simulate(instruments: Sequence[str], n_records: int, seed: int,
             defects: Iterable[str] = (), start_ns: int = SESSION_START_NS,
             packet_gap_ns: tuple[int, int] = (20_000, 400_000), flows: Sequence[Flow] = ()
             ) -> tuple[np.ndarray, Truth]:
    """Simulate ``n_records`` MBO records (a few more: packets are not split) and inject
    ``defects`` (kinds from ``DEFECT_KINDS``, repeats allowed). Packets are spaced uniformly
    within ``packet_gap_ns`` (ns); ``flows`` plant one-sided aggressive trading (:class:`Flow`).
    Returns records and truth."""
    sim = _Simulator(list(instruments), seed, start_ns, packet_gap_ns, flows)
    recs = sim.run(n_records)
    kinds = list(defects)
    truth_defects: list[Defect] = []
    if kinds:
        if n_records < 2_000 * len(kinds):
            raise ValueError(f"{n_records} records are too few for {len(kinds)} defects; "
                             f"use at least {2_000 * len(kinds)}")
        inj = _Injector(sim, recs, random.Random(seed + 1))
        seg = len(recs) // len(kinds)
        for k, kind in enumerate(kinds):
            inj.inject(kind, k * seg + seg // 4, k * seg + seg // 2, tag=k)
        recs, truth_defects = inj.finish()
    return recs, Truth(Path(), len(recs), dict(sim.instruments), truth_defects)


def write_mbo_file(path: str | Path, instruments: Sequence[str] = ("ESZ6", "NQZ6", "CLF7"),
                   n_records: int = 50_000, seed: int = 0, defects: Iterable[str] = (),
                   block: int = 200_000, start_ns: int = SESSION_START_NS) -> Truth:
    """Write a realistic MBO DBN file of the full channels (metadata ``ALL_SYMBOLS``) whose
    first packet follows ``start_ns``, and return its :class:`Truth`.

    Above ``block`` records (clean files only) the simulation is tiled: each block starts
    with a book clear (``R``) per instrument, as Databento sends on a snapshot, and is shifted
    in time, sequence and order ids, so the whole file stays consistent.
    """
    kinds = list(defects)
    if n_records <= block or kinds:
        recs, truth = simulate(instruments, n_records, seed, kinds, start_ns=start_ns)
    else:
        recs, truth = _tiled(instruments, n_records, seed, block, start_ns)
    truth.path = write_records(path, recs, truth.instruments)
    return truth


def _tiled(instruments: Sequence[str], n_records: int, seed: int, block: int,
           start_ns: int = SESSION_START_NS) -> tuple[np.ndarray, Truth]:
    base, truth = simulate(instruments, block, seed, start_ns=start_ns)
    ids = sorted(truth.instruments)
    clears = np.zeros(len(ids), dtype=MBO_DTYPE)
    clears["length"], clears["rtype"], clears["publisher_id"] = 14, 160, PUBLISHER_GLBX
    clears["instrument_id"] = ids
    clears["action"], clears["side"], clears["price"], clears["flags"] = b"R", b"N", UNDEF_PRICE, F_LAST
    clears["channel_id"] = [k % 2 for k in range(len(ids))]
    for k, ch in enumerate(clears["channel_id"]):  # just before the channel's first packet
        clears["sequence"][k] = base["sequence"][base["channel_id"] == ch].min() - 1
    clears["ts_event"] = clears["ts_recv"] = base["ts_event"][0] - 1
    unit = np.concatenate([clears, base])
    span_t = int(unit["ts_recv"][-1] - unit["ts_event"][0]) + 1_000_000
    # sequence numbers are per channel, so each channel advances by its own span
    span_seq = np.zeros(len(unit), dtype=np.uint32)
    for ch in np.unique(unit["channel_id"]):
        on = unit["channel_id"] == ch
        span_seq[on] = unit["sequence"][on].max() - unit["sequence"][on].min() + 1
    span_oid = int(base["order_id"].max()) - 6_000_000_000 + 1
    n_blocks = -(-n_records // len(unit))
    out = np.empty(n_blocks * len(unit), dtype=MBO_DTYPE)
    live = unit["order_id"] != 0
    for b in range(n_blocks):
        part = out[b * len(unit):(b + 1) * len(unit)]
        part[:] = unit
        part["ts_event"] += b * span_t
        part["ts_recv"] += b * span_t
        part["sequence"] += b * span_seq
        part["order_id"][live] += b * span_oid
    out = out[:n_records]
    return out, Truth(Path(), len(out), truth.instruments, [])
