"""Benchmark: non-MBO quality checks (``schema_quality.check_other_file``) against
``DBNStore.to_df()`` + pandas doing the same checks, on one generated file.

The file is a consistent trades or mbp-1 stream (``examples/schema_fixtures.clean_quotes``,
tiled block by block so generating it stays small in memory), ``--records`` long (5 M
default), plain DBN v3. golive streams it in chunks; the pandas side loads it whole and
computes ts_recv regressions, per-instrument ts_event regressions, ts_event after ts_recv,
undefined / non-positive prices and zero sizes of A/M/T/F records, exact duplicates, price
jumps between an instrument's trades, and for mbp-1 the crossed/locked top of book and the
level price/size agreement. Prints records/s of each, the ratio, the process peak RSS after
the golive pass (before pandas runs), and asserts both found 0 defects. Run::

    .venv/bin/python benchmarks/bench_schemas.py [--schema trades|mbp-1] [--records 5000000]
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from examples.schema_fixtures import clean_quotes, metadata  # noqa: E402

from golive.plugins.feed.dbn_quality import QualityOptions  # noqa: E402
from golive.plugins.feed.schema_quality import DEFECT_METRICS, check_other_file  # noqa: E402

BLOCK = 250_000
UNDEF_PRICE = np.iinfo(np.int64).max


def write_file(path: Path, schema: str, n: int) -> None:
    """``n`` records in blocks: each block a fresh stream shifted after the previous one."""
    first = clean_quotes(schema, min(n, BLOCK), seed=0)
    with path.open("wb") as out:
        out.write(metadata(schema, {100 + k: f"ES{k}" for k in range(4)}, int(first["ts_event"][0])))
        shift, seq, k = 0, 0, 0
        while k < n:
            recs = clean_quotes(schema, min(BLOCK, n - k), seed=k // BLOCK)
            recs["ts_recv"] += np.uint64(shift)
            recs["ts_event"] += np.uint64(shift)
            recs["sequence"] += np.uint32(seq)
            shift = int(recs["ts_recv"][-1]) - int(recs["ts_recv"][0]) + shift + 10**6
            seq += 3 * len(recs)
            out.write(recs.tobytes())
            k += len(recs)


def pandas_checks(path: Path, schema: str, jump_ratio: float) -> dict[str, int]:
    import databento

    df = databento.DBNStore.from_file(path).to_df(price_type="fixed", pretty_ts=False,
                                                  map_symbols=False)
    recv = df.index.to_numpy()
    out = {"records": len(df), "ts_recv_regressions": int((np.diff(recv) < 0).sum()),
           "ts_event_after_recv": int((df["ts_event"].to_numpy() > recv).sum())}
    out["ts_event_regressions"] = int((df.groupby("instrument_id")["ts_event"].diff() < 0).sum())
    priced = df["action"].isin(["A", "M", "T", "F"])
    out["undefined_prices"] = int((priced & (df["price"] == UNDEF_PRICE)).sum())
    out["non_positive_prices"] = int((priced & (df["price"] < 1)).sum())
    out["zero_sizes"] = int((priced & (df["size"] == 0)).sum())
    out["duplicates_exact"] = int(df.reset_index().duplicated().sum())
    trades = df[df["action"] == "T"]
    change = trades.groupby("instrument_id")["price"].pct_change().abs()
    out["price_jumps"] = int((change > jump_ratio).sum())
    if schema == "mbp-1":
        bid, ask = df["bid_px_00"], df["ask_px_00"]
        both = (bid != UNDEF_PRICE) & (ask != UNDEF_PRICE)
        out["quote_crossed"] = int((both & (bid > ask)).sum())
        out["quote_locked"] = int((both & (bid == ask)).sum())
        bad = np.zeros(len(df), dtype=bool)
        for side in ("bid", "ask"):
            set_ = (df[f"{side}_px_00"] != UNDEF_PRICE).to_numpy()
            bad |= set_ == (df[f"{side}_sz_00"] == 0).to_numpy()
            bad |= set_ == (df[f"{side}_ct_00"] == 0).to_numpy()
        out["levels_inconsistent"] = int(bad.sum())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--schema", default="trades", choices=["trades", "mbp-1"])
    ap.add_argument("--records", type=int, default=5_000_000)
    ap.add_argument("--skip-pandas", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"bench.{args.schema}.dbn"
        write_file(path, args.schema, args.records)
        size_mib = path.stat().st_size / 2**20
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t0 = time.perf_counter()
        golive = check_other_file(path, QualityOptions())
        t_golive = time.perf_counter() - t0
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        m = golive["metrics"]
        assert m["records"] == args.records, m["records"]
        found = {k: m[k] for k in DEFECT_METRICS if m.get(k)}
        assert not found, found
        print(f"{args.schema}: {args.records:,} records, {size_mib:,.0f} MiB")
        print(f"golive check_other_file: {t_golive:6.2f} s  {args.records / t_golive / 1e6:6.2f} M records/s"
              f"  (peak RSS {rss_after:,.0f} MiB; {rss_before:,.0f} MiB before)")
        if args.skip_pandas:
            return
        t0 = time.perf_counter()
        ref = pandas_checks(path, args.schema, QualityOptions().jump_ratio)
        t_pandas = time.perf_counter() - t0
        rss_pandas = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        assert ref["records"] == args.records
        assert not {k: v for k, v in ref.items() if v and k != "records"}, ref
        print(f"DBNStore.to_df + pandas: {t_pandas:6.2f} s  {args.records / t_pandas / 1e6:6.2f} M records/s"
              f"  (peak RSS {rss_pandas:,.0f} MiB)")
        print(f"ratio golive / pandas: {t_pandas / t_golive:.1f}x faster")


if __name__ == "__main__":
    main()
