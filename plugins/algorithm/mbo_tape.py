"""Aggressor trade volume in a time window, recomputed from the target's DBN MBO events.

Shared by the MBO-pressure (PRE-ALGO-08, plan line 43) and volume-ratio (PRE-ALGO-12, plan
line 49) checks, so that they compare the team's recorded figures with golive's own count of
the market events instead of redoing the team's arithmetic on the team's numbers.

Databento MBO semantics: a trade is a record with ``action == 'T'``; its ``side`` is the
*aggressor's* side (``B`` = a buyer lifted the offer, ``A`` = a seller hit the bid, ``N`` =
no aggressor, counted in the total volume only). ``F`` (fill) records are the passive side of
the same trade and are not counted again. Instrument ids map to symbols through the file's
symbology (``symbols_by_instrument``).

Files are read with the feed plugin's validating reader (read-only use of
``golive.plugins.feed.dbn_reader``); a file whose metadata says it ends before the first
window or starts after the last one is not read. A window counts as *covered* only when it lies
inside the time span of one file that maps its symbol, and is counted from that one file (the
first in path order): files that overlap, such as a day's file beside a re-downloaded hour of
it, are never summed. A window the data does not cover is "not recomputed", never "zero volume".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from golive.plugins.feed.dbn_reader import (DBNFileError, DbnMboReader, MboRun, OtherSchemaError, read_metadata,
                                            symbols_by_instrument)
from golive.plugins.records.reader import RecordsError
from golive.run.target import inside_only

DBN_PATTERNS = ("*.dbn", "*.dbn.zst")


@dataclass
class Tape:
    """One file's trades of one symbol, sorted by ``ts_event`` (ns), with cumulative volumes for
    O(log n) windows; ``span`` = (start_ns, end_ns) of the file."""

    ts: np.ndarray
    buy: np.ndarray    # cumulative aggressive buy volume, cum[i] = sum of sizes of trades[:i]
    sell: np.ndarray
    total: np.ndarray
    span: tuple[int, int]

    def covers(self, start_ns: int, end_ns: int) -> bool:
        return self.span[0] <= start_ns and end_ns <= self.span[1]

    def window(self, start_ns: int, end_ns: int) -> dict[str, int]:
        """Volumes of the trades with start < ts_event <= end (the window ends at its event)."""
        lo, hi = np.searchsorted(self.ts, start_ns, "right"), np.searchsorted(self.ts, end_ns, "right")
        return {"buy": int(self.buy[hi] - self.buy[lo]), "sell": int(self.sell[hi] - self.sell[lo]),
                "total": int(self.total[hi] - self.total[lo]), "trades": int(hi - lo)}


@dataclass
class SymbolTapes:
    """A symbol's tapes, one per file. Files may overlap (a day file beside a re-downloaded
    hour of it): a window is counted from the first file that covers it whole, never summed
    across files, which would count the same trades twice."""

    parts: list[Tape] = field(default_factory=list)

    @property
    def spans(self) -> list[tuple[int, int]]:
        return [t.span for t in self.parts]

    def covers(self, start_ns: int, end_ns: int) -> bool:
        return any(t.covers(start_ns, end_ns) for t in self.parts)

    def window(self, start_ns: int, end_ns: int) -> dict[str, int]:
        return next(t for t in self.parts if t.covers(start_ns, end_ns)).window(start_ns, end_ns)


@dataclass
class TapeSet:
    tapes: dict[str, SymbolTapes]
    files: list[Path]
    skipped: list[str]  # "file: why" for files not used


def dbn_files(data_dir: Path) -> list[Path]:
    return sorted({p for pattern in DBN_PATTERNS for p in data_dir.rglob(pattern) if p.is_file()})


def _tape(blocks: list[np.ndarray], span: tuple[int, int]) -> Tape:
    rows = np.concatenate(blocks) if blocks else np.zeros(0, dtype=[("ts_event", "u8"), ("size", "u4"),
                                                                    ("side", "S1")])
    rows = rows[np.argsort(rows["ts_event"], kind="stable")]
    size = rows["size"].astype(np.int64)

    def cum(mask):
        return np.concatenate([[0], np.cumsum(np.where(mask, size, 0))])

    return Tape(ts=rows["ts_event"].astype(np.int64), buy=cum(rows["side"] == b"B"), sell=cum(rows["side"] == b"A"),
                total=cum(np.ones(len(rows), bool)), span=span)


def read_tapes(files: list[Path], symbols: set[str], first_ns: int, last_ns: int) -> TapeSet:
    """Trades of ``symbols`` from ``files``, one :class:`Tape` per file and symbol; only files
    overlapping [first_ns, last_ns] are read.

    A corrupt file raises :class:`RecordsError` naming it (the check turns it into ``error``).
    """
    tapes: dict[str, SymbolTapes] = {}
    used, skipped = [], []
    for path in files:
        try:
            meta = read_metadata(path)
            if (meta.end and meta.end < first_ns) or (meta.start and meta.start > last_ns):
                skipped.append(f"{path.name}: outside the signal windows")
                continue
            names = symbols_by_instrument(meta)
            wanted = {int(i): s for i, s in names.items() if s in symbols}
            if not wanted:
                skipped.append(f"{path.name}: maps none of the signals' symbols" if names
                               else f"{path.name}: no instrument-to-symbol mapping in its metadata")
                continue
            lo, hi, trades = None, None, []
            reader = DbnMboReader(path)
            for item in reader:
                if not isinstance(item, MboRun) or not len(item.records):
                    continue
                rec = item.records
                lo = int(rec["ts_event"].min()) if lo is None else min(lo, int(rec["ts_event"].min()))
                hi = int(rec["ts_event"].max()) if hi is None else max(hi, int(rec["ts_event"].max()))
                keep = rec[(rec["action"] == b"T") & np.isin(rec["instrument_id"], list(wanted))]
                if len(keep):
                    trades.append(keep[["instrument_id", "ts_event", "size", "side"]].copy())
        except OtherSchemaError:
            skipped.append(f"{path.name}: not MBO")
            continue
        except DBNFileError as exc:
            raise RecordsError(str(path), f"unreadable DBN file: {exc.problem}") from None
        if lo is None:
            skipped.append(f"{path.name}: no MBO records")
            continue
        span = (meta.start if meta.start else lo, meta.end if meta.end else hi)
        used.append(path)
        for iid, sym in wanted.items():
            mine = [m for m in (block[block["instrument_id"] == iid] for block in trades) if len(m)]
            tapes.setdefault(sym, SymbolTapes()).parts.append(_tape(mine, span))
    return TapeSet(tapes=tapes, files=used, skipped=skipped)


def window_seconds(ctx, param: str = "window_s") -> float | None:
    """The IFD detection window: check.params ``window_s``, else golive.toml ``[settings] ifd_window_s``."""
    value = ctx.params.get(param)
    if value is None:
        value = ctx.settings.get("ifd_window_s")
    return float(value) if value is not None else None


def not_recomputed(requirement, why: str, details: dict | None = None, configure: str = ""):
    """The non-pass result when golive could not recount the events itself; ``configure`` names
    the setting that would let it (the readiness verdict says "configure X")."""
    from golive.model import CheckResult, Status

    result = CheckResult(status=Status.MISSING, details=details or {},
                         message=f"{requirement.id}: team figures only, not recomputed ({why})")
    result.configure = configure
    return result


def signal_windows(requirement, ctx, sig, windows_before: int = 0):
    """For each signal row of ``sig`` (columns signal_id, symbol, ts, market_event_ts), the
    event volumes of its window ending at its market event (else its ts) and of the
    ``windows_before`` equal windows just before it.

    Returns ``(rows, tapes, not_covered)`` -- rows: ``{"signal_id", "row", "window", "before"}``
    -- or a ``missing`` CheckResult saying why nothing could be recomputed.
    """
    data_dir = ctx.target.root / ctx.params["data"] if ctx.params.get("data") else ctx.target.path("data")
    seconds = window_seconds(ctx)
    files = inside_only(ctx.target.root, dbn_files(data_dir)) if data_dir.is_dir() else []
    if not files:
        return not_recomputed(requirement, f"no DBN data: no *.dbn or *.dbn.zst under {data_dir.name}/")
    if seconds is None or seconds <= 0:
        return not_recomputed(requirement, "the IFD detection window is not configured: configure golive.toml "
                                           "[settings] ifd_window_s = <seconds> (or check.params.window_s)",
                              configure="golive.toml [settings] ifd_window_s")
    width = int(seconds * 1e9)
    ends = [int((e if e is not None and e == e else t).value) for e, t in zip(sig["market_event_ts"], sig["ts"])]
    span_before = width * (1 + windows_before)
    tapes = read_tapes(files, set(sig["symbol"]), min(ends) - span_before, max(ends))
    for path in tapes.files:
        ctx.record_artifact(path)
    rows, not_covered = [], []
    for (pos, r), end in zip(enumerate(sig.itertuples(index=False)), ends):
        tape = tapes.tapes.get(r.symbol)
        if tape is None or not tape.covers(end - span_before, end):
            not_covered.append(r.signal_id)
            continue
        before = [tape.window(end - (k + 1) * width, end - k * width) for k in range(1, windows_before + 1)]
        rows.append({"signal_id": r.signal_id, "row": r, "window": tape.window(end - width, end), "before": before,
                     "start_ns": end - span_before, "end_ns": end})
    if not rows:
        spans = sorted({f"{s}: {np.datetime64(a, 'ns')}..{np.datetime64(b, 'ns')}"
                        for s, t in tapes.tapes.items() for a, b in t.spans})
        return not_recomputed(requirement, f"no DBN data covers the windows of the {len(ends)} signals",
                              {"dbn_files": [p.name for p in files], "data_spans": spans[:20],
                               "files_not_used": tapes.skipped[:20], "window_s": seconds})
    return rows, tapes, not_covered


def observed_of(rows: list[dict], what: str) -> dict:
    """The engine's ``observed`` block: events = trades counted in the recomputed windows."""
    span = (min(r["start_ns"] for r in rows), max(r["end_ns"] for r in rows))
    iso = [str(np.datetime64(x, "ns")) + "Z" for x in span]
    return {"events": sum(r["window"]["trades"] + sum(b["trades"] for b in r["before"]) for r in rows),
            "first": iso[0], "newest": iso[1], "what": what}
