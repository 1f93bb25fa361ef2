"""DBN files of the non-MBO schemas (trades, mbp-1, ohlcv-1m, definition, ...) for tests and
benchmarks, written as Databento writes them: ``databento_dbn`` metadata of the schema and DBN
version asked for, then records in that version's dtype (``databento_dbn.v1``/``v2``/``v3``).

``blank(schema, n)`` gives ``n`` records with the header set and every price undefined, to be
filled in by the caller; ``write_schema_file`` writes them (``.zst`` compresses);
``clean_quotes`` simulates a consistent mbp-1 or trades stream of any length for benchmarks.

    recs = blank("ohlcv-1m", 3)
    recs["ts_event"] = START_NS + np.arange(3) * 60 * 10**9
    write_schema_file("bars.dbn", "ohlcv-1m", recs, {7: "ESH1"})
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import databento_dbn
import numpy as np

from golive.plugins.feed.schema_reader import RTYPES, record_dtype

UNDEF_PRICE = np.iinfo(np.int64).max
UNDEF_TS = np.iinfo(np.uint64).max
PX = 1_000_000_000  # DBN fixed-point price scale
START_NS = 1_609_160_400_000_000_000  # 2020-12-28 13:00 UTC, as the Databento test data
PRICE_FIELDS = ("price", "bid_px_", "ask_px_", "open", "high", "low", "close", "ref_price",
                "min_price_increment", "strike_price", "high_limit_price", "low_limit_price")


def blank(schema: str, n: int, version: int = 3, instrument_id: int = 1) -> np.ndarray:
    """``n`` records of ``schema`` with length, rtype, publisher 1 (GLBX) and
    ``instrument_id`` set, prices undefined and everything else zero."""
    recs = np.zeros(n, dtype=record_dtype(version, schema))
    recs["length"] = recs.dtype.itemsize // 4
    recs["rtype"] = RTYPES[schema]
    recs["publisher_id"] = 1
    recs["instrument_id"] = instrument_id
    for name in recs.dtype.names:
        if name.startswith(PRICE_FIELDS) and recs.dtype[name] == np.int64:
            recs[name] = UNDEF_PRICE
    if "expiration" in recs.dtype.names:
        recs["expiration"] = UNDEF_TS
    return recs


def metadata(schema: str, instruments: dict[int, str], start_ns: int, version: int = 3,
             dataset: str = "GLBX.MDP3", symbols: list[str] | None = None) -> bytes:
    """Metadata of a historical request for ``symbols`` (default: the instruments' raw
    symbols, a symbol-filtered request) mapping each raw symbol to its id for the day."""
    day = datetime.fromtimestamp(start_ns / 1e9, tz=timezone.utc).date()
    mappings = [SimpleNamespace(raw_symbol=sym, intervals=[SimpleNamespace(
        start_date=day, end_date=day + timedelta(days=1), symbol=str(iid))])
        for iid, sym in sorted(instruments.items())]
    requested = list(symbols) if symbols is not None else sorted(set(instruments.values()))
    meta = databento_dbn.Metadata(
        dataset=dataset, start=start_ns, stype_in=databento_dbn.SType.RAW_SYMBOL,
        stype_out=databento_dbn.SType.INSTRUMENT_ID, schema=databento_dbn.Schema(schema),
        symbols=requested, mappings=mappings, version=version)
    return bytes(meta)


def write_schema_file(path: str | Path, schema: str, recs: np.ndarray, instruments: dict[int, str],
                      version: int = 3, dataset: str = "GLBX.MDP3",
                      symbols: list[str] | None = None, extra: bytes = b"") -> Path:
    """Metadata + records (+ ``extra`` raw bytes); ``.zst`` compresses. The records must be in
    ``version``'s dtype (as :func:`blank` makes them)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    start = int(recs["ts_event"][0]) if len(recs) else START_NS
    payload = metadata(schema, instruments, start, version, dataset, symbols) + recs.tobytes() + extra
    if path.suffix == ".zst":
        import zstandard
        payload = zstandard.ZstdCompressor(level=3).compress(payload)
    path.write_bytes(payload)
    return path


def clean_quotes(schema: str, n: int, instruments: int = 4, seed: int = 0) -> np.ndarray:
    """A consistent stream of ``n`` trades or mbp-1 records over ``instruments`` ES-like
    instruments: ts_recv and ts_event rising, a 0.3 ms latency, a one-tick spread around a random walk,
    every tenth mbp-1 record a trade at the touch, sequence numbers rising per channel."""
    rng = np.random.default_rng(seed)
    recs = blank(schema, n)
    tick = PX // 4
    inst = rng.integers(0, instruments, n)
    recs["instrument_id"] = 100 + inst
    steps = rng.integers(-1, 2, n) * (rng.random(n) < 0.05)
    mid = np.zeros(n, np.int64)
    for k in range(instruments):  # a random walk per instrument, in ticks
        own = inst == k
        mid[own] = 24_000 + k * 400 + np.cumsum(steps[own])
    recv = START_NS + np.cumsum(rng.integers(1_000, 50_000, n)).astype(np.uint64)
    recs["ts_recv"] = recv
    # a jitter below the smallest gap between records keeps ts_event rising too
    recs["ts_event"] = recv - (300_000 + rng.integers(0, 900, n)).astype(np.uint64)
    recs["ts_in_delta"] = 20_000
    recs["sequence"] = 1_000_000 + np.arange(n) * 3
    recs["flags"] = 128
    side = rng.integers(0, 2, n)
    recs["side"] = np.where(side == 0, b"B", b"A")
    recs["size"] = rng.integers(1, 20, n)
    if schema == "trades":
        recs["action"] = b"T"
        recs["price"] = (mid + side) * tick
        return recs
    trade = rng.random(n) < 0.1
    recs["action"] = np.where(trade, b"T", b"A")
    recs["price"] = (mid + side) * tick
    recs["bid_px_00"], recs["ask_px_00"] = mid * tick, (mid + 1) * tick
    for name in ("bid_sz_00", "ask_sz_00", "bid_ct_00", "ask_ct_00"):
        recs[name] = rng.integers(1, 50, n)
    return recs
