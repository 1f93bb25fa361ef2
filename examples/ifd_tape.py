"""The demo's IFD signals on the recorded market: flows planted for them, figures counted from the tape.

The IFD strategy fires on institutional flow: a burst of one-sided aggressive volume (window
volume well above the average window, MBO pressure in the signal's direction). For the demo to be
consistent, the market recording written by :mod:`examples.feed_workspace` holds that flow, and
the figures recorded with each signal it covers are what the recording's trades give:

* :func:`flows_for_signals` -- one :class:`~examples.dbn_fixtures.Flow` per IFD signal of a day
  in ``records/signals.csv``, over the detection window ending at its market event (aggressor
  ``B`` for a long signal, ``A`` for a short one); the simulator plants those falling in the
  recording and never reaches the others;
* :func:`recount_signals` -- for each IFD signal whose window lies inside the recording, rewrites
  ``buy_volume``, ``sell_volume``, ``window_volume`` and ``mbo_pressure`` from the trades
  (action ``T``, ``side`` = aggressor) in ``(event - W, event]``, and, when the
  ``baseline_windows`` windows before it are recorded too, ``avg_volume`` (their mean traded
  volume) and ``volume_ratio``. Signals outside the recording keep their figures (golive says
  "not recomputed" for them). ``mismatch=True`` (degraded demo) leaves the first covered
  signal's figures as the detector made them up: consistent with each other, not with the tape.

Counting is done here with numpy on the records as written, not with golive's reader, so the
check recounting them is compared with an independent count.
"""
from __future__ import annotations

import csv
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np

try:
    from .dbn_fixtures import Flow
except ImportError:  # imported as a top-level module (examples/ on sys.path)
    from dbn_fixtures import Flow

# golive.toml [settings] of the demo: the IFD detection window and its baseline
IFD_WINDOW_S = 60
IFD_BASELINE_WINDOWS = 5
FLOW_SHARE = 0.15  # share of packets that are the flow's trades: ~4-5x the usual traded volume


def _ns(text: str) -> int:
    delta = datetime.fromisoformat(text.replace("Z", "+00:00")) - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return ((delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds) * 1000  # exact, no float


def _event_ns(row: dict) -> int:
    return _ns(row["market_event_ts"] or row["ts"])


def _read(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _ifd(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["strategy"] == "ifd" and r["buy_volume"] != ""]


def flows_for_signals(signals_csv: Path, day: date, window_s: float = IFD_WINDOW_S) -> list[Flow]:
    """The flow each IFD signal of ``day`` reacted to: its window, its direction's aggressor."""
    width = int(window_s * 1e9)
    flows = []
    for r in _ifd(_read(signals_csv)[1]):
        end = _event_ns(r)
        if datetime.fromtimestamp(end / 1e9, timezone.utc).date() != day:
            continue
        # from just inside the window's start to just before the event: all of it counted
        flows.append(Flow(r["symbol"], end - int(width * 0.9), end - 1_000_000,
                          "B" if r["direction"] == "long" else "A", FLOW_SHARE))
    return flows


class _Tape:
    """Cumulative aggressor volumes per symbol of MBO records, windows (start, end] as golive's."""

    def __init__(self, recs: np.ndarray, instruments: dict[int, str]):
        # the file's span as its metadata gives it (first record) to the last event
        self.start = min(int(recs["ts_event"][0]), int(recs["ts_recv"][0]))
        self.end = int(recs["ts_event"].max())
        trades = recs[recs["action"] == b"T"]
        self.by_symbol = {}
        for iid, sym in instruments.items():
            mine = trades[trades["instrument_id"] == iid]
            mine = mine[np.argsort(mine["ts_event"], kind="stable")]
            size = mine["size"].astype(np.int64)
            self.by_symbol[sym] = (mine["ts_event"].astype(np.int64),
                                   *(np.concatenate([[0], np.cumsum(np.where(m, size, 0))])
                                     for m in (mine["side"] == b"B", mine["side"] == b"A", size >= 0)))

    def covers(self, start: int, end: int) -> bool:
        return self.start <= start and end <= self.end

    def volumes(self, sym: str, start: int, end: int) -> tuple[int, int, int]:
        ts, buy, sell, total = self.by_symbol[sym]
        lo, hi = np.searchsorted(ts, start, "right"), np.searchsorted(ts, end, "right")
        return int(buy[hi] - buy[lo]), int(sell[hi] - sell[lo]), int(total[hi] - total[lo])


def recount_signals(signals_csv: Path, recs: np.ndarray, instruments: dict[int, str],
                    window_s: float = IFD_WINDOW_S, baseline_windows: int = IFD_BASELINE_WINDOWS,
                    mismatch: bool = False) -> dict[str, list[str]]:
    """Set the recorded IFD figures of the signals the tape covers from its trades (see module doc).

    Returns ``{"recounted": ids with every figure from the tape, "pressure_only": ids whose
    baseline windows start before the recording, "mismatch": the id left as made up}``.
    """
    columns, rows = _read(signals_csv)
    tape, width = _Tape(recs, instruments), int(window_s * 1e9)
    out: dict[str, list[str]] = {"recounted": [], "pressure_only": [], "mismatch": []}
    for r in _ifd(rows):
        end = _event_ns(r)
        if r["symbol"] not in tape.by_symbol or not tape.covers(end - width, end):
            continue
        if mismatch and not out["mismatch"]:
            out["mismatch"].append(r["signal_id"])
            continue
        buy, sell, total = tape.volumes(r["symbol"], end - width, end)
        r.update(buy_volume=buy, sell_volume=sell, window_volume=total,
                 mbo_pressure=round((buy - sell) / (buy + sell), 6) if buy + sell else 0.0)
        base = [tape.volumes(r["symbol"], end - (k + 1) * width, end - k * width)[2]
                for k in range(1, baseline_windows + 1)]
        if not tape.covers(end - (baseline_windows + 1) * width, end) or not sum(base):
            out["pressure_only"].append(r["signal_id"])
            continue
        average = sum(base) / baseline_windows
        r.update(avg_volume=round(average, 6), volume_ratio=round(total / average, 6))
        out["recounted"].append(r["signal_id"])
    with open(signals_csv, "w", newline="") as fh:
        writer = csv.DictWriter(fh, columns)
        writer.writeheader()
        writer.writerows(rows)
    return out
