"""Legitimate exchange structure in MBO test files, with exact truth: what a checker must count
and must not flag.

Built on :mod:`examples.dbn_fixtures` (same order-book simulation, real DBN via
``databento_dbn``). CME Globex facts used here, in America/Chicago (CT) wall time: trading runs
17:00-16:00 CT with a daily halt 16:00-17:00 CT; before the 17:00 reopen the pre-open takes
orders without matching, so the book may cross; the open is an auction whose uncross is one
packet of a trade and fills with side ``N`` (no ``F_LAST``), then a packet cancelling or
reducing the filled orders (as in the real ESH4 file of 2023-12-25).

Cases (each writes a file and returns :class:`~examples.dbn_fixtures.Truth` whose
``expected`` holds the exact figures):

* :func:`snapshot_prefix` — a book snapshot at file start (``F_SNAPSHOT``, ``ts_event`` the
  orders' original times hours earlier, one ``ts_recv``, ``F_LAST`` closing each instrument's
  book); the live data continues from that book.
* :func:`pre_open_crossing` — a crossed book in the pre-open (from 16:39:55 CT), uncrossed by
  the opening auction at 17:00 CT.
* :func:`auction_fills` — every instrument crosses just before the open; side-N fills.
* :func:`session_span` — a file across the daily halt and a holiday (early close on
  24 Dec 2026, closed 25 Dec, reopen Sunday 27 Dec 17:00 CT).
* :func:`continuous_gap` — :func:`session_span` with packets lost inside continuous trading.
* :func:`filtered_symbols` — one symbol's records out of a multi-symbol channel.
* :func:`duplicated_day` — the same day written as ``.dbn`` and ``.dbn.zst``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Sequence
from zoneinfo import ZoneInfo

import numpy as np

try:
    from .dbn_fixtures import (F_BAD_TS_RECV, F_LAST, F_SNAPSHOT, MBO_DTYPE, Defect, Truth,
                               _Simulator, write_records)
except ImportError:  # run as a script from examples/
    from dbn_fixtures import (F_BAD_TS_RECV, F_LAST, F_SNAPSHOT, MBO_DTYPE, Defect, Truth,
                              _Simulator, write_records)

CT = ZoneInfo("America/Chicago")
SNAPSHOT_FLAGS = F_SNAPSHOT | F_BAD_TS_RECV  # 40, as Databento marks snapshot records


def ct_ns(day: date, hhmmss: str) -> int:
    """CT wall time on ``day`` as UTC nanoseconds."""
    t = time.fromisoformat(hhmmss)
    return int(datetime.combine(day, t, tzinfo=CT).timestamp()) * 1_000_000_000


@dataclass(frozen=True)
class Phase:
    """A stretch of the simulated session: ``continuous`` trading or ``pre_open`` (orders,
    no matching). A continuous phase right after a pre-open one opens with the auction.
    ``crossing`` instruments get a bid and an ask through the book at ``cross_at_ns``."""

    kind: str
    start_ns: int
    end_ns: int
    n_packets: int | None = None  # default: one packet per 400 ms (no silence of 1 s)
    crossing: tuple[str, ...] = ()
    cross_at_ns: int | None = None


class _SessionSimulator(_Simulator):
    """The book simulation driven phase by phase: time jumps over closed periods, the
    pre-open does not match, the open uncrosses."""

    def __init__(self, symbols: Sequence[str], seed: int, start_ns: int):
        super().__init__(symbols, seed, start_ns)
        self.protected: set[int] = set()  # crossing pre-open orders: kept until the open
        self.auctions: list[dict] = []
        self.crossings: list[dict] = []
        self.by_symbol = {s: i for i, s in self.instruments.items()}

    def _pre_open_step(self) -> None:
        inst = self.rng.choice(self.ids)
        book = self.orders[inst]
        self.mid[inst] += self.rng.choice((-1, 0, 0, 1)) * self.tick[inst] * 0.5
        free = [o for o in book if o not in self.protected]
        r = self.rng.random()
        if len(free) < 12 or r < 0.5:
            self._add(inst)
        else:
            oid = self.rng.choice(free)
            side, price, size = book[oid]
            action, size = ("C", size) if r < 0.85 else ("M", max(1, size - 1))
            self._emit_packet(inst, [(action, side, oid, price, size)])

    def _cross(self, inst: int) -> None:
        """A bid 2 ticks through the best ask and an ask 2 ticks through the best bid."""
        bid, ask = self._best(inst)
        two = 2 * self._px(inst, self.tick[inst])
        for side, price in (("B", ask + two), ("A", bid - two)):
            self.next_order += 1
            self.protected.add(self.next_order)
            self._emit_packet(inst, [("A", side, self.next_order, price, self.rng.randint(2, 9))])
        self.crossings.append({"instrument_id": inst, "index": len(self.cols["length"]) - 2,
                               "ts_event": self.now})

    def _uncross(self, inst: int, at_ns: int) -> None:
        """Match the crossed pre-open book at one price: trade + side-N fills (no F_LAST),
        then the filled orders cancelled or reduced."""
        book = self.orders[inst]
        bids = sorted((o for o, v in book.items() if v[0] == "B"), key=lambda o: (-book[o][1], o))
        asks = sorted((o for o, v in book.items() if v[0] == "A"), key=lambda o: (book[o][1], o))
        left = {o: book[o][2] for o in bids + asks}
        filled: dict[int, int] = {}
        i = j = total = 0
        price = 0
        while i < len(bids) and j < len(asks) and book[bids[i]][1] >= book[asks[j]][1]:
            b, a = bids[i], asks[j]
            q = min(left[b], left[a])
            for o in (b, a):
                left[o] -= q
                filled[o] = filled.get(o, 0) + q
            total += q
            price = book[a][1]  # the last matched ask: every matched bid pays at least this
            i += left[b] == 0
            j += left[a] == 0
        if not total:
            return
        first = len(self.cols["length"])
        fills = [("F", "N", o, price, q) for o, q in filled.items()]
        self._emit_packet(inst, [("T", "N", 0, price, total), *fills], at_ns=at_ns, last_flag=False)
        done = [("C", book[o][0], o, book[o][1], book[o][2]) if left[o] == 0
                else ("M", book[o][0], o, book[o][1], left[o]) for o in filled]
        self._emit_packet(inst, done, at_ns=at_ns)
        self.auctions.append({"instrument_id": inst, "index": first, "price": price,
                              "size": total, "side_none_records": 1 + len(fills),
                              "records": len(self.cols["length"]) - first})

    def run_phases(self, phases: Sequence[Phase]) -> list[dict]:
        spans = []
        prev_kind = None
        for n, ph in enumerate(phases):
            first = len(self.cols["length"])
            n_packets = ph.n_packets or max(200, (ph.end_ns - ph.start_ns) // 400_000_000)
            gap = max(2, (ph.end_ns - ph.start_ns) // (n_packets + 1))
            self.packet_gap_ns = (gap // 2, gap + gap // 2)
            self.now = max(self.now, ph.start_ns)
            if n == 0:
                for inst in self.ids:
                    for _ in range(6):
                        self._add(inst, "B")
                        self._add(inst, "A")
            if ph.kind == "continuous" and prev_kind == "pre_open":
                for inst in self.ids:
                    self._uncross(inst, ph.start_ns)
                self.protected.clear()
            auction_end = len(self.cols["length"])
            todo = [self.by_symbol[s] for s in ph.crossing]
            packets = 0
            while packets < n_packets and self.now + self.packet_gap_ns[1] < ph.end_ns:
                if todo and self.now >= (ph.cross_at_ns or ph.start_ns):
                    self._cross(todo.pop(0))
                elif ph.kind == "pre_open":
                    self._pre_open_step()
                else:
                    self.step()
                packets += 1
            spans.append({"kind": ph.kind, "start_ns": ph.start_ns, "end_ns": ph.end_ns,
                          "first_index": first, "auction_records": auction_end - first,
                          "records": len(self.cols["length"]) - first})
            prev_kind = ph.kind
        return spans

    def records(self) -> np.ndarray:
        arr = np.empty(len(self.cols["length"]), dtype=MBO_DTYPE)
        for name in MBO_DTYPE.names:
            arr[name] = self.cols[name]
        return arr


def simulate_phases(instruments: Sequence[str], phases: Sequence[Phase], seed: int = 0
                    ) -> tuple[np.ndarray, Truth, _SessionSimulator]:
    """Records of ``phases`` (nothing between them: halts and holidays are silent) and their
    truth: per-phase record counts, the pre-open crossings and the opening auctions."""
    sim = _SessionSimulator(list(instruments), seed, phases[0].start_ns)
    spans = sim.run_phases(phases)
    recs = sim.records()
    auction = sum(s["auction_records"] for s in spans)
    expected = {
        "phases": spans,
        "continuous_records": sum(s["records"] for s in spans if s["kind"] == "continuous") - auction,
        "pre_open_records": sum(s["records"] for s in spans if s["kind"] == "pre_open"),
        "auction_records": auction, "halted_records": 0, "snapshot_records": 0,
        "side_none_fills": sum(a["side_none_records"] for a in sim.auctions),
        "auctions": sim.auctions, "crossings": sim.crossings,
        "pre_open_crossed_episodes": len(sim.crossings), "crossed_episodes": 0,
        "locked_episodes": 0, "sequence_gaps": 0, "unknown_order_events": 0,
        "closed": [(a["end_ns"], b["start_ns"]) for a, b in zip(spans, spans[1:])
                   if b["start_ns"] > a["end_ns"]],
    }
    return recs, Truth(Path(), len(recs), dict(sim.instruments), [], expected), sim


def _write(path, recs: np.ndarray, truth: Truth, **meta) -> Truth:
    truth.path = write_records(path, recs, truth.instruments, **meta)
    truth.n_records = len(recs)
    return truth


# -- the cases ------------------------------------------------------------------------------

def opening_phases(day: date, crossing: Sequence[str] = (), cross_at: str = "16:39:55",
                   before: bool = True, after_minutes: int = 10) -> list[Phase]:
    """Continuous 15:45-16:00 CT (when ``before``), the daily halt, pre-open 16:30-17:00 CT,
    the open at 17:00 CT and ``after_minutes`` of continuous trading."""
    out = [Phase("continuous", ct_ns(day, "15:45"), ct_ns(day, "16:00"))] if before else []
    out.append(Phase("pre_open", ct_ns(day, "16:30"), ct_ns(day, "17:00"), 1_000,
                     tuple(crossing), ct_ns(day, cross_at)))
    out.append(Phase("continuous", ct_ns(day, "17:00"),
                     ct_ns(day, "17:00") + after_minutes * 60_000_000_000))
    return out


def pre_open_crossing(path, instruments: Sequence[str] = ("ESH7", "NQH7"), seed: int = 0,
                      day: date = date(2026, 12, 21)) -> Truth:
    """The first instrument's pre-open book crosses at 16:39:55 CT and stays crossed until
    the 17:00 CT uncross (one pre-open crossed episode, no crossed episode in trading)."""
    recs, truth, _ = simulate_phases(instruments, opening_phases(day, instruments[:1]), seed)
    return _write(path, recs, truth)


def auction_fills(path, instruments: Sequence[str] = ("ESH7", "NQH7", "CLG7"), seed: int = 0,
                  day: date = date(2026, 12, 21)) -> Truth:
    """A file opening in the pre-open; every instrument crosses in its last minute and the
    open fills them with side ``N`` (``expected['side_none_fills']``)."""
    phases = opening_phases(day, instruments, cross_at="16:59:00", before=False)
    recs, truth, _ = simulate_phases(instruments, phases, seed)
    return _write(path, recs, truth)


def session_phases() -> list[Phase]:
    """Thursday 24 Dec 2026 until the early close (12:00 CT), closed over Christmas Day and
    the weekend, the pre-open and the Sunday 27 Dec 17:00 CT reopen."""
    d24, d27 = date(2026, 12, 24), date(2026, 12, 27)
    return [Phase("continuous", ct_ns(d24, "11:30"), ct_ns(d24, "12:00")),
            *opening_phases(d27, before=False)]


def session_span(path, instruments: Sequence[str] = ("ESH7", "NQH7"), seed: int = 0,
                 phases: Sequence[Phase] | None = None) -> Truth:
    """A file across closed time with nothing defective: by default the Christmas 2026
    holiday (:func:`session_phases`); ``opening_phases(day)`` spans the daily halt."""
    recs, truth, _ = simulate_phases(instruments, phases or session_phases(), seed)
    return _write(path, recs, truth)


def continuous_gap(path, instruments: Sequence[str] = ("ESH7", "NQH7"), seed: int = 0,
                   lost_packets: int = 3, phase: int = 0) -> Truth:
    """:func:`session_span` with ``lost_packets`` consecutive packets of one channel lost in
    the middle of continuous phase ``phase``: one gap, the exact missing range in the defect
    (the lost packets are adds of orders later only cancelled, so nothing else breaks but
    those cancels, which name an unknown order)."""
    recs, truth, sim = simulate_phases(instruments, session_phases(), seed)
    span = truth.expected["phases"][phase]
    if span["kind"] != "continuous":
        raise ValueError(f"phase {phase} is {span['kind']}, not continuous")
    lo = span["first_index"] + span["records"] // 3
    hi = span["first_index"] + 2 * span["records"] // 3
    packet = np.asarray(sim.packet)
    for start in range(lo, hi):
        run = _lost_run(recs, packet, sim.order_life, start, lost_packets)
        if run is not None:
            break
    else:
        raise RuntimeError("no run of cancelled-only adds to lose; use another seed")
    ch = recs["channel_id"][run[0]]
    nxt = run[-1] + 1 + int(np.argmax(recs["channel_id"][run[-1] + 1:] == ch))
    missing = [int(recs["sequence"][run[0]]), int(recs["sequence"][run[-1]])]
    keep = np.ones(len(recs), dtype=bool)
    keep[run] = False
    index = nxt - len(run)
    out = recs[keep]
    cancels = [sim.order_life[int(recs["order_id"][a])][1] for a in run]
    truth.defects = [Defect("gap", index, int(out["instrument_id"][index]), int(ch),
                            {"missing_sequence": missing, "lost_records": len(run),
                             "orphan_cancels": [c - len(run) for c in cancels]})]
    for s in truth.expected["phases"][phase + 1:]:
        s["first_index"] -= len(run)
    truth.expected["phases"][phase]["records"] -= len(run)
    truth.expected["continuous_records"] -= len(run)
    truth.expected.update(sequence_gaps=1, missing_sequences=missing[1] - missing[0] + 1,
                          unknown_order_events=len(run))
    return _write(path, out, truth)


def _lost_run(recs, packet, order_life, start: int, k: int) -> list[int] | None:
    """``k`` consecutive packets of ``start``'s channel, each one add whose order is later
    only cancelled; their record positions, or None."""
    ch = recs["channel_id"][start]
    run, pos = [], start
    while len(run) < k and pos < len(recs):
        if recs["channel_id"][pos] != ch:
            pos += 1
            continue
        single = (pos + 1 >= len(recs) or packet[pos + 1] != packet[pos]) and (
            pos == 0 or packet[pos - 1] != packet[pos])
        life = order_life.get(int(recs["order_id"][pos]), [])
        if not (single and recs["action"][pos] == b"A" and len(life) == 2
                and recs["action"][life[1]] == b"C"):
            return None
        run.append(pos)
        pos += 1
    return run if len(run) == k else None


def snapshot_prefix(path, instruments: Sequence[str] = ("ESH7", "NQH7"), n_records: int = 20_000,
                    seed: int = 0, hours_earlier: int = 6, day: date = date(2026, 12, 22)) -> Truth:
    """A book snapshot, then live continuous trading from 09:00 CT continuing that book.

    The snapshot holds every order resting after a warm-up (the warm-up itself is not in the
    file): ``ts_event`` its add time moved ``hours_earlier`` back, ``sequence`` the last one
    that touched it, ``ts_recv`` the request start (the minute of the first live record)."""
    start = ct_ns(day, "09:00")
    sim = _SessionSimulator(list(instruments), seed, start)
    sim.run_phases([Phase("continuous", start, start + 600_000_000_000, n_records)])
    recs = sim.records()
    packet = np.asarray(sim.packet)
    cut = int(np.searchsorted(packet, packet[len(recs) // 4]))  # a packet boundary
    resting: dict[int, list] = {}  # order id -> [inst, side, price, size, ch, seq, add ts]
    for r in recs[:cut]:
        oid = int(r["order_id"])
        a = r["action"]
        if a == b"A":
            resting[oid] = [int(r["instrument_id"]), r["side"], int(r["price"]), int(r["size"]),
                            int(r["channel_id"]), int(r["sequence"]), int(r["ts_event"])]
        elif a == b"C":
            resting.pop(oid, None)
        elif a == b"M":
            resting[oid][2:4] = [int(r["price"]), int(r["size"])]
            resting[oid][5] = int(r["sequence"])
    live = recs[cut:]
    recv = int(live["ts_event"][0]) // 60_000_000_000 * 60_000_000_000
    order = sorted(resting, key=lambda o: (resting[o][0], resting[o][1] == b"A",
                                           -resting[o][2] if resting[o][1] == b"B" else resting[o][2]))
    snap = np.zeros(len(order), dtype=MBO_DTYPE)
    snap["length"], snap["rtype"], snap["publisher_id"] = 14, 160, 1
    snap["action"], snap["flags"], snap["ts_recv"] = b"A", SNAPSHOT_FLAGS, recv
    rows = [resting[o] for o in order]
    for k, name in enumerate(("instrument_id", "side", "price", "size", "channel_id",
                              "sequence", "ts_event")):
        snap[name] = [row[k] for row in rows]
    snap["order_id"] = order
    snap["ts_event"] -= hours_earlier * 3_600_000_000_000
    last_of_inst = np.flatnonzero(np.r_[snap["instrument_id"][1:] != snap["instrument_id"][:-1], True])
    snap["flags"][last_of_inst] |= F_LAST
    out = np.concatenate([snap, live])
    expected = {"snapshot_records": len(snap), "live_first_index": len(snap),
                "snapshot_ts_recv": recv, "continuous_records": len(live),
                "pre_open_records": 0, "halted_records": 0, "side_none_fills": 0,
                "sequence_gaps": 0, "late_records": 0, "ts_event_regressions": 0,
                "ts_recv_regressions": 0, "crossed_episodes": 0, "unknown_order_events": 0,
                "max_live_latency_ns": int((live["ts_recv"] - live["ts_event"]).max())}
    truth = Truth(Path(), len(out), dict(sim.instruments), [], expected)
    return _write(path, out, truth)


def filtered_symbols(path, instruments: Sequence[str] = ("ESH7", "NQH7", "CLG7", "GCG7"),
                     keep: str = "ESH7", n_packets: int = 6_000, seed: int = 0,
                     day: date = date(2026, 12, 22)) -> Truth:
    """Only ``keep``'s records of a channel shared with other instruments, as a
    symbol-filtered request writes them (metadata lists ``keep``, not ALL_SYMBOLS): the
    channel's sequence numbers skip the other instruments' packets."""
    phases = [Phase("continuous", ct_ns(day, "09:00"), ct_ns(day, "09:30"), n_packets)]
    recs, truth, sim = simulate_phases(instruments, phases, seed)
    iid = sim.by_symbol[keep]
    out = recs[recs["instrument_id"] == iid]
    seq = out["sequence"].astype(np.int64)
    steps = np.diff(seq)
    truth.expected = {"filtered": True, "symbols": [keep], "records": len(out),
                      "sequence_steps": int(np.count_nonzero(steps > 0)),
                      "sequence_jumps": int(np.count_nonzero(steps > 1)),
                      "numbers_skipped": int((steps[steps > 1] - 1).sum())}
    truth.instruments = {iid: keep}
    return _write(path, out, truth, symbols=[keep])


def duplicated_day(directory, instruments: Sequence[str] = ("ESH7", "NQH7"), seed: int = 0,
                   day: date = date(2026, 12, 22)) -> tuple[Truth, Truth]:
    """One session day (close, halt, pre-open crossing, the open: :func:`opening_phases`)
    written twice: ``<day>.mbo.dbn`` and ``<day>.mbo.dbn.zst``, identical metadata and
    records; ``expected['files_duplicate_coverage'] == 1``."""
    phases = opening_phases(day, instruments[:1])
    recs, truth, _ = simulate_phases(instruments, phases, seed)
    truth.expected["files_duplicate_coverage"] = 1
    stem = Path(directory) / f"glbx-mdp3-{day:%Y%m%d}.mbo"
    span = {"start_ns": phases[0].start_ns, "end_ns": phases[-1].end_ns}
    plain = _write(f"{stem}.dbn", recs, truth, **span)
    zst = Truth(Path(), len(recs), dict(truth.instruments), [], dict(truth.expected))
    return plain, _write(f"{stem}.dbn.zst", recs, zst, **span)
