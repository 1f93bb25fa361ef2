"""DBN files as Databento writes them: the metadata header of a historical request and the
records after it (``databento_dbn`` encodes the header; ``.zst`` paths are zstd-compressed).
Used by :mod:`examples.dbn_fixtures` and :mod:`examples.dbn_sessions_fixtures`."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import databento_dbn
import numpy as np

# Start of the simulated session: 2026-11-02 14:30 UTC (US cash open), in ns.
SESSION_START_NS = 1_793_629_800_000_000_000
F_SNAPSHOT = 32


ALL_SYMBOLS = "ALL_SYMBOLS"


def metadata_bytes(instruments: dict[int, str], start_ns: int, end_ns: int | None = None,
                   dataset: str = "GLBX.MDP3", symbols: Sequence[str] | None = None,
                   stype_in: str = "raw_symbol") -> bytes:
    """DBN metadata as Databento writes it for a historical request.

    ``symbols=None`` is a full-channel request (``symbols=["ALL_SYMBOLS"]``, ``stype_in``
    raw_symbol): the mappings then name every instrument in the file, raw symbol -> instrument
    id. A symbol list is a filtered request: with ``stype_in="raw_symbol"`` each listed raw
    symbol maps to its id; with ``stype_in="parent"`` (``["ES.FUT"]``) each parent maps to the
    ids of all its contracts (one interval per child, as ``symbology.resolve`` returns them).
    """
    from datetime import datetime, timedelta, timezone
    from types import SimpleNamespace

    day = datetime.fromtimestamp(start_ns / 1e9, tz=timezone.utc).date()
    end_day = (datetime.fromtimestamp(end_ns / 1e9, tz=timezone.utc).date() if end_ns else day)
    days = [day + timedelta(days=k) for k in range((end_day - day).days + 1)]

    def intervals(iids):  # one interval per UTC day and instrument, [day, next day)
        return [SimpleNamespace(start_date=d, end_date=d + timedelta(days=1), symbol=str(i))
                for i in iids for d in days]

    by_symbol = {sym: iid for iid, sym in instruments.items()}
    if symbols is None or list(symbols) == [ALL_SYMBOLS]:
        requested, stype_in = [ALL_SYMBOLS], "raw_symbol"
        keys = {sym: [iid] for sym, iid in sorted(by_symbol.items())}
    elif stype_in == "parent":  # "ES.FUT" -> every ESxx contract in the file
        requested = list(symbols)
        keys = {p: sorted(i for s, i in by_symbol.items() if s.startswith(p.split(".")[0]))
                for p in requested}
    elif stype_in == "raw_symbol":
        requested = list(symbols)
        keys = {s: [by_symbol[s]] for s in requested if s in by_symbol}
    else:
        raise ValueError(f"stype_in {stype_in!r}: use 'raw_symbol' or 'parent'")
    mappings = [SimpleNamespace(raw_symbol=k, intervals=intervals(v)) for k, v in keys.items() if v]
    meta = databento_dbn.Metadata(
        dataset=dataset, start=start_ns, end=end_ns, stype_in=databento_dbn.SType(stype_in),
        stype_out=databento_dbn.SType.INSTRUMENT_ID, schema=databento_dbn.Schema.MBO,
        symbols=requested, mappings=mappings,
        not_found=[s for s in requested if s != ALL_SYMBOLS and s not in keys])
    return bytes(meta)


def write_records(path: str | Path, recs: np.ndarray, instruments: dict[int, str],
                  extra: bytes = b"", symbols: Sequence[str] | None = None,
                  stype_in: str = "raw_symbol", start_ns: int | None = None,
                  end_ns: int | None = None) -> Path:
    """Write metadata + records (+ ``extra`` raw record bytes) as DBN; ``.zst`` compresses.
    ``symbols``/``stype_in`` are the request's (default: the full channel, ALL_SYMBOLS);
    ``start_ns`` defaults to the first record's ``ts_event`` (its ``ts_recv`` when that is
    earlier: a snapshot's orders are older than the request)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if start_ns is None:
        start_ns = (min(int(recs["ts_event"][0]), int(recs["ts_recv"][0])) if len(recs)
                    else SESSION_START_NS)
        if len(recs) and recs["flags"][0] & F_SNAPSHOT:
            start_ns = int(recs["ts_recv"][0])
    payload = (metadata_bytes(instruments, start_ns, end_ns, symbols=symbols, stype_in=stype_in)
               + recs.tobytes() + extra)
    if path.suffix == ".zst":
        import zstandard
        payload = zstandard.ZstdCompressor(level=3).compress(payload)
    path.write_bytes(payload)
    return path
